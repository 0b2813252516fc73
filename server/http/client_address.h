// ClientAddress: who a request comes from, for the limits that count per
// client (login throttling, logs). Normally the socket's peer. Behind a
// reverse proxy every request comes from the proxy, so a peer the operator
// named with --trusted-proxy may say who its client was: the last entry of
// X-Forwarded-For, the one the proxy itself appended (earlier entries are
// whatever the client sent, and a client can forge those). Any other peer's
// X-Forwarded-For is ignored. Pure: unit-tested without a server.
#pragma once

#include <string>
#include <vector>

namespace mgteam::server {

// `trusted`: exact IP addresses (IPv4 or IPv6 text, as the socket reports).
std::string ClientAddress(const std::string& peer, const std::string& forwarded_for,
                          const std::vector<std::string>& trusted);

// True if `text` is an IPv4 or IPv6 address.
bool IsIpAddress(const std::string& text);

}  // namespace mgteam::server
