// InspectHead: is a request head complete, and may it be served? Pure, so the
// rules are unit-tested without sockets (docs/security.md, "Connections").
//
// A head is the request line and header lines up to the blank line. It is
// refused with 431 when it grows past the byte or header-count limit (a
// client sending a million headers must not cost the server memory), and
// with 400 when its framing is ambiguous: two Content-Length headers, or
// Content-Length together with Transfer-Encoding — behind a proxy that reads
// them differently, that is how requests are smuggled — or a line ending in a
// bare LF, where cpp-httplib would see a line this check did not; or a body
// (Transfer-Encoding, a non-zero Content-Length) on a method whose body
// cpp-httplib does not read (GET, HEAD, ...), which it would take for the
// next request. A POST, PUT or PATCH
// with neither has no defined body (`curl -X POST` without -d sends that);
// the library would wait for the connection to close to find its end, so it
// is answered at once instead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mgteam::server {

struct HeadLimits {
  size_t max_bytes = 64 * 1024;
  size_t max_headers = 100;
};

struct HeadVerdict {
  enum Kind { kIncomplete, kComplete, kTooLarge, kBadFraming, kLengthRequired, kMultipleRanges } kind = kIncomplete;
  size_t length = 0;    // kComplete: bytes of the head, blank line included
  std::string reason;   // kTooLarge / kBadFraming: what was wrong
};

// `bytes`: what has arrived on the connection so far (it may hold more than
// one request, or a body after the head).
HeadVerdict InspectHead(std::string_view bytes, const HeadLimits& limits);

}  // namespace mgteam::server
