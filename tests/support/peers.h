// Test support: the third-party servers a scale-out deployment runs beside
// mgteam-server, started for real on loopback ports (docs/deploy.md).
#pragma once

#include "process.h"

#include <memory>
#include <string>

namespace mgteam::test {

// A free TCP port on 127.0.0.1 now (bound to port 0, then released).
int FreePort();

// A redis-server on 127.0.0.1 with no persistence, in its own temp dir.
class RedisProcess {
 public:
  // On `port`, or a free one when 0. Returns once it accepts connections.
  static std::unique_ptr<RedisProcess> Start(int port = 0);
  ~RedisProcess();

  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  // kill -9: no goodbye to subscribers.
  void Kill9();
  // SIGSTOP/SIGCONT: a server that holds its connections but answers nothing.
  void Signal(int sig) { if (child_) child_->Kill(sig); }
  // Starts again on the same port after Kill9().
  bool Restart();

 private:
  RedisProcess() = default;
  bool Launch();
  int port_ = 0;
  std::unique_ptr<ChildProcess> child_;
};

}  // namespace mgteam::test

namespace mgteam::test {

// A throwaway PostgreSQL server (scripts/postgres-for-tests): initdb into a
// temp dir, as the unprivileged `postgres` user when the tests run as root.
class PostgresProcess {
 public:
  static std::unique_ptr<PostgresProcess> Start();
  ~PostgresProcess();

  // postgres://postgres@127.0.0.1:PORT/postgres
  const std::string& admin_url() const { return url_; }
  // A new, empty database; its URL.
  std::string CreateDatabase(const std::string& name);
  // Stops the server at once (like a crash: no checkpoint), keeping its
  // data, and starts it again on the same port.
  bool Halt();
  bool Resume();

 private:
  PostgresProcess() = default;
  std::unique_ptr<TempDir> dir_;
  std::string url_;
};

}  // namespace mgteam::test

namespace mgteam::test {

// nginx in the foreground with `config` (the inside of an http {} block) on
// a temp prefix; `port` is where the config listens. Returns once it
// accepts connections.
class NginxProcess {
 public:
  static std::unique_ptr<NginxProcess> Start(const std::string& http_block, int port);
  ~NginxProcess();
  int port() const { return port_; }
  std::string error_log() const;

 private:
  NginxProcess() = default;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ChildProcess> child_;
  int port_ = 0;
};

// Can something connect to 127.0.0.1:port now?
bool Accepts(int port);

}  // namespace mgteam::test
