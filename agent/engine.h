// SyncEngine: what mgteam-agent runs. It keeps the replica of every
// workspace the user belongs to current and empties the outbox:
//
//   discovery  lists the user's workspaces every `discover_interval` (and on
//              demand): a new team gets a follower, a team the user left is
//              purged from disk;
//   follower   one per workspace: catches up by polling (a snapshot first if
//              needed), then follows the live stream from the replica's
//              cursor; a `reset` reloads the snapshot (pending writes kept), a
//              `closed` for membership/deletion purges the workspace;
//   flusher    sends pending ops in order per workspace whenever nudged (a
//              CLI write, a reconnect) and at least every second, with
//              backoff on network errors.
//
// Thread-safety: all public methods may be called from any thread.
#pragma once

#include "client_config.h"
#include "replica.h"

#include "mgteam/api_client.h"
#include "mgteam/stream_client.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace mgteam::agent {

struct EngineOptions {
  ServerUrl server;
  std::string token;
  std::chrono::milliseconds discover_interval{30000};
  std::chrono::milliseconds heartbeat_timeout{45000};
};

class SyncEngine {
 public:
  SyncEngine(EngineOptions options, Replica& replica);
  ~SyncEngine();

  // Checks the token (GET /me), binds the replica to the user, and starts the
  // threads. Fails if the token is not valid; a server that does not answer
  // is fine (it keeps trying).
  Status Start();
  void Stop();

  void NudgeFlush();
  void NudgeSync();
  // Blocks until op `op_id` is no longer pending, or the timeout.
  std::string WaitOp(const std::string& op_id, std::chrono::milliseconds timeout);
  // Blocks until `done()` holds (re-checked after every apply, flush and
  // purge), or the timeout. Returns whether it held.
  bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  json StatusJson();

 private:
  struct Follower;
  void Discovery();
  void Follow(Follower* f);
  void FlushLoop();
  ApiClient Api() const;
  void StartFollower(const std::string& ws);
  void Note(const std::string& ws, const std::string& state, const std::string& error);

  const EngineOptions options_;
  Replica& replica_;
  std::atomic<bool> stopping_{false};
  std::string started_at_;
  std::string user_;  // under mu_: written by Start and the discovery thread, read by the local API
  std::string User();

  std::mutex mu_;
  std::condition_variable wake_discovery_;
  std::condition_variable wake_flush_;
  std::condition_variable op_changed_;
  bool flush_requested_ = false;
  bool sync_requested_ = false;
  std::string auth_error_;
  std::string flush_error_;
  std::map<std::string, std::unique_ptr<Follower>> followers_;

  std::thread discovery_;
  std::thread flusher_;
};

}  // namespace mgteam::agent
