// The agent's local API: HTTP over a Unix socket in a private (0700)
// directory, for the CLI on the same machine. Routes:
//   GET  /status                   what the agent is doing (JSON)
//   POST /flush[?wait=OP&timeout=S] send pending writes now; optionally wait
//                                  until op OP has left the outbox
//   POST /sync                     catch up every workspace now
//   GET  /wait?workspace=W&(cursor=N|gone=1|settled=1)&timeout=S
//                                  until W's cursor reaches N, W is no longer
//                                  synced here, or W has no pending writes
//   POST /shutdown                 stop the agent
#pragma once

#include "mgteam/status.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace mgteam::agent {

using json = nlohmann::json;

// What the server side calls into (the SyncEngine, or a test double).
struct LocalApiHandlers {
  std::function<json()> status;
  std::function<void()> flush;
  // Waits up to `timeout` for op `op_id` to leave the pending state; returns
  // "done", "failed" or "pending".
  std::function<std::string(const std::string& op_id, std::chrono::milliseconds timeout)> wait_op;
  std::function<void()> sync;
  // Waits for a condition on a workspace (see the route above); true if met.
  std::function<bool(const std::string& ws, const std::string& what, int64_t cursor,
                     std::chrono::milliseconds timeout)> wait;
  std::function<void()> shutdown;
};

class LocalApiServer {
 public:
  LocalApiServer();
  ~LocalApiServer();
  // Binds `socket_path` (a stale file there is replaced: callers hold the
  // single-instance lock) and serves on a thread.
  Status Start(const std::string& socket_path, LocalApiHandlers handlers);
  void Stop();

 private:
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::string path_;
};

class LocalApiClient {
 public:
  explicit LocalApiClient(std::string socket_path) : path_(std::move(socket_path)) {}
  // The agent's status, or an error if none answers (quickly).
  Result<json> Status() const;
  bool Running() const { return Status().ok(); }
  Result<json> Flush(const std::string& wait_op = "", std::chrono::seconds timeout = std::chrono::seconds(0)) const;
  ::mgteam::Status Sync() const;
  // True once the condition holds ("cursor" with `cursor`, "gone", "settled").
  Result<bool> Wait(const std::string& ws, const std::string& what, int64_t cursor,
                    std::chrono::seconds timeout) const;
  ::mgteam::Status Shutdown() const;

 private:
  Result<json> Call(const std::string& method, const std::string& path, std::chrono::milliseconds timeout) const;
  std::string path_;
};

}  // namespace mgteam::agent
