#include "peers.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace mgteam::test {

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

std::unique_ptr<RedisProcess> RedisProcess::Start(int port) {
  std::unique_ptr<RedisProcess> r(new RedisProcess());
  // A port picked by FreePort() can be taken before redis binds it: retry.
  for (int attempt = 0; attempt < 5; ++attempt) {
    r->port_ = port ? port : FreePort();
    if (r->Launch()) return r;
    if (port) break;
  }
  return nullptr;
}

RedisProcess::~RedisProcess() {
  if (child_) {
    child_->Kill(SIGTERM);
    child_->Wait(std::chrono::seconds(10));
  }
}

bool RedisProcess::Launch() {
  child_ = ChildProcess::Spawn({"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", "/tmp", "--loglevel", "notice"});
  if (!child_) return false;
  // redis-server says so on stdout once it accepts connections.
  const auto deadline = std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(20));
  while (std::chrono::steady_clock::now() < deadline) {
    auto line = child_->ReadLine(std::chrono::milliseconds(500));
    if (!line) continue;
    if (line->find("Ready to accept connections") != std::string::npos) return true;
    if (line->find("Could not create server TCP listening socket") != std::string::npos) break;
  }
  child_->Kill(SIGKILL);
  child_->Wait(std::chrono::seconds(5));
  child_.reset();
  return false;
}

void RedisProcess::Kill9() {
  if (!child_) return;
  child_->Kill(SIGKILL);
  child_->Wait(std::chrono::seconds(10));
  child_.reset();
}

bool RedisProcess::Restart() { return Launch(); }

}  // namespace mgteam::test

namespace mgteam::test {

namespace {
std::string PostgresScript() { return std::string(MGTEAM_SCRIPTS_DIR) + "/postgres-for-tests"; }
}  // namespace

std::unique_ptr<PostgresProcess> PostgresProcess::Start() {
  std::unique_ptr<PostgresProcess> p(new PostgresProcess());
  p->dir_ = std::make_unique<TempDir>();
  ProcessResult r = Run({PostgresScript(), "start", p->dir_->path()}, {}, "", std::chrono::seconds(120));
  if (r.exit_code != 0) {
    MESSAGE("postgres-for-tests start failed: " << r.err);
    return nullptr;
  }
  p->url_ = r.out.substr(0, r.out.find('\n'));
  return p;
}

PostgresProcess::~PostgresProcess() {
  if (dir_) (void)Run({PostgresScript(), "stop", dir_->path()}, {}, "", std::chrono::seconds(60));
}

std::string PostgresProcess::CreateDatabase(const std::string& name) {
  ProcessResult r = Run({"/usr/bin/psql", url_, "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE \"" + name + "\""});
  if (r.exit_code != 0) throw std::runtime_error("CREATE DATABASE failed: " + r.err);
  return url_.substr(0, url_.rfind('/') + 1) + name;
}

bool PostgresProcess::Halt() {
  return Run({PostgresScript(), "halt", dir_->path()}, {}, "", std::chrono::seconds(60)).exit_code == 0;
}

bool PostgresProcess::Resume() {
  return Run({PostgresScript(), "resume", dir_->path()}, {}, "", std::chrono::seconds(120)).exit_code == 0;
}

}  // namespace mgteam::test

namespace mgteam::test {

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::unique_ptr<NginxProcess> NginxProcess::Start(const std::string& http_block, int port) {
  std::unique_ptr<NginxProcess> n(new NginxProcess());
  n->dir_ = std::make_unique<TempDir>();
  n->port_ = port;
  const std::string& d = n->dir_->path();
  std::string conf = "error_log " + d + "/error.log info;\npid " + d + "/nginx.pid;\n";
  conf += "events { worker_connections 1024; }\nhttp {\n  access_log off;\n";
  for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
    conf += std::string("  ") + temp + "_temp_path " + d + "/" + temp + ";\n";
  conf += http_block;
  conf += "\n}\n";
  {
    FILE* f = std::fopen((d + "/nginx.conf").c_str(), "w");
    if (!f) return nullptr;
    std::fputs(conf.c_str(), f);
    std::fclose(f);
  }
  // One process, in the foreground: the test owns it, and root needs no
  // `user` for workers.
  n->child_ = ChildProcess::Spawn({"/usr/sbin/nginx", "-p", d, "-c", d + "/nginx.conf", "-g",
                                   "daemon off; master_process off;"});
  if (!n->child_) return nullptr;
  if (!Eventually([&] { return Accepts(port); }, std::chrono::seconds(10))) {
    MESSAGE("nginx did not start: " << n->error_log() << n->child_->Stderr());
    return nullptr;
  }
  return n;
}

NginxProcess::~NginxProcess() {
  if (child_) {
    child_->Kill(SIGQUIT);
    child_->Wait(std::chrono::seconds(10));
  }
}

std::string NginxProcess::error_log() const {
  std::ifstream in(dir_->path() + "/error.log");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace mgteam::test
