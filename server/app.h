// App: one running mgteam-server. Owns the store, the router and the HTTP
// listener; Run() serves until Stop() (called from the signal thread).
#pragma once

#include "config.h"
#include "http/router.h"
#include "store/store.h"

#include <memory>

namespace mgteam::server {

class App {
 public:
  // Opens the store (migrating it) and builds the routes; does not listen.
  static Result<std::unique_ptr<App>> Create(ServerConfig config);
  ~App();

  // Binds, reports readiness (log line, --ready-fd), serves until Stop().
  Status Run();
  // Thread-safe; makes Run() return after in-flight requests finish.
  void Stop();

 private:
  explicit App(ServerConfig config);

  ServerConfig config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ServerContext> ctx_;
  std::unique_ptr<Router> router_;
  struct Http;
  std::unique_ptr<Http> http_;
};

// Raises the soft open-files limit to the hard limit; returns the new limit.
long RaiseOpenFileLimit();

}  // namespace mgteam::server
