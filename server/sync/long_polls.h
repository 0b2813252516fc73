// LongPolls: where `GET .../events?wait=N` requests wait, holding no thread.
//
// A poll with nothing to answer yet parks its request (HttpServer::Park) here
// and its worker goes back to the pool. It is resumed — served again from its
// head on a worker, so the router re-checks the token and the membership —
// when the first of these happens:
//   - its workspace's log passes the head the poll last saw (the Bus);
//   - its deadline comes;
//   - its token is revoked, or the workspace deleted (it answers 401 / 404
//     at once instead of at the deadline);
//   - the server shuts down (it answers with what there is).
// A poll whose client hangs up (or half-closes) is dropped at once, so
// connect-and-close cannot hold the caps' slots. Waiting polls cost a file
// descriptor and their connection's buffer each; the caps (per account and in
// all) bound those, not worker threads (docs/security.md, "Long-polls").
// One thread watches the sockets and the deadlines (epoll).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include "bus/bus.h"
#include "http/http_server.h"
#include "metrics.h"
#include "mgteam/status.h"
#include "sync/slots.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace mgteam::server {

struct LongPollOptions {
  size_t max_per_user = 4;  // 0: no cap
  size_t max_total = 1024;  // 0: no cap
};

class LongPolls final : public BusListener {
 public:
  using Clock = std::chrono::steady_clock;

  LongPolls(LongPollOptions options, Metrics& metrics);
  ~LongPolls() override;

  Status Start();
  // Resumes every parked poll now; polls parked later are resumed at once.
  void Shutdown();
  bool stopped() const;

  // Counts a poll for `user_id` against the caps before it parks; released
  // when the last copy of the slot is dropped (the poll answered). 429
  // too_many_long_polls over either cap.
  Result<std::shared_ptr<void>> Reserve(const std::string& user_id);

  struct Wait {
    std::string workspace_id;
    int64_t seen_head = 0;  // resume when the log's head passes this
    std::string token_id;   // resume when it is revoked
    Clock::time_point deadline;  // the poll's, or its token's expiry if sooner
  };
  // Takes the parked request and resumes it as described above.
  void Park(std::unique_ptr<ParkedRequest> request, Wait wait);

  size_t waiting() const;

  // BusListener (any thread, often the committing one: cheap).
  void OnAdvance(const std::string& workspace_id, int64_t head_seq) override;
  void OnWorkspaceDeleted(const std::string& workspace_id) override;
  void OnTokenRevoked(const std::string& token_id) override;

 private:
  struct Entry {
    std::unique_ptr<ParkedRequest> request;
    Wait wait;
  };
  void Loop();
  void NoteGoneLocked(const std::string& token_or_workspace_id);
  // Removes the entry from every index (mu_ held) and returns its request.
  std::unique_ptr<ParkedRequest> TakeLocked(uint64_t id);
  // Removes every entry matching `pred` (mu_ held).
  template <typename Pred>
  std::vector<std::unique_ptr<ParkedRequest>> TakeIfLocked(Pred pred);
  template <typename Pred>
  void ResumeGone(const std::string& token_or_workspace_id, Pred waited_on_it);
  static void ResumeAll(std::vector<std::unique_ptr<ParkedRequest>> requests);

  const LongPollOptions options_;
  Metrics& metrics_;
  std::shared_ptr<Slots> slots_;
  mutable std::mutex mu_;
  int epoll_ = -1;
  int wake_ = -1;  // eventfd: a new earliest deadline, or stop
  bool stopped_ = false;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Entry> parked_;
  std::multimap<std::string, uint64_t> by_workspace_;
  std::set<std::pair<Clock::time_point, uint64_t>> by_deadline_;
  // The newest head announced per workspace: a poll that parks after an
  // advance it did not see is resumed at once instead of missing it.
  std::map<std::string, int64_t> heads_;
  // Tokens revoked and workspaces deleted lately (ids are UUIDs: one map).
  std::map<std::string, Clock::time_point> gone_;
  std::thread thread_;
};

}  // namespace mgteam::server
