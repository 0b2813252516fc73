#include "sse_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace mgteam::test {

SseClient::SseClient()
    : parser_([this](const SseEvent& e) { events_.push_back(e); },
              [this](std::string_view text) {
                if (text == "heartbeat") heartbeat_times_.push_back(std::chrono::steady_clock::now());
              },
              [this](int64_t ms) { retry_ms_ = static_cast<int>(ms); }) {}

SseClient::~SseClient() { Close(); }

void SseClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::unique_ptr<SseClient> SseClient::Open(int port, const std::string& path, const std::string& token,
                                           const std::map<std::string, std::string>& headers, int rcvbuf) {
  std::unique_ptr<SseClient> c(new SseClient());
  c->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (rcvbuf > 0) ::setsockopt(c->fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("connect failed");
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  if (::send(c->fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
    throw std::runtime_error("send failed");
  // Read the response head byte-wise-ish: everything up to the blank line.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string buf;
  while (buf.find("\r\n\r\n") == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{c->fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      throw std::runtime_error("no response head");
    char tmp[4096];
    ssize_t n = ::recv(c->fd_, tmp, sizeof tmp, 0);
    if (n <= 0) throw std::runtime_error("connection closed before the response head: " + buf);
    buf.append(tmp, static_cast<size_t>(n));
  }
  auto end = buf.find("\r\n\r\n");
  c->head_ = buf.substr(0, end);
  c->status_ = std::atoi(c->head_.substr(9, 3).c_str());
  std::string rest = buf.substr(end + 4);
  if (c->status_ != 200) {
    c->error_body_ = rest;
    // Error answers carry a Content-Length; read until it is complete.
    while (true) {
      auto json = nlohmann::json::parse(c->error_body_, nullptr, false);
      if (!json.is_discarded()) break;
      pollfd p{c->fd_, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) break;
      char tmp[4096];
      ssize_t n = ::recv(c->fd_, tmp, sizeof tmp, 0);
      if (n <= 0) break;
      c->error_body_.append(tmp, static_cast<size_t>(n));
    }
    return c;
  }
  c->parser_.Feed(rest);
  return c;
}

bool SseClient::ReadMore(std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0 || closed_) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char tmp[65536];
  ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) {
    closed_ = true;
    return false;
  }
  parser_.Feed(std::string_view(tmp, static_cast<size_t>(n)));
  return true;
}

std::optional<nlohmann::json> SseClient::Next(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (events_.empty()) {
    if (!ReadMore(deadline) && (closed_ || std::chrono::steady_clock::now() >= deadline)) break;
  }
  if (events_.empty()) return std::nullopt;
  auto e = std::move(events_.front());
  events_.pop_front();
  auto j = nlohmann::json::parse(e.data, nullptr, false);
  if (j.is_discarded()) j = nlohmann::json{{"unparsable", e.data}};
  if (e.has_id) j["__id"] = e.last_event_id;
  return j;
}

bool SseClient::WaitForHeartbeats(int n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (heartbeats() < n)
    if (!ReadMore(deadline)) return heartbeats() >= n;
  return true;
}

std::optional<nlohmann::json> SseClient::NextChange(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return std::nullopt;
    auto e = Next(left);
    if (!e) return std::nullopt;
    if (e->contains("seq")) return e;
  }
}

}  // namespace mgteam::test
