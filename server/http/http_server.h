// HttpServer: cpp-httplib's Server with mgteam's connection handling.
//
// cpp-httplib 0.11.4 serves each connection on a pool thread until it closes.
// An SSE stream would therefore pin a thread for its whole life, and waking
// 10,000 such threads per event is what limited a prototype to ~13k
// deliveries/s. So this class runs the keep-alive loop itself (overriding the
// library's private virtual process_and_close_socket and calling its
// protected process_request with our own Stream), which lets a handler take
// the socket out of the library's hands with TakeSocket(): the library then
// discards its own response for that request, ends the loop without closing
// the socket, and the pool thread is free again. The StreamHub owns taken
// sockets from then on.
//
// The library would also give every connection a worker before its first
// byte, so 300 idle connections (or slow senders) held 300 workers. Here a
// connection gets a worker only once its request head has fully arrived: it
// waits in the HeadGate (one epoll thread for all) when new and between
// keep-alive requests. The library's own pool only hands sockets to the gate.
// While a worker reads a body, the body must keep coming (a deadline that
// grows with the bytes received) and may not exceed the body limit, chunked
// or not (ADR 0007, docs/security.md).
//
// A handler may also Park() its request: a long-poll with nothing to say
// yet gives its worker back and waits (server/sync/long_polls.h); resuming
// serves the same request again from its head, so the router authenticates
// it and checks access again, and the handler picks up where it left off
// through Resumed().
//
// With TLS on, the handshake happens in the gate too (before the head), so a
// client that stalls its handshake holds no worker either.
//
// Also: the listen backlog compiled into the library is 5; WidenBacklog()
// re-listens with SOMAXCONN so a burst of reconnects is not turned away.
#pragma once

#include "http/connection.h"
#include "http/head_gate.h"
#include "http/task_queue.h"
#include "http/transport.h"

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mgteam::server {

struct ConnectionLimits {
  GateLimits gate;
  size_t max_body_bytes = 1024 * 1024;
  size_t max_per_address = 512;                  // connections waiting or being served (0: no cap)
  std::vector<std::string> uncapped;             // addresses the cap does not apply to (trusted proxies)
  std::chrono::milliseconds body_grace{10000};  // a body may take this long...
  size_t body_min_rate = 16 * 1024;              // ...plus a second per this many bytes received
  size_t workers = 256;
  std::chrono::seconds keep_alive{5};
  size_t keep_alive_max = 1000;
};

class HttpServer;

// A request waiting without a worker (HttpServer::Park). Resume() (any
// thread, once) puts it back in the workers' queue; destroying it without
// resuming closes the connection.
class ParkedRequest {
 public:
  ~ParkedRequest();
  ParkedRequest(const ParkedRequest&) = delete;
  ParkedRequest& operator=(const ParkedRequest&) = delete;
  void Resume();
  // The connection's socket, to watch for the client going away.
  int fd() const { return conn_ ? conn_->sock : -1; }

 private:
  friend class HttpServer;
  ParkedRequest(HttpServer* server, std::unique_ptr<Connection> conn) : server_(server), conn_(std::move(conn)) {}
  HttpServer* server_;
  std::unique_ptr<Connection> conn_;
};

class HttpServer : public httplib::Server {
 public:
  // Before StartConnections: serve TLS only, with this certificate.
  void UseTls(std::shared_ptr<TlsContext> tls) { tls_ = std::move(tls); }
  // Before listening: starts the gate and the workers.
  bool StartConnections(const ConnectionLimits& limits);
  // After stop(): closes waiting connections and joins the workers.
  void StopConnections();
  bool WidenBacklog();

  // From a request handler: takes the connection (the caller owns it now).
  // Null when not called on a connection thread.
  static std::unique_ptr<Transport> TakeTransport();

  // From a request handler: once the handler returns, its answer is dropped,
  // the worker is freed and the parked request is handed to `to` (on this
  // thread). The handler of the resumed request sees `state` in Resumed().
  // False (nothing happens) off a connection thread, or when the request's
  // body was read from the socket (only requests buffered whole can be
  // served again).
  using Parker = std::function<void(std::unique_ptr<ParkedRequest>)>;
  static bool Park(std::shared_ptr<void> state, Parker to);
  // The state the current request was parked with, if it is being resumed.
  static std::shared_ptr<void> Resumed();
  // True while the current request is about to be parked (its answer will
  // be dropped).
  static bool Parking();

 private:
  bool process_and_close_socket(socket_t sock) override;
  // On a worker: serves the requests whose heads are buffered, then hands
  // the connection back to the gate (or closes it).
  void Serve(std::unique_ptr<Connection> conn);
  // Queues a connection whose head is buffered for a worker.
  void Dispatch(std::unique_ptr<Connection> conn);
  friend class ParkedRequest;

  ConnectionLimits limits_;
  std::shared_ptr<TlsContext> tls_;
  AddressSlots slots_;
  std::unique_ptr<ElasticTaskQueue> workers_;
  std::unique_ptr<HeadGate> gate_;
};

}  // namespace mgteam::server
