// Connection: one client connection as the HTTP layer holds it — between
// requests in the HeadGate (no thread), during a request on a worker, parked
// while a long-poll waits (no thread), or handed to the StreamHub (taken). Closing is RAII: the last owner closes the
// socket (unless the hub took it) and releases the client address's slot.
#pragma once

#include "http/transport.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace mgteam::server {

// Connections per client address, so one address cannot hold them all.
class AddressSlots {
 public:
  // False when `ip` already holds `max` (0: no cap).
  bool Acquire(const std::string& ip, size_t max);
  void Release(const std::string& ip);

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, size_t> held_;
};

struct Connection {
  using Clock = std::chrono::steady_clock;

  Connection(std::unique_ptr<Transport> t, std::string address, AddressSlots* counted)
      : io(std::move(t)), sock(io->fd()), ip(std::move(address)), slots(counted) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::unique_ptr<Transport> io;  // null once taken
  int sock = -1;                  // io's descriptor (the gate's key), kept after a take
  std::string ip;
  AddressSlots* slots = nullptr;  // released on destruction when set
  bool taken = false;    // the stream hub owns the transport now
  bool aborted = false;  // we answered an error and close: the library's writes are dropped
  std::string buf;       // bytes received and not yet read by the library
  size_t begin = 0;
  size_t served = 0;     // requests answered on this connection

  // The request in progress (set when its head is complete).
  Clock::time_point request_start;
  size_t request_begin = 0;  // where its head starts in `buf`
  size_t body_received = 0;

  // Set by HttpServer::Park during a request: the library's answer is
  // dropped and, after the pass, the connection goes here instead of back to
  // the gate, to be served again from `request_begin` when resumed.
  std::function<void(std::unique_ptr<Connection>)> park_to;
  // What the handler of a resumed request sees (HttpServer::Resumed()).
  std::shared_ptr<void> resume_state;
  bool parking() const { return static_cast<bool>(park_to); }

  size_t buffered() const { return buf.size() - begin; }
  std::string_view pending() const { return std::string_view(buf).substr(begin); }
  // Drops bytes already read (keeps an idle connection's memory at zero).
  void Compact();
  // Sends a complete error response with the API's error JSON and marks the
  // connection for closing. Best effort: a client that does not read it
  // simply loses it.
  void Refuse(int status, const char* phrase, const std::string& code, const std::string& message,
              const std::string& extra_headers = "");
};

}  // namespace mgteam::server
