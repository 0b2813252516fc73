#include "exit_codes.h"
#include "invitation_link.h"

#include <doctest/doctest.h>

using namespace mgteam;
using namespace mgteam::cli;

namespace {

constexpr const char* kToken = "mgi_0123456789abcdef0123456789abcdef0123456789abcdef";

InvitationLink Parse(const std::string& text) {
  auto link = ParseInvitationLink(text);
  REQUIRE_MESSAGE(link.ok(), text, ": ", link.status().message());
  return *link;
}

}  // namespace

TEST_CASE("invitation links: the link, the bare token, and either with what came along when pasted") {
  const std::string token = kToken;
  for (const std::string& text :
       {"http://127.0.0.1:8474/join/" + token, "http://127.0.0.1:8474/join/" + token + "\n",
        "  http://127.0.0.1:8474/join/" + token + ").  ", "<http://127.0.0.1:8474/join/" + token + ">",
        "\"http://127.0.0.1:8474/join/" + token + "/\"", "Send them this link: http://127.0.0.1:8474/join/" + token,
        "HTTP://127.0.0.1:8474/join/" + token + "?utm_source=mail"}) {
    InvitationLink link = Parse(text);
    CHECK(link.token == token);
    REQUIRE(link.server);
    CHECK(link.server->ToString() == "http://127.0.0.1:8474");
    CHECK(link.ToString() == "http://127.0.0.1:8474/join/" + token);
  }
  CHECK(Parse("https://mg.example.com/mgteam/join/" + token).server->ToString() == "https://mg.example.com:443/mgteam");
  for (const std::string& text : {token, token + "\n", " " + token + ". ", "'" + token + "'"}) {
    InvitationLink link = Parse(text);
    CHECK(link.token == token);
    CHECK_FALSE(link.server);
    CHECK(link.ToString() == token);
  }
}

TEST_CASE("invitation links: anything else is a usage error that shows what a link looks like") {
  for (const char* text : {"", "   ", "mgi_", "hello", "http://127.0.0.1:8474", "http://127.0.0.1:8474/join/",
                           "http://127.0.0.1:8474/join/abc", "mg_0123abcd", "ftp://host/join/mgi_0123"}) {
    auto link = ParseInvitationLink(text);
    CHECK_MESSAGE(!link.ok(), "accepted: ", text);
    if (!link.ok()) CHECK(ExitCodeFor(link.status()) == kExitUsage);
  }
  CHECK(ParseInvitationLink("hello").status().message().find("/join/mgi_") != std::string::npos);
}
