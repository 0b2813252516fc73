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
// Also: the listen backlog compiled into the library is 5; WidenBacklog()
// re-listens with SOMAXCONN so a burst of reconnects is not turned away.
#pragma once

#include <httplib.h>

namespace mgteam::server {

class HttpServer : public httplib::Server {
 public:
  bool WidenBacklog();

  // From a request handler: takes ownership of the connection's socket (the
  // caller must close it). Returns -1 when not called on a connection thread.
  static int TakeSocket();

 private:
  bool process_and_close_socket(socket_t sock) override;
};

}  // namespace mgteam::server
