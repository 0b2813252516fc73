#include "http/connection.h"

#include "mgteam/status.h"


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
  if (io) io->ShutdownSocket();
  io.reset();
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
  if (!io->ready()) return;  // a TLS handshake that did not finish: no channel to answer on
  std::string body = ErrorBody(Status(CodeForHttpStatus(status), code, message)).dump();
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + phrase +
                    "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
  io->WriteSome(out);
}

}  // namespace mgteam::server
