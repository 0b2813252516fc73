#include "mgteam/api_client.h"

#include <doctest/doctest.h>

using namespace mgteam;

namespace {

std::string Canonical(const std::string& raw) {
  auto u = ParseServerUrl(raw);
  REQUIRE_MESSAGE(u.ok(), raw, ": ", u.status().message());
  return u->ToString();
}

bool Same(const std::string& a, const std::string& b) { return SameServer(*ParseServerUrl(a), *ParseServerUrl(b)); }

}  // namespace

TEST_CASE("server URLs: the spellings of one server have one canonical form") {
  CHECK(Canonical("http://127.0.0.1:8474") == "http://127.0.0.1:8474");
  CHECK(Canonical("127.0.0.1:8474") == "http://127.0.0.1:8474");
  CHECK(Canonical("HTTP://Example.COM:8474") == "http://example.com:8474");
  CHECK(Canonical("http://127.0.0.1:8474/") == "http://127.0.0.1:8474");
  CHECK(Canonical("http://127.0.0.1:8474///") == "http://127.0.0.1:8474");
  CHECK(Canonical("http://127.0.0.1:8474/api/v1") == "http://127.0.0.1:8474");
  CHECK(Canonical("http://127.0.0.1:8474/api/v1/") == "http://127.0.0.1:8474");
  CHECK(Canonical("https://example.com/mgteam/api/v1/") == "https://example.com:443/mgteam");
  CHECK(Canonical("https://example.com/MgTeam") == "https://example.com:443/MgTeam");  // paths keep their case
  // The default port is written out, so both spellings are one key.
  CHECK(Canonical("http://example.com") == Canonical("http://example.com:80"));
  CHECK(Canonical("https://example.com") == Canonical("https://example.com:443"));
  CHECK(Canonical("http://example.com") != Canonical("https://example.com"));
  CHECK(Canonical("http://[::1]:8474/") == "http://[::1]:8474");
  CHECK(Canonical("http://[::1]") == "http://[::1]:80");
  // Canonical forms parse to themselves.
  for (const char* raw : {"HTTPS://A.example:9000/x/api/v1/", "http://[::1]:8474", "localhost:1"})
    CHECK(Canonical(Canonical(raw)) == Canonical(raw));
}

TEST_CASE("server URLs: what cannot be a server's base URL is refused with a reason") {
  for (const char* raw : {"", "not a url", "http://exa mple.com", "ftp://example.com", "http://", "http://:8474",
                          "http://host:0", "http://host:65536", "http://host:port", "http://host?x=1",
                          "http://host/#frag", "http://user:pw@host:8474", "http://[::1", "http://::1:8474",
                          "http://host\n", "http://h\xC3\xA9st"}) {
    auto u = ParseServerUrl(raw);
    CHECK_MESSAGE(!u.ok(), "accepted: ", raw);
    if (!u.ok()) CHECK(u.status().reason() == "invalid_server_url");
  }
  auto link = ParseServerUrl("http://127.0.0.1:8474/join/mgi_0123abcd");
  REQUIRE_FALSE(link.ok());
  CHECK(link.status().message().find("mgteam join") != std::string::npos);
}

TEST_CASE("server URLs: loopback names with the same port are the same server") {
  CHECK(Same("http://localhost:8474", "http://127.0.0.1:8474"));
  CHECK(Same("http://[::1]:8474", "http://localhost:8474/"));
  CHECK(Same("http://127.0.0.1:8474/api/v1", "http://127.0.0.1:8474"));
  CHECK_FALSE(Same("http://localhost:8474", "http://127.0.0.1:8475"));
  CHECK_FALSE(Same("http://localhost:8474", "https://127.0.0.1:8474"));
  CHECK_FALSE(Same("http://localhost:8474/a", "http://127.0.0.1:8474"));
  CHECK_FALSE(Same("http://example.com:8474", "http://127.0.0.1:8474"));
  CHECK(ParseServerUrl("http://LOCALHOST:1")->IsLoopback());
  CHECK_FALSE(ParseServerUrl("http://10.0.0.1:1")->IsLoopback());
}
