// A connected pair of Unix stream sockets for unit tests of code that writes
// to a client socket: the server end goes into a Transport, the test reads
// the client end as the client would, with deadlines.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace mgteam::test {

// Deadlines guard against hangs; sanitizer builds run slower
// (MGTEAM_TEST_SLOWDOWN, set by scripts/test).
inline std::chrono::milliseconds Scaled(std::chrono::milliseconds d) {
  const char* s = std::getenv("MGTEAM_TEST_SLOWDOWN");
  double f = s ? std::atof(s) : 1.0;
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(d.count()) * (f > 1 ? f : 1)));
}

struct SocketPair {
  int server = -1;  // give to a Transport, which then owns it
  int client = -1;

  SocketPair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    server = fds[0];
    client = fds[1];
  }
  ~SocketPair() {
    if (client >= 0) ::close(client);
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;

  void CloseClient() {
    ::close(client);
    client = -1;
  }

  // Appends to `out` what the client end can read before `deadline`, at
  // most `max` bytes; false at EOF (or an error).
  bool Read(std::string& out, std::chrono::steady_clock::time_point deadline, size_t max = 1 << 20) {
    char buf[16384];
    size_t got = 0;
    while (got < max) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{client, POLLIN, 0};
      int ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
      if (ready <= 0) return true;  // nothing more before the deadline
      ssize_t n = ::read(client, buf, std::min(sizeof buf, max - got));
      if (n <= 0) return false;
      out.append(buf, static_cast<size_t>(n));
      got += static_cast<size_t>(n);
      // Return as soon as something came, unless more is already waiting.
      pollfd again{client, POLLIN, 0};
      if (::poll(&again, 1, 0) <= 0) return true;
    }
    return true;
  }
};

}  // namespace mgteam::test
