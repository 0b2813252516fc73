#include "mgteam/api_client.h"

#include <httplib.h>

#include <charconv>

namespace mgteam {

std::string ServerUrl::Origin() const { return scheme + "://" + host + ":" + std::to_string(port); }
std::string ServerUrl::ToString() const { return Origin() + prefix; }

Result<ServerUrl> ParseServerUrl(const std::string& raw) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("invalid_server_url",
                           "'" + raw + "' is not a server URL (" + why +
                               "); use e.g. http://127.0.0.1:8474");
  };
  ServerUrl u;
  std::string rest = raw;
  if (auto p = rest.find("://"); p != std::string::npos) {
    u.scheme = rest.substr(0, p);
    rest = rest.substr(p + 3);
  } else {
    u.scheme = "http";
  }
  if (u.scheme != "http" && u.scheme != "https") return bad("scheme must be http or https");
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  u.prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  if (hostport.empty()) return bad("no host");
  u.port = u.scheme == "https" ? 443 : 80;
  if (hostport.front() == '[') {  // [::1]:8080
    auto close = hostport.find(']');
    if (close == std::string::npos) return bad("unbalanced [");
    u.host = hostport.substr(1, close - 1);
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
        "unreachable", "cannot reach the mgteam server at " + url_.ToString() + " (" +
                           httplib::to_string(res.error()) +
                           "); check that it is running and that the URL is right "
                           "(mgteam server set URL, or MGTEAM_SERVER)");
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
