#include "http/connection.h"

#include "mgteam/status.h"

#include <sys/socket.h>
#include <unistd.h>

namespace mgteam::server {

bool AddressSlots::Acquire(const std::string& ip, size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t& n = held_[ip];
  if (max > 0 && n >= max) return false;
  ++n;
  return true;
}

void AddressSlots::Release(const std::string& ip) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = held_.find(ip);
  if (it == held_.end()) return;
  if (--it->second == 0) held_.erase(it);
}

Connection::~Connection() {
  if (!taken && sock >= 0) {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
  if (slots) slots->Release(ip);
}

void Connection::Compact() {
  if (begin == 0) return;
  buf.erase(0, begin);
  begin = 0;
  if (buf.empty()) std::string().swap(buf);  // give the memory back
}

void Connection::Refuse(int status, const char* phrase, const std::string& code, const std::string& message,
                        const std::string& extra_headers) {
  if (aborted || taken) return;
  aborted = true;
  std::string body = ErrorBody(Status(CodeForHttpStatus(status), code, message)).dump();
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + phrase +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::send(sock, out.data() + off, out.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

}  // namespace mgteam::server
