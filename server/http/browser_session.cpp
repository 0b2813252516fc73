#include "http/browser_session.h"

#include "mgteam/text.h"

namespace mgteam::server {
namespace {

Status CrossSite(const std::string& why) {
  return Status(Code::kPermissionDenied, "cross_site_request",
                "refused: a browser may change data only from mgteam's own pages, and this request " + why +
                    " (scripts and the CLI authenticate with a bearer token instead)");
}

bool ValidHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '[' || c == ']' ||
         c == ':';
}

bool Digits(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "host[:port]" (or "[v6]:port") with the scheme's default port made
// explicit; nothing when it is not a plain host and port.
std::optional<std::string> ExplicitAuthority(std::string_view authority, std::string_view scheme) {
  const std::string a = AsciiLower(authority);
  for (char c : a)
    if (!ValidHostChar(c)) return std::nullopt;
  std::string_view host = a, port;
  if (!a.empty() && a.front() == '[') {
    const size_t close = a.find(']');
    if (close == std::string::npos || a.find_first_of("[]", 1) != close) return std::nullopt;
    host = std::string_view(a).substr(0, close + 1);
    std::string_view rest = std::string_view(a).substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !Digits(rest.substr(1)))) return std::nullopt;
    if (!rest.empty()) port = rest.substr(1);
  } else {
    if (a.find_first_of("[]") != std::string::npos) return std::nullopt;
    const size_t colon = a.find(':');
    if (colon != std::string::npos) {
      if (a.find(':', colon + 1) != std::string::npos || !Digits(std::string_view(a).substr(colon + 1)))
        return std::nullopt;
      host = std::string_view(a).substr(0, colon);
      port = std::string_view(a).substr(colon + 1);
    }
  }
  if (host.empty() || host == "[]") return std::nullopt;
  std::string out(host);
  out += ':';
  out += port.empty() ? (scheme == "https" ? std::string_view("443") : std::string_view("80")) : port;
  return out;
}

}  // namespace

SessionCookie FindSessionCookie(std::string_view header) {
  SessionCookie found;
  int seen = 0;
  while (!header.empty()) {
    auto semi = header.find(';');
    const std::string pair = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != kSessionCookie) continue;
    std::string value = Trim(std::string_view(pair).substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (value.empty()) continue;
    if (++seen == 1) found.secret = std::move(value);
  }
  if (seen > 1) return SessionCookie{"", true};
  return found;
}

std::string SessionSetCookie(std::string_view secret, long long max_age_seconds, bool secure,
                             std::string_view path) {
  std::string c(kSessionCookie);
  c += '=';
  c += secret;
  c += "; Path=";
  c += path;
  c += "; Max-Age=";
  c += std::to_string(max_age_seconds);
  c += "; HttpOnly; SameSite=Strict";
  if (secure) c += "; Secure";
  return c;
}

std::string ClearedSessionCookie(bool secure, std::string_view path) {
  return SessionSetCookie("", 0, secure, path);
}

std::optional<ParsedOrigin> ParseOrigin(std::string_view origin) {
  const auto sep = origin.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  const std::string scheme = AsciiLower(origin.substr(0, sep));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  auto authority = ExplicitAuthority(origin.substr(sep + 3), scheme);
  if (!authority) return std::nullopt;
  return ParsedOrigin{scheme, *authority};
}

bool IsUnsafeMethod(std::string_view m) { return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE"; }

Status CheckSameOrigin(const RequestOrigin& o) {
  if (o.sec_fetch_site) {
    const std::string site = AsciiLower(Trim(*o.sec_fetch_site));
    if (site == "same-origin" || site == "none") return Status::Ok();
    return CrossSite("was sent by another site (Sec-Fetch-Site: " + site + ")");
  }
  const std::string origin = o.origin ? Trim(*o.origin) : std::string();
  if (origin.empty() || origin == "null") return CrossSite("names no origin (no Sec-Fetch-Site or Origin header)");
  const auto from = ParseOrigin(origin);
  if (!from) return CrossSite("names an origin that is not one (" + origin + ")");
  // As the request reached us: our own TLS or plain HTTP, at its Host.
  const std::string scheme = o.tls ? "https" : "http";
  if (o.host) {
    if (auto host = ExplicitAuthority(Trim(*o.host), scheme); host && *from == ParsedOrigin{scheme, *host})
      return Status::Ok();
  }
  // As browsers reach us through a proxy (--public-url).
  if (auto pub = ParseOrigin(std::string_view(o.public_url).substr(0, o.public_url.find('/', o.public_url.find("://") + 3)));
      pub && *from == *pub)
    return Status::Ok();
  return CrossSite("comes from " + origin);
}

}  // namespace mgteam::server
