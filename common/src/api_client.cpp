#include "mgteam/api_client.h"

#include "mgteam/text.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace mgteam {

namespace {

bool IsIpv6(const std::string& host) { return host.find(':') != std::string::npos; }

// A host name or IPv4 address: letters, digits, dots, hyphens (and the
// underscores some container names have).
bool IsHostName(const std::string& h) {
  return !h.empty() && std::all_of(h.begin(), h.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '.' || c == '-' || c == '_';
         });
}

bool IsIpv6Literal(const std::string& h) {
  return !h.empty() && std::all_of(h.begin(), h.end(), [](unsigned char c) {
           return std::isxdigit(c) || c == ':' || c == '.';
         });
}

// Characters no server base URL has: they come from pasting a sentence, a
// query or a fragment along with it.
bool HasForeignCharacter(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) {
    return c <= ' ' || c >= 0x7f || std::strchr("?#\"<>\\^`{|}", c) != nullptr;
  });
}

// "/mgteam/" -> "/mgteam", "/api/v1/" -> "", "/mgteam/api/v1" -> "/mgteam".
std::string CanonicalPrefix(std::string prefix) {
  auto trim = [&] {
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  };
  trim();
  constexpr std::string_view kApi = "/api/v1";
  if (prefix.size() >= kApi.size() && prefix.compare(prefix.size() - kApi.size(), kApi.size(), kApi) == 0) {
    prefix.resize(prefix.size() - kApi.size());
    trim();
  }
  return prefix;
}

// Why a request got no answer, in words a user can act on (httplib's own
// names say "Connection" for a refused connection and an unknown host alike).
std::string Cause(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection: return "could not connect (no such host, or nothing listening on that port)";
    case httplib::Error::ConnectionTimeout: return "the connection timed out";
    case httplib::Error::Read: return "no answer (the connection closed or timed out)";
    case httplib::Error::Write: return "the request could not be sent";
    default: return httplib::to_string(e);
  }
}

}  // namespace

std::string ServerUrl::Origin() const {
  return scheme + "://" + (IsIpv6(host) ? "[" + host + "]" : host) + ":" + std::to_string(port);
}
std::string ServerUrl::ToString() const { return Origin() + prefix; }

bool ServerUrl::IsLoopback() const { return host == "localhost" || host == "127.0.0.1" || host == "::1"; }

bool SameServer(const ServerUrl& a, const ServerUrl& b) {
  if (a.scheme != b.scheme || a.port != b.port || a.prefix != b.prefix) return false;
  return a.host == b.host || (a.IsLoopback() && b.IsLoopback());
}

Result<ServerUrl> ParseServerUrl(const std::string& raw) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("invalid_server_url",
                           "'" + raw + "' is not a server URL (" + why +
                               "); use e.g. http://127.0.0.1:8474");
  };
  if (raw.empty()) return bad("it is empty");
  if (HasForeignCharacter(raw)) return bad("it has spaces, a query or a fragment");
  ServerUrl u;
  std::string rest = raw;
  if (auto p = rest.find("://"); p != std::string::npos) {
    u.scheme = AsciiLower(rest.substr(0, p));
    rest = rest.substr(p + 3);
  } else {
    u.scheme = "http";
  }
  if (u.scheme != "http" && u.scheme != "https") return bad("scheme must be http or https");
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  u.prefix = slash == std::string::npos ? "" : rest.substr(slash);
  if (u.prefix.find("/join/") != std::string::npos)
    return bad("that is an invitation link; accept it with `mgteam join LINK`");
  u.prefix = CanonicalPrefix(u.prefix);
  if (hostport.find('@') != std::string::npos)
    return bad("user names and passwords do not go in the URL; sign in with `mgteam login`");
  if (hostport.empty()) return bad("no host");
  u.port = u.scheme == "https" ? 443 : 80;
  const bool bracketed = hostport.front() == '[';
  if (bracketed) {  // [::1]:8080
    auto close = hostport.find(']');
    if (close == std::string::npos) return bad("unbalanced [");
    u.host = hostport.substr(1, close - 1);
    if (!IsIpv6Literal(u.host)) return bad("not an IPv6 address in [ ]");
    hostport = hostport.substr(close + 1);
    if (!hostport.empty() && hostport.front() != ':') return bad("junk after ]");
    if (!hostport.empty()) hostport = "x" + hostport;  // reuse the colon parsing below
  }
  if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    int port = 0;
    const char* b = hostport.data() + colon + 1;
    const char* e = hostport.data() + hostport.size();
    auto [ptr, ec] = std::from_chars(b, e, port);
    if (ec != std::errc() || ptr != e || port <= 0 || port > 65535) return bad("bad port");
    u.port = port;
    if (u.host.empty()) u.host = hostport.substr(0, colon);
  } else if (u.host.empty()) {
    u.host = hostport;
  }
  if (u.host.empty()) return bad("no host");
  u.host = AsciiLower(u.host);
  if (!bracketed && !IsHostName(u.host)) return bad("'" + u.host + "' is not a host name (an IPv6 address goes in [ ])");
  return u;
}

