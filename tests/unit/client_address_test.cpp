// Who a request comes from (server/http/client_address.h): only a trusted
// proxy's own entry in X-Forwarded-For counts.
#include "http/client_address.h"

#include <doctest/doctest.h>

using mgteam::server::ClientAddress;
using mgteam::server::IsIpAddress;

TEST_CASE("client address: the peer, unless a trusted proxy appended one") {
  const std::vector<std::string> proxy = {"10.0.0.5", "::1"};
  CHECK(ClientAddress("203.0.113.9", "", proxy) == "203.0.113.9");
  CHECK(ClientAddress("203.0.113.9", "198.51.100.1", proxy) == "203.0.113.9");  // not a proxy: ignored
  CHECK(ClientAddress("10.0.0.5", "198.51.100.1", proxy) == "198.51.100.1");
  CHECK(ClientAddress("10.0.0.5", "1.2.3.4, 198.51.100.1", proxy) == "198.51.100.1");  // the last: the proxy's own
  CHECK(ClientAddress("10.0.0.5", "198.51.100.1 ,  2001:db8::7 ", proxy) == "2001:db8::7");
  CHECK(ClientAddress("::1", "198.51.100.1", proxy) == "198.51.100.1");
  CHECK(ClientAddress("10.0.0.5", "unknown", proxy) == "10.0.0.5");  // not an address: the peer
  CHECK(ClientAddress("10.0.0.5", "198.51.100.1,", proxy) == "10.0.0.5");
  CHECK(ClientAddress("10.0.0.5", "198.51.100.1", {}) == "10.0.0.5");
  CHECK(IsIpAddress("127.0.0.1"));
  CHECK(IsIpAddress("::ffff:127.0.0.1"));
  CHECK_FALSE(IsIpAddress("localhost"));
  CHECK_FALSE(IsIpAddress("10.0.0.0/8"));
}
