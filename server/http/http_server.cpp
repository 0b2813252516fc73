#include "http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mgteam::server {
namespace {

thread_local Connection* t_connection = nullptr;
thread_local HttpServer* t_server = nullptr;

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

// Bytes a chunked body may add to the body limit in framing (chunk sizes,
// extensions, trailers) before it counts as too large.
constexpr size_t kFramingSlack = 64 * 1024;
constexpr size_t kReadChunk = 16 * 1024;

// The library's Stream over a connection we own. The head is already in the
// buffer (the gate saw it complete); what is read from the socket here is
// the body, so it is counted against the body limit and must arrive before a
// deadline that grows with the bytes received. Once the socket is taken, the
// request refused or parked, reads fail and writes are swallowed so nothing
// the library still wants to say reaches the client.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(Connection& c, const ConnectionLimits& limits, int read_ms, int write_ms)
      : c_(c), limits_(limits), read_ms_(read_ms), write_ms_(write_ms) {}

  bool is_readable() const override {
    return !Done() &&
           (c_.buffered() > 0 || c_.io->Buffered() > 0 ||
            c_.io->Await(Transport::Wait::kReadable, std::min(read_ms_, Left())) > 0);
  }
  bool is_writable() const override {
    return !Done() && c_.io->Await(Transport::Wait::kWritable, write_ms_) > 0;
  }

  ssize_t read(char* ptr, size_t size) override {
    if (Done()) return -1;
    if (c_.buffered() == 0) {
      if (size >= kReadChunk) return ReadBody(ptr, size);  // large body reads skip the copy
      char chunk[kReadChunk];
      ssize_t n = ReadBody(chunk, sizeof chunk);
      if (n <= 0) return n;
      c_.Compact();
      c_.buf.append(chunk, static_cast<size_t>(n));
    }
    size_t n = std::min(size, c_.buffered());
    std::memcpy(ptr, c_.buf.data() + c_.begin, n);
    c_.begin += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (Done()) return static_cast<ssize_t>(size);
    while (true) {
      Transport::Io io = c_.io->Write(ptr, size);
      if (io.wait == Transport::Wait::kNone) return static_cast<ssize_t>(io.n);
      if (c_.io->Await(io.wait, write_ms_) <= 0) return -1;
    }
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
  bool Done() const { return c_.taken || c_.aborted || c_.parking(); }

  // Milliseconds left for the body: a grace period, plus a second for every
  // `body_min_rate` bytes already received, from the end of the head.
  int Left() const {
    auto allowed = limits_.body_grace +
                   std::chrono::seconds(c_.body_received / std::max<size_t>(1, limits_.body_min_rate));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(c_.request_start + allowed -
                                                                      Connection::Clock::now());
    return static_cast<int>(std::max<int64_t>(0, left.count()));
  }

  // Reads body bytes within the deadline; refuses the request when the body
  // is too large or too slow. 0: the client closed.
  ssize_t ReadBody(char* dst, size_t size) {
    while (true) {
      if (c_.body_received > limits_.max_body_bytes + kFramingSlack) {
        c_.Refuse(413, "Payload Too Large", "payload_too_large",
                  "request bodies are limited to " + std::to_string(limits_.max_body_bytes) + " bytes");
        return -1;
      }
      Transport::Io io = c_.io->Read(dst, size);
      if (io.wait == Transport::Wait::kNone) {
        c_.body_received += io.n;
        return static_cast<ssize_t>(io.n);
      }
      if (io.wait == Transport::Wait::kClosed) return 0;
      int left = Left();
      int r = left > 0 ? c_.io->Await(io.wait, std::min(read_ms_, left)) : 0;
      if (r > 0) continue;
      if (r == 0 && Left() == 0)
        c_.Refuse(408, "Request Timeout", "request_timeout", "the request body arrived too slowly");
      return -1;
    }
  }

  Connection& c_;
  const ConnectionLimits& limits_;
  int read_ms_;
  int write_ms_;
};

}  // namespace

bool HttpServer::StartConnections(const ConnectionLimits& limits) {
  limits_ = limits;
  workers_ = std::make_unique<ElasticTaskQueue>(std::min<size_t>(8, limits.workers), limits.workers,
                                                std::chrono::seconds(60));
  gate_ = std::make_unique<HeadGate>(limits.gate, [this](std::unique_ptr<Connection> c) { Dispatch(std::move(c)); });
  // The library's own pool only admits sockets to the gate.
  new_task_queue = [] { return new ElasticTaskQueue(1, 4, std::chrono::seconds(60)); };
  set_keep_alive_timeout(limits.keep_alive.count());
  return gate_->Start();
}

