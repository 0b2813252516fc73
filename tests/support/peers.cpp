#include "peers.h"

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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