std::string UrlEncode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string QueryString(const std::map<std::string, std::string>& params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    // Appended piece by piece: `const char* + std::string&&` makes GCC 12 at
    // -O3 report a bogus -Wrestrict overlap (GCC bug 105329), and appending
    // into q builds no temporaries anyway.
    q += q.empty() ? '?' : '&';
    q += UrlEncode(k);
    q += '=';
    q += UrlEncode(v);
  }
  return q;
}

ApiClient::ApiClient(ServerUrl url) : url_(std::move(url)) {
  http_ = std::make_unique<httplib::Client>(url_.Origin());
  http_->set_tcp_nodelay(true);
  http_->set_connection_timeout(std::chrono::seconds(5));
  http_->set_read_timeout(std::chrono::seconds(30));
  http_->set_keep_alive(true);
}

ApiClient::~ApiClient() = default;
ApiClient::ApiClient(ApiClient&&) noexcept = default;
ApiClient& ApiClient::operator=(ApiClient&&) noexcept = default;

void ApiClient::set_timeout(std::chrono::milliseconds connect, std::chrono::milliseconds read) {
  http_->set_connection_timeout(connect);
  http_->set_read_timeout(read);
}

Result<nlohmann::json> ApiClient::Get(const std::string& path) {
  return Send("GET", path, nullptr, std::nullopt);
}
Result<nlohmann::json> ApiClient::Post(const std::string& path, const nlohmann::json& body,
                                       const std::optional<std::string>& key) {
  return Send("POST", path, &body, key);
}
Result<nlohmann::json> ApiClient::Patch(const std::string& path, const nlohmann::json& body,
                                        const std::optional<std::string>& key) {
  return Send("PATCH", path, &body, key);
}
Result<nlohmann::json> ApiClient::Delete(const std::string& path,
                                         const std::optional<std::string>& key) {
  return Send("DELETE", path, nullptr, key);
}

Result<nlohmann::json> ApiClient::Send(const char* method, const std::string& path,
                                       const nlohmann::json* body,
                                       const std::optional<std::string>& key) {
  httplib::Request req;
  req.method = method;
  req.path = url_.prefix + path;
  req.set_header("Accept", "application/json");
  req.set_header("User-Agent", "mgteam/" MGTEAM_VERSION);
  if (!token_.empty()) req.set_header("Authorization", "Bearer " + token_);
  if (key) req.set_header("Idempotency-Key", *key);
  if (body) {
    req.body = body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    req.set_header("Content-Type", "application/json");
  }
  auto res = http_->send(req);
  if (!res && (res.error() == httplib::Error::SSLServerVerification || res.error() == httplib::Error::SSLConnection))
    return Status::Unavailable(
        "tls_failed", "cannot make a TLS connection to " + url_.ToString() + " (" + httplib::to_string(res.error()) +
                          "); if the server's certificate is self-signed or from a private CA, point "
                          "SSL_CERT_FILE at that certificate (docs/security.md, \"TLS\")");
  if (!res) {
    return Status::Unavailable(
        "unreachable", "cannot reach the mgteam server at " + url_.ToString() + " (" + Cause(res.error()) +
                           "); check that it is running and that the URL is right "
                           "(mgteam server set URL, or MGTEAM_SERVER)")
        .with("cause", Cause(res.error()));
  }
  if (res->status >= 400) return StatusFromErrorBody(res->status, res->body);
  if (res->body.empty()) return nlohmann::json();
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded())
    return Status::Internal("the server at " + url_.ToString() +
                            " answered with something that is not JSON; is it an mgteam server?");
  return j;
}

}  // namespace mgteam
