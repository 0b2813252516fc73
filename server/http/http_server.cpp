#include "http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mgteam::server {
namespace {

// cpp-httplib reads request lines a byte at a time; without a buffer here
// that is a poll and a recv per byte. The buffer lives with the connection so
// bytes of a pipelined next request are kept.
struct Connection {
  int sock = -1;
  bool taken = false;
  char buf[8192];
  size_t begin = 0;
  size_t end = 0;

  size_t buffered() const { return end - begin; }
};

thread_local Connection* t_connection = nullptr;

// Waits up to `ms` for `events` on `sock`; > 0 ready, 0 timeout, < 0 error.
int PollSocket(int sock, short events, int ms) {
  pollfd p{sock, events, 0};
  int r;
  do {
    r = ::poll(&p, 1, ms);
  } while (r < 0 && errno == EINTR);
  if (r > 0 && (p.revents & (POLLERR | POLLNVAL))) return -1;
  return r;
}

int ToMs(time_t sec, time_t usec) { return static_cast<int>(sec * 1000 + usec / 1000); }

std::string AddressOf(const sockaddr_storage& ss, int& port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port = ntohs(a->sin6_port);
  }
  return buf;
}

// The library's Stream over a connection we own; once the socket is taken,
// reads fail and writes are swallowed so nothing the library still wants to
// say reaches the client.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(Connection& c, int read_ms, int write_ms) : c_(c), read_ms_(read_ms), write_ms_(write_ms) {}

  bool is_readable() const override {
    return !c_.taken && (c_.buffered() > 0 || PollSocket(c_.sock, POLLIN, read_ms_) > 0);
  }
  bool is_writable() const override { return !c_.taken && PollSocket(c_.sock, POLLOUT, write_ms_) > 0; }

  ssize_t read(char* ptr, size_t size) override {
    if (c_.buffered() == 0) {
      if (c_.taken) return -1;
      if (size >= sizeof c_.buf) return Recv(ptr, size);  // large body reads skip the copy
      ssize_t n = Recv(c_.buf, sizeof c_.buf);
      if (n <= 0) return n;
      c_.begin = 0;
      c_.end = static_cast<size_t>(n);
    }
    size_t n = std::min(size, c_.buffered());
    std::memcpy(ptr, c_.buf + c_.begin, n);
    c_.begin += n;
    return static_cast<ssize_t>(n);
  }

  // The socket carries SO_SNDTIMEO/SO_RCVTIMEO (set per connection below), so
  // send and recv block at most that long without a poll() before each call.
  ssize_t write(const char* ptr, size_t size) override {
    if (c_.taken) return static_cast<ssize_t>(size);
    ssize_t n;
    do {
      n = ::send(c_.sock, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getpeername(c_.sock, reinterpret_cast<sockaddr*>(&ss), &len) == 0) ip = AddressOf(ss, port);
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(c_.sock, reinterpret_cast<sockaddr*>(&ss), &len) == 0) ip = AddressOf(ss, port);
  }

  socket_t socket() const override { return c_.sock; }

 private:
  ssize_t Recv(char* ptr, size_t size) {
    ssize_t n;
    do {
      n = ::recv(c_.sock, ptr, size, 0);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  Connection& c_;
  int read_ms_;
  int write_ms_;
};

}  // namespace

bool HttpServer::WidenBacklog() {
  socket_t fd = svr_sock_;
  return fd != INVALID_SOCKET && ::listen(fd, SOMAXCONN) == 0;
}

int HttpServer::TakeSocket() {
  if (!t_connection || t_connection->taken) return -1;
  t_connection->taken = true;
  return t_connection->sock;
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  Connection conn;
  conn.sock = sock;
  t_connection = &conn;
  const int read_ms = ToMs(read_timeout_sec_, read_timeout_usec_);
  const int write_ms = ToMs(write_timeout_sec_, write_timeout_usec_);
  timeval rcv{read_timeout_sec_, static_cast<suseconds_t>(read_timeout_usec_)};
  timeval snd{write_timeout_sec_, static_cast<suseconds_t>(write_timeout_usec_)};
  ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof rcv);
  ::setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof snd);
  bool ret = false;
  size_t remaining = keep_alive_max_count_;
  while (remaining > 0 && svr_sock_ != INVALID_SOCKET) {
    // Wait for the next request in short slices so that stop() is noticed
    // promptly even on idle keep-alive connections.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    int ready = conn.buffered() > 0 ? 1 : 0;
    while (ready == 0 && svr_sock_ != INVALID_SOCKET && std::chrono::steady_clock::now() < deadline)
      ready = PollSocket(sock, POLLIN, 100);
    if (ready <= 0) break;
    ConnectionStream strm(conn, read_ms, write_ms);
    bool connection_closed = false;
    ret = process_request(strm, remaining == 1, connection_closed, nullptr);
    if (conn.taken || !ret || connection_closed) break;
    --remaining;
  }
  t_connection = nullptr;
  if (!conn.taken) {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
  return ret;
}

}  // namespace mgteam::server