void HttpServer::StopConnections() {
  if (gate_) gate_->Stop();
  if (workers_) workers_->shutdown();
}

bool HttpServer::WidenBacklog() {
  socket_t fd = svr_sock_;
  return fd != INVALID_SOCKET && ::listen(fd, SOMAXCONN) == 0;
}

std::unique_ptr<Transport> HttpServer::TakeTransport() {
  if (!t_connection || t_connection->taken) return nullptr;
  t_connection->taken = true;
  return std::move(t_connection->io);
}

bool HttpServer::Park(std::shared_ptr<void> state, Parker to) {
  Connection* c = t_connection;
  // Only a request read whole from the buffer can be served again: a body
  // read from the socket is gone.
  if (!c || !t_server || c->taken || c->aborted || c->parking() || c->body_received > 0) return false;
  c->resume_state = std::move(state);
  HttpServer* server = t_server;
  c->park_to = [server, to = std::move(to)](std::unique_ptr<Connection> conn) {
    to(std::unique_ptr<ParkedRequest>(new ParkedRequest(server, std::move(conn))));
  };
  return true;
}

std::shared_ptr<void> HttpServer::Resumed() {
  return t_connection && !t_connection->parking() ? t_connection->resume_state : nullptr;
}

bool HttpServer::Parking() { return t_connection && t_connection->parking(); }

void HttpServer::Dispatch(std::unique_ptr<Connection> c) {
  // std::function needs a copyable callable; a job dropped at shutdown still
  // closes its connection.
  auto shared = std::make_shared<std::unique_ptr<Connection>>(std::move(c));
  workers_->enqueue([this, shared] { Serve(std::move(*shared)); });
}

ParkedRequest::~ParkedRequest() = default;

void ParkedRequest::Resume() {
  if (conn_) server_->Dispatch(std::move(conn_));
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  int port = 0;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  std::string ip = ::getpeername(sock, reinterpret_cast<sockaddr*>(&ss), &len) == 0 ? AddressOf(ss, port) : "";
  SSL* ssl = nullptr;
  if (tls_ && !(ssl = tls_->NewSession(sock))) {
    ::close(sock);
    return false;
  }
  auto io = std::make_unique<Transport>(sock, ssl);
  const bool uncapped = std::find(limits_.uncapped.begin(), limits_.uncapped.end(), ip) != limits_.uncapped.end();
  if (gate_ && uncapped) {
    gate_->Admit(std::make_unique<Connection>(std::move(io), ip, nullptr));
    return true;
  }
  if (!gate_ || !slots_.Acquire(ip, limits_.max_per_address)) {
    // Over TLS the refusal cannot be said before a handshake: the client
    // just sees the connection close.
    Connection refused(std::move(io), ip, nullptr);
    refused.Refuse(429, "Too Many Requests", "too_many_connections",
                   "too many connections from " + ip + "; close some and retry", "Retry-After: 1\r\n");
    return false;
  }
  gate_->Admit(std::make_unique<Connection>(std::move(io), ip, &slots_));
  return true;
}

void HttpServer::Serve(std::unique_ptr<Connection> conn) {
  const int read_ms = ToMs(read_timeout_sec_, read_timeout_usec_);
  const int write_ms = ToMs(write_timeout_sec_, write_timeout_usec_);
  t_connection = conn.get();
  t_server = this;
  while (true) {
    conn->request_start = Connection::Clock::now();
    conn->request_begin = conn->begin;
    conn->body_received = 0;
    const bool last = conn->served + 1 >= limits_.keep_alive_max || svr_sock_ == INVALID_SOCKET;
    ConnectionStream strm(*conn, limits_, read_ms, write_ms);
    bool closed = false;
    bool ok = process_request(strm, last, closed, nullptr);
    if (conn->parking() && !conn->taken && !conn->aborted) {
      // The handler waits without this worker: rewind to the request's head
      // so that resuming serves the same request again.
      auto to = std::move(conn->park_to);
      conn->park_to = nullptr;
      conn->begin = conn->request_begin;
      t_connection = nullptr;
      to(std::move(conn));
      return;
    }
    conn->park_to = nullptr;
    conn->resume_state.reset();  // the request is answered: its state (a long-poll's slot) goes
    ++conn->served;
    if (conn->taken || !ok || closed || last || conn->aborted) break;
    conn->Compact();
    // The connection waits for its next request in the gate, holding no
    // worker (a pipelined one already buffered is decided there at once).
    t_connection = nullptr;
    gate_->Admit(std::move(conn));
    return;
  }
  t_connection = nullptr;  // `conn` closes here unless the hub took its socket
}

}  // namespace mgteam::server
