// InspectHead: when a request head is complete, and which heads are refused.
#include "http/request_head.h"

#include <doctest/doctest.h>

using namespace mgteam::server;

TEST_CASE("a head is complete at the blank line, whatever follows") {
  HeadLimits l;
  CHECK(InspectHead("GET / HTTP/1.1\r\nHost: x\r\n", l).kind == HeadVerdict::kIncomplete);
  auto v = InspectHead("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next", l);
  CHECK(v.kind == HeadVerdict::kComplete);
  CHECK(v.length == std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n").size());
  CHECK(InspectHead("\r\nGET / HTTP/1.1\r\n\r\n", l).kind == HeadVerdict::kComplete);  // a stray CRLF first
  CHECK(InspectHead("POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", l).kind == HeadVerdict::kComplete);
  CHECK(InspectHead("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", l).kind == HeadVerdict::kComplete);
}

TEST_CASE("too many header lines or bytes are refused before the head completes") {
  HeadLimits l;
  l.max_headers = 10;
  l.max_bytes = 200;
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 12; ++i) head += "X: y\r\n";
  CHECK(InspectHead(head, l).kind == HeadVerdict::kTooLarge);  // no blank line yet
  CHECK(InspectHead("GET / HTTP/1.1\r\nX: " + std::string(300, 'a'), l).kind == HeadVerdict::kTooLarge);
  CHECK(InspectHead("GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n", l).kind == HeadVerdict::kComplete);
}

TEST_CASE("ambiguous framing is refused, and header names match in any case") {
  HeadLimits l;
  CHECK(InspectHead("POST / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n", l).kind ==
        HeadVerdict::kBadFraming);
  CHECK(InspectHead("POST / HTTP/1.1\r\nCONTENT-LENGTH: 1\r\nTransfer-Encoding: chunked\r\n\r\n", l).kind ==
        HeadVerdict::kBadFraming);
  CHECK(InspectHead("POST / HTTP/1.1\r\nX-Content-Length: 1\r\nContent-Length: 1\r\n\r\n", l).kind ==
        HeadVerdict::kComplete);
}

TEST_CASE("a POST, PUT or PATCH without a length is answered at once, a GET is not") {
  HeadLimits l;
  auto v = InspectHead("POST /api HTTP/1.1\r\nHost: x\r\n\r\n", l);
  CHECK(v.kind == HeadVerdict::kLengthRequired);
  CHECK(v.reason == "POST");
  CHECK(InspectHead("PATCH /api HTTP/1.1\r\n\r\n", l).kind == HeadVerdict::kLengthRequired);
  CHECK(InspectHead("GET /api HTTP/1.1\r\n\r\n", l).kind == HeadVerdict::kComplete);
  CHECK(InspectHead("DELETE /api HTTP/1.1\r\n\r\n", l).kind == HeadVerdict::kComplete);
}

TEST_CASE("a bare LF in a head is refused: httplib would read a header this check does not see") {
  HeadLimits l;
  auto v = InspectHead("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX: a\nContent-Length: 5\r\n\r\n", l);
  CHECK(v.kind == HeadVerdict::kBadFraming);
  CHECK(v.reason == "a line ending in a bare LF");
  CHECK(InspectHead("GET / HTTP/1.1\r\nHost: x\r\r\n\n\r\n\r\n", l).kind == HeadVerdict::kBadFraming);
  CHECK(InspectHead("GET / HTTP/1.1\nHost: x", l).kind == HeadVerdict::kBadFraming);  // before it completes
  CHECK(InspectHead("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", l).kind == HeadVerdict::kComplete);  // a CR alone is text
}

TEST_CASE("a body on a GET is refused: httplib would read it as the next request") {
  HeadLimits l;
  // "GET /healthz" with a whole second request as its body: smuggled behind
  // a proxy that reuses the connection.
  std::string smuggled = "GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n";
  auto v = InspectHead("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(smuggled.size()) +
                           "\r\n\r\n" + smuggled,
                       l);
  CHECK(v.kind == HeadVerdict::kBadFraming);
  CHECK(v.reason == "a body on a GET request");
  CHECK(InspectHead("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", l).kind == HeadVerdict::kBadFraming);
  CHECK(InspectHead("HEAD / HTTP/1.1\r\ncontent-length:  5 \r\n\r\n", l).kind == HeadVerdict::kBadFraming);
  CHECK(InspectHead("OPTIONS / HTTP/1.1\r\nContent-Length: 1\r\n\r\n", l).kind == HeadVerdict::kBadFraming);
  // An empty body says nothing more than no body; methods whose body is read keep theirs.
  CHECK(InspectHead("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", l).kind == HeadVerdict::kComplete);
  CHECK(InspectHead("GET / HTTP/1.1\r\nContent-Length:0\r\n\r\n", l).kind == HeadVerdict::kComplete);
  CHECK(InspectHead("DELETE /x HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", l).kind == HeadVerdict::kComplete);
  CHECK(InspectHead("PATCH /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", l).kind == HeadVerdict::kComplete);
}

TEST_CASE("a Range header asking for more than one range is refused, one range passes") {
  HeadLimits l;
  CHECK(InspectHead("GET /app.js HTTP/1.1\r\nRange: bytes=0-,0-,0-\r\n\r\n", l).kind == HeadVerdict::kMultipleRanges);
  CHECK(InspectHead("GET /app.js HTTP/1.1\r\nrange: bytes=0-1, 5-9\r\n\r\n", l).kind == HeadVerdict::kMultipleRanges);
  CHECK(InspectHead("GET /app.js HTTP/1.1\r\nRange: bytes=0-99\r\n\r\n", l).kind == HeadVerdict::kComplete);
  CHECK(InspectHead("GET /app.js HTTP/1.1\r\nX-Range: a,b\r\n\r\n", l).kind == HeadVerdict::kComplete);
}
