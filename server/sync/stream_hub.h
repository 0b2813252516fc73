// StreamHub: serves GET /api/v1/sync/stream. One thread with an epoll loop
// owns every live stream socket and fans each new event out to them; no
// thread is held, or woken, per stream.
//
// A stream's life:
//   1. A request thread (after the router's access checks) takes the socket
//      from the HTTP server and calls Serve().
//   2. Serve() subscribes the stream to its workspace *first* (the hub queues
//      live frames for it from then on), then writes the response head, the
//      `connected` frame and the backlog from the change log (replay).
//   3. It hands the stream to the hub with the last seq it sent; the hub
//      drops queued frames at or below it and sends the rest. So a resume has
//      no gap and no duplicate even while writes land during the replay.
//   4. The hub writes frames with non-blocking sends, batching whatever is
//      pending; a client whose unsent backlog exceeds the limit is told
//      {"type":"closed","reason":"slow_consumer"} and disconnected (it resumes
//      by Last-Event-ID). All streams together may hold at most a budget of
//      unsent bytes; past it the furthest behind are cut off the same way,
//      so many slow readers cannot add up to gigabytes. Silence is broken by
//      `: heartbeat` comments.
//   5. The stream ends with a {"type":"closed", "reason": ...} frame when the
//      member is removed, the token revoked or expired, the workspace deleted
//      or the server shuts down.
//
// Events reach the hub through the Bus (heads only); the hub reads the
// events themselves from the store, and also re-checks heads periodically,
// so a lost doorbell delays a delivery but never loses it. Those reads run
// on a LogReader thread, never on the epoll thread: a slow query delays the
// workspace that waits for it, not every stream. The hub keeps one read per
// workspace in flight and applies its rows only if they start where the
// workspace's cursor stands, so late rows are never sent out of order or
// twice.
//
// Split across files: stream_hub.cpp is the hub thread (subscriptions,
// fan-out, the epoll loop, closing), stream_replay.cpp the request thread
// (steps 1 to 3); sync/stream_buffer.h holds a stream's unsent bytes and
// their accounting, sync/presence.h who is online, sync/log_reader.h the
// reads.
#pragma once

#include "bus/bus.h"
#include "http/transport.h"
#include "mgteam/model.h"
#include "metrics.h"
#include "store/store.h"
#include "sync/log_reader.h"
#include "sync/presence.h"
#include "sync/slots.h"
#include "sync/stream_buffer.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mgteam::server {

struct StreamHubOptions {
  std::chrono::milliseconds heartbeat{15000};
  size_t max_backlog_bytes = 1 << 20;  // per stream, unsent
  // All streams' unsent bytes together: past it, the furthest behind are cut
  // off as slow consumers until a quarter is free (0: no budget).
  size_t max_total_backlog_bytes = 256u << 20;
  size_t socket_send_buffer = 128 << 10;
  int64_t retry_ms = 1000;             // the `retry:` hint
  std::chrono::milliseconds head_check{2000};
  // Several instances (docs/deploy.md): how often this one retells the
  // others its presence counts, and after how long without a word another
  // instance's counts are forgotten (it crashed).
  std::chrono::milliseconds presence_retell{5000};
  std::chrono::milliseconds presence_forget{20000};
  // Several instances: how often live streams' tokens are checked against
  // the database, in case a revocation's hint was lost between instances.
  std::chrono::milliseconds token_recheck{30000};
  std::chrono::seconds replay_write_timeout{30};
  // Caps (docs/security.md, "Streams"): one account cannot hold every file
  // descriptor. 0: no cap.
  size_t max_streams_per_user = 32;
  size_t max_streams = 0;
};

struct StreamRequest {
  std::unique_ptr<Transport> transport;  // owned by the hub from the call on
  std::string workspace_id;
  std::string user_id;
  std::string token_id;
  // When the token stops working: the stream ends then (reason token_expired).
  std::optional<std::chrono::system_clock::time_point> token_expires;
  std::optional<int64_t> since;       // Last-Event-ID (preferred) or ?since=
  std::optional<std::string> epoch;   // ?epoch=
  std::shared_ptr<void> slot;         // from Reserve(); released when the stream ends
};

class StreamHub final : public BusListener {
 public:
  StreamHub(Store& store, Metrics& metrics, StreamHubOptions options);
  ~StreamHub() override;

  Status Start();
  // Ends every stream with a `closed` frame (reason server_shutdown), stops
  // the loop. Idempotent.
  void Shutdown();

  // Counts a stream for `user_id` against the caps before its socket is
  // taken: the returned slot is released when the stream ends (or when the
  // caller drops it). 429 too_many_streams over the per-user cap, 503
  // stream_capacity over the server's.
  Result<std::shared_ptr<void>> Reserve(const std::string& user_id);

  // On a request thread; returns once the hub owns the stream or it ended.
  void Serve(StreamRequest request);

