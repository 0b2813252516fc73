// EventStreamClient: follows an mgteam SSE stream and survives dropped
// connections. It reconnects with exponential backoff and full jitter (at
// least the server's `retry:` hint), sends Last-Event-ID so the server replays
// exactly what was missed, and treats a silence longer than the heartbeat
// timeout as a dead connection. Shared by the CLI and the agent.
//
// Thread-safety: Run() blocks the calling thread; Stop() may be called from
// any thread (or from inside a callback).
#pragma once

#include "mgteam/api_client.h"
#include "mgteam/sse.h"
#include "mgteam/status.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace httplib {
class Client;
}

namespace mgteam {

struct StreamClientOptions {
  ServerUrl server;
  std::string token;
  std::string path;            // "/api/v1/sync/stream?workspace_id=..."
  std::string last_event_id;   // where to resume ("" = from now)
  std::chrono::milliseconds heartbeat_timeout{45000};  // the server beats every 15 s
  int64_t backoff_base_ms = 250;
  int64_t backoff_cap_ms = 30000;
};

class EventStreamClient {
 public:
  enum class State { kConnected, kDisconnected };

  using EventFn = std::function<void(const SseEvent&)>;
  // kConnected when a stream opens; kDisconnected with the reason when it
  // drops (the client then waits and retries).
  using StateFn = std::function<void(State, const Status&)>;

  explicit EventStreamClient(StreamClientOptions options);
  ~EventStreamClient();

  // Streams until Stop() (returns OK) or a permanent refusal: 401, 403, 404
  // (returned as the server's error).
  Status Run(const EventFn& on_event, const StateFn& on_state);
  void Stop();

  // Where a reconnect resumes; callbacks may move it (e.g. after a reset).
  void set_last_event_id(std::string id);
  std::string last_event_id() const;

 private:
  // One connection; returns why it ended.
  Status Connect(const EventFn& on_event, const StateFn& on_state, bool& got_data);

  StreamClientOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<bool> stopping_{false};
  httplib::Client* active_ = nullptr;  // the connection in flight, for Stop()
  int64_t retry_floor_ms_ = 0;
};

}  // namespace mgteam
