#include "http/client_address.h"

#include <arpa/inet.h>

#include <algorithm>

namespace mgteam::server {

bool IsIpAddress(const std::string& text) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, text.c_str(), buf) == 1 || ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

std::string ClientAddress(const std::string& peer, const std::string& forwarded_for,
                          const std::vector<std::string>& trusted) {
  if (forwarded_for.empty() || std::find(trusted.begin(), trusted.end(), peer) == trusted.end()) return peer;
  auto comma = forwarded_for.rfind(',');
  std::string last = forwarded_for.substr(comma == std::string::npos ? 0 : comma + 1);
  auto b = last.find_first_not_of(" \t");
  auto e = last.find_last_not_of(" \t");
  last = b == std::string::npos ? "" : last.substr(b, e - b + 1);
  return IsIpAddress(last) ? last : peer;
}

}  // namespace mgteam::server