  // Who has a live stream open, per workspace (any thread). Changes are
  // announced on the other members' streams as `presence_changed` frames.
  const Presence& presence() const { return presence_; }

  // BusListener (any thread).
  void OnAdvance(const std::string& workspace_id, int64_t head_seq) override;
  void OnWorkspaceDeleted(const std::string& workspace_id) override;
  void OnTokenRevoked(const std::string& token_id) override;
  // The bus was away (docs/deploy.md): hints from other instances may be
  // lost. Every active workspace's head is checked at once, and every live
  // stream's token again (a revocation on another instance announces itself
  // only over the bus), on the token checker's thread.
  void OnBusReconnected() override;
  void OnPresenceElsewhere(const std::string& origin, const std::string& ws, const std::string& user, int streams,
                           const std::string& last_seen) override;
  // The bus shared with other instances (none when this one is alone): the
  // hub tells them its presence counts over it, and checks live streams'
  // tokens now and then, since a revocation's hint can be lost between
  // instances. Before Start().
  void SetBus(Bus* bus) { bus_ = bus; }

  struct Stream;
  struct Frame;

 private:
  struct WorkspaceState;
  struct Command;

  void Loop();
  void Post(Command c);
  void Wake();
  void RunCommands();
  // A head announced for `ws` (doorbell or head check): reads on from its
  // cursor unless a read is already in flight.
  void Announce(const std::string& ws, int64_t head, std::chrono::steady_clock::time_point noticed);
  void ReadMore(const std::string& ws, WorkspaceState& w);
  void OnRows(LogReader::Rows& r);
  void OnHeads(LogReader::Heads& h);
  void FanOut(WorkspaceState& w, std::vector<EventRow>& rows);
  void Heartbeats(std::chrono::steady_clock::time_point now);
  void Queue(const std::shared_ptr<Stream>& s, const std::shared_ptr<const Frame>& f);
  void Append(const std::shared_ptr<Stream>& s, const std::string& bytes,
              std::chrono::steady_clock::time_point noticed, bool change);
  void FlushDirty();
  void Flush(Stream& s);
  void Watch(Stream& s, bool writable);
  void CheckBacklog(Stream& s);
  void CutOff(Stream& s, const char* why);
  void ShedBacklog();
  // Ends a live stream at once, without a closing frame (the budget).
  void Drop(Stream& s, const char* why);
  void Close(Stream& s, const std::string& reason);
  void CloseWorkspace(const std::string& ws, const std::string& reason);
  void Remove(Stream& s);
  void Activate(const std::shared_ptr<Stream>& s, int64_t last_sent, bool& need_more);
  void NotePresence(Stream& s, int delta);
  // Sends a presence frame to `ws`'s live streams, except `user`'s own.
  void Announce(const std::string& ws, const std::string& user, const std::string& frame);
  // Retells other instances this one's counts; forgets silent instances'.
  void RetellPresence(std::chrono::steady_clock::time_point now);

  Store& store_;
  Metrics& metrics_;
  const StreamHubOptions options_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;

  // Shared with other threads.
  std::mutex mu_;
  std::vector<Command> commands_;
  std::map<std::string, int64_t> dirty_;  // workspace -> newest head announced
  std::map<std::string, std::chrono::steady_clock::time_point> dirty_since_;
  bool stopped_ = false;
  std::shared_ptr<Slots> streams_slots_;
  Presence presence_;
  bool catch_up_ = false;  // a head check is due now (the bus came back)
  Bus* bus_ = nullptr;
  // The tokens of live streams: token id -> (user id, streams), which a
  // thread of their own checks against the database every token_recheck and
  // after a bus outage, when there are other instances.
  std::mutex tokens_mu_;
  std::map<std::string, std::pair<std::string, int>> live_tokens_;
  std::condition_variable tokens_cv_;
  bool tokens_due_ = false;
  bool tokens_stop_ = false;
  std::thread token_checker_;
  void CheckTokens();
  void TokenCheckLoop();

  // Hub thread only. backlog_ before streams_: a stream gives its bytes back
  // when it goes.
  Backlog backlog_;
  std::map<std::string, std::unique_ptr<WorkspaceState>> workspaces_;
  std::map<int, std::shared_ptr<Stream>> streams_;  // live and replaying, by fd
  std::vector<std::unique_ptr<Transport>> to_close_;  // closed after an epoll batch
  std::vector<std::shared_ptr<Stream>> to_flush_;    // streams with newly queued output
  uint64_t last_ticket_ = 0;  // of the reads asked of reader_
  bool heads_asked_ = false;  // a head check is in flight
  std::chrono::steady_clock::time_point next_head_check_;
  std::chrono::steady_clock::time_point next_heartbeat_scan_;
  std::chrono::steady_clock::time_point next_presence_retell_;

  // Last: its thread calls back into the members above until it stops.
  LogReader reader_;
};

}  // namespace mgteam::server
