// App: one running mgteam-server. Owns the store, the router and the HTTP
// listener; Run() serves until Stop() (called from the signal thread).
#pragma once

#include "bus/bus.h"
#include "config.h"
#include "http/router.h"
#include "http/transport.h"
#include "metrics.h"
#include "store/store.h"
#include "sync/long_polls.h"
#include "sync/stream_hub.h"

#include <condition_variable>
#include <memory>
#include <mutex>

namespace mgteam::server {

class App {
 public:
  // Opens the store (migrating it) and builds the routes; does not listen.
  static Result<std::unique_ptr<App>> Create(ServerConfig config);
  ~App();

  // Binds, reports readiness (log line, --ready-fd), serves until Stop().
  Status Run();
  // Thread-safe: ends every stream with a closing frame, then makes Run()
  // return once in-flight requests have finished.
  void Stop();
  // SIGHUP: re-reads the TLS certificate and key (new connections use them;
  // a bad pair is logged and the old one kept).
  void Reload();

 private:
  explicit App(ServerConfig config);

  ServerConfig config_;
  std::unique_ptr<Store> store_;
  Metrics metrics_;
  std::unique_ptr<Bus> bus_;
  std::unique_ptr<StreamHub> hub_;
  std::unique_ptr<LongPolls> polls_;
  size_t max_streams_ = 0;  // the cap in force, for the start-up line
  std::unique_ptr<ServerContext> ctx_;
  std::unique_ptr<Router> router_;
  // Deletes what has outlived its use (idempotency records) now and then,
  // until Stop().
  void Housekeeping();

  std::shared_ptr<TlsContext> tls_;
  std::mutex housekeeping_mu_;
  std::condition_variable housekeeping_cv_;
  bool stopping_ = false;
  struct Http;
  std::unique_ptr<Http> http_;
};

// Raises the soft open-files limit to the hard limit; returns the new limit.
long RaiseOpenFileLimit();

}  // namespace mgteam::server
