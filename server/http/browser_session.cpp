#include "http/browser_session.h"

#include "mgteam/text.h"

namespace mgteam::server {
namespace {

// "https://Host:443/" -> "host:443": the authority of an origin or URL,
// lowercased, without a trailing path.
std::string Authority(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find('/'));
  return AsciiLower(url);
}

// The default port is often left out of one side and not the other.
std::string WithoutDefaultPort(std::string authority, std::string_view scheme_of) {
  const std::string_view suffix = scheme_of.rfind("https://", 0) == 0 ? ":443" : ":80";
  if (authority.size() > suffix.size() &&
      authority.compare(authority.size() - suffix.size(), suffix.size(), suffix) == 0)
    authority.resize(authority.size() - suffix.size());
  return authority;
}

Status CrossSite(const std::string& why) {
  return Status(Code::kPermissionDenied, "cross_site_request",
                "refused: a browser may change data only from mgteam's own pages, and this request " + why +
                    " (scripts and the CLI authenticate with a bearer token instead)");
}

}  // namespace

std::optional<std::string> SessionFromCookie(std::string_view header) {
  while (!header.empty()) {
    auto semi = header.find(';');
    const std::string pair = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != kSessionCookie) continue;
    std::string value = Trim(std::string_view(pair).substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (!value.empty()) return value;
  }
  return std::nullopt;
}

std::string SessionSetCookie(std::string_view secret, long long max_age_seconds, bool secure) {
  std::string c(kSessionCookie);
  c += '=';
  c += secret;
  c += "; Path=/; Max-Age=";
  c += std::to_string(max_age_seconds);
  c += "; HttpOnly; SameSite=Strict";
  if (secure) c += "; Secure";
  return c;
}

std::string ClearedSessionCookie(bool secure) { return SessionSetCookie("", 0, secure); }

bool IsUnsafeMethod(std::string_view m) { return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE"; }

Status CheckSameOrigin(const RequestOrigin& o) {
  if (o.sec_fetch_site) {
    const std::string site = AsciiLower(Trim(*o.sec_fetch_site));
    if (site == "same-origin" || site == "none") return Status::Ok();
    return CrossSite("was sent by another site (Sec-Fetch-Site: " + site + ")");
  }
  const std::string origin = o.origin ? Trim(*o.origin) : std::string();
  if (origin.empty() || origin == "null") return CrossSite("names no origin (no Sec-Fetch-Site or Origin header)");
  const std::string from = WithoutDefaultPort(Authority(origin), origin);
  if (o.host && from == WithoutDefaultPort(AsciiLower(Trim(*o.host)), origin)) return Status::Ok();
  if (!o.public_url.empty() && from == WithoutDefaultPort(Authority(o.public_url), o.public_url))
    return Status::Ok();
  return CrossSite("comes from " + origin);
}

}  // namespace mgteam::server
