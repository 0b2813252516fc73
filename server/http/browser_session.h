// Browser sessions: the cookie that carries one and the same-origin rule for
// requests it authenticates (docs/dashboard.md).
//
// A session is a token of its own kind ("mgs_..."), stored hashed like every
// token, that only ever travels in the HttpOnly cookie `mgteam_session`. A
// browser attaches a cookie to requests other sites make it send, so a write
// authenticated by the cookie must prove it came from our own pages: modern
// browsers say so in Sec-Fetch-Site, older ones in Origin. Bearer tokens need
// no such check (a page cannot make a browser attach one). Pure, so it is
// unit-tested without a server.
#pragma once

#include "mgteam/status.h"

#include <optional>
#include <string>
#include <string_view>

namespace mgteam::server {

inline constexpr std::string_view kSessionCookie = "mgteam_session";
inline constexpr std::string_view kSessionPrefix = "mgs_";

// The session secret in a Cookie header, if there is exactly one
// `mgteam_session=` pair with a value. Two are refused rather than one
// picked: cookies are shared by every port of a host, so another program's
// page there can add a second one (with a longer Path, which browsers send
// first) to sign the visitor in to an account of its choosing.
struct SessionCookie {
  std::string secret;  // empty when none, or when ambiguous
  bool ambiguous = false;
};
SessionCookie FindSessionCookie(std::string_view cookie_header);

// Set-Cookie values: a session lasting `max_age_seconds`, and one that
// clears it. `secure` when the browser reaches us over HTTPS (our own TLS or
// an https --public-url behind a proxy).
std::string SessionSetCookie(std::string_view secret, long long max_age_seconds, bool secure,
                             std::string_view path = "/");
std::string ClearedSessionCookie(bool secure, std::string_view path = "/");

// What a browser told us about where a request came from.
struct RequestOrigin {
  std::optional<std::string> sec_fetch_site;  // "same-origin", "cross-site", ...
  std::optional<std::string> origin;          // "https://host:port" or "null"
  std::optional<std::string> host;            // the Host header
  std::string public_url;                     // the server's --public-url
  bool tls = false;                           // the request came over our own TLS
};

// True for the methods that change something (POST, PUT, PATCH, DELETE).
bool IsUnsafeMethod(std::string_view method);

// OK when the request came from this server's own pages: Sec-Fetch-Site is
// same-origin (or none: typed by the user), or, when a browser sends no
// Sec-Fetch-Site (Chrome sends it only to HTTPS and localhost), Origin names
// this server exactly: scheme, host and port as the request reached us
// (http, or https over our TLS, and the Host header), or as --public-url
// says browsers reach us. Otherwise 403 cross_site_request.
Status CheckSameOrigin(const RequestOrigin& o);

// "https://Host:443" -> {"https", "host:443"}; "http://h" -> {"http", "h:80"}:
// scheme and authority with the port made explicit, or nothing when the
// text is not exactly an http(s) origin (no path, user, query or fragment).
struct ParsedOrigin {
  std::string scheme;
  std::string authority;
  bool operator==(const ParsedOrigin&) const = default;
};
std::optional<ParsedOrigin> ParseOrigin(std::string_view origin);

}  // namespace mgteam::server
