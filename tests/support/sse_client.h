// Test support: a minimal SSE client over a raw socket, using mgteam's own
// incremental parser. Raw, so tests control exactly when bytes are read (or
// not read: slow consumers) and when the connection drops.
#pragma once

#include "mgteam/sse.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mgteam::test {

class SseClient {
 public:
  // Sends GET `path` and reads the response head. `rcvbuf` > 0 shrinks the
  // socket's receive buffer (to play a slow consumer).
  static std::unique_ptr<SseClient> Open(int port, const std::string& path, const std::string& token,
                                         const std::map<std::string, std::string>& headers = {},
                                         int rcvbuf = 0);
  ~SseClient();

  int status() const { return status_; }
  const std::string& head() const { return head_; }
  const std::string& error_body() const { return error_body_; }

  // The next event's data as JSON; nullopt on timeout or when the server
  // closed the connection (then closed() is true).
  std::optional<nlohmann::json> Next(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The next event that carries a seq (skipping connected/closed frames).
  std::optional<nlohmann::json> NextChange(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool closed() const { return closed_; }
  int heartbeats() const { return static_cast<int>(heartbeat_times_.size()); }
  // Reads (queueing events) until `n` heartbeats have arrived in all.
  bool WaitForHeartbeats(int n, std::chrono::milliseconds timeout);
  const std::vector<std::chrono::steady_clock::time_point>& heartbeat_times() const { return heartbeat_times_; }
  int retry_ms() const { return retry_ms_; }
  std::string last_event_id() const { return parser_.last_event_id(); }
  void Close();

 private:
  SseClient();
  bool ReadMore(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  int status_ = 0;
  std::string head_;
  std::string error_body_;
  bool closed_ = false;
  int retry_ms_ = -1;
  std::vector<std::chrono::steady_clock::time_point> heartbeat_times_;
  std::deque<SseEvent> events_;
  SseParser parser_;
};

}  // namespace mgteam::test
