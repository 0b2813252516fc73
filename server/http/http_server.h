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

 private:
  bool process_and_close_socket(socket_t sock) override;
  // On a worker: serves the requests whose heads are buffered, then hands
  // the connection back to the gate (or closes it).
  void Serve(std::unique_ptr<Connection> conn);

  ConnectionLimits limits_;
  std::shared_ptr<TlsContext> tls_;
  AddressSlots slots_;
  std::unique_ptr<ElasticTaskQueue> workers_;
  std::unique_ptr<HeadGate> gate_;
};

}  // namespace mgteam::server
