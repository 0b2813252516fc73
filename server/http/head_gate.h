// HeadGate: where connections wait without a thread. Every connection, new
// or between keep-alive requests, sits here (one epoll loop for all of them)
// until a complete request head has arrived; only then is it handed to a
// worker. So idle connections and clients that send their head a byte at a
// time cost a file descriptor and a few bytes, never a worker, and other
// users stay served (docs/security.md, "Connections"; ADR 0007).
//
// Over TLS the handshake is driven here too, non-blocking, so it holds no
// worker either; it shares the head's deadline.
//
// A connection leaves the gate when its head is complete (dispatched), when
// it idles past `idle` with nothing sent (closed quietly), when its head takes
// longer than `head` from the first byte (408), or when the head breaks the
// limits of request_head.h (431 / 400).
//
// Thread-safety: Admit may be called from any thread; the loop runs on its
// own thread.
#pragma once

#include "http/connection.h"
#include "http/request_head.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace mgteam::server {

struct GateLimits {
  std::chrono::milliseconds idle{5000};   // nothing sent yet (new or keep-alive)
  std::chrono::milliseconds head{10000};  // first byte to the end of the head
  HeadLimits head_limits;
};

class HeadGate {
 public:
  using Dispatch = std::function<void(std::unique_ptr<Connection>)>;

  HeadGate(GateLimits limits, Dispatch dispatch);
  ~HeadGate();

  bool Start();
  // Closes every connection still waiting; later admissions are closed at once.
  void Stop();

  void Admit(std::unique_ptr<Connection> c);

 private:
  struct Entry {
    std::unique_ptr<Connection> conn;
    Connection::Clock::time_point deadline;
    bool started = false;     // a byte of the head (or TLS handshake) has arrived
    bool want_write = false;  // TLS: waiting to write, not to read
  };
  void Loop();
  bool Arm(int fd, bool for_write);
  // Reads what is there and decides; false when the entry is to be dropped.
  bool OnReadable(Entry& e);
  // Dispatches a complete head, refuses a bad one; false: drop the entry.
  bool Decide(Entry& e);
  void Expire(Connection::Clock::time_point now);
  void Drop(int fd);

  const GateLimits limits_;
  const Dispatch dispatch_;
  int epoll_ = -1;
  int wake_ = -1;  // eventfd: stop
  std::atomic<bool> stopping_{false};
  std::mutex mu_;  // guards entries_ (the loop and admitting workers)
  std::unordered_map<int, Entry> entries_;
  std::thread thread_;
};

}  // namespace mgteam::server
