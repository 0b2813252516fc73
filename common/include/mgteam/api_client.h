// ApiClient: a small blocking client for the mgteam REST API, shared by the
// CLI and the agent. It speaks JSON, adds the bearer token and optional
// Idempotency-Key, and turns every failure (network, HTTP error JSON,
// malformed answers) into a Status whose message says what to do next.
//
// Thread-safety: one ApiClient per thread.
#pragma once

#include "mgteam/status.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace httplib {
class Client;
}

namespace mgteam {

struct ServerUrl {
  std::string scheme;  // http | https, lower case
  std::string host;    // lower case; an IPv6 address without its brackets
  int port = 0;        // always set: 80/443 when the URL leaves it out
  std::string prefix;  // path prefix without trailing slash ("" or "/mgteam")

  std::string Origin() const;  // scheme://host:port ([host] for IPv6)
  // The canonical spelling, Origin() + prefix: one server, one string. It is
  // the key of the server's token, the config's `server`, and the name and
  // binding of its replica file. The port is always written, the default one
  // too: replicas have always been named and bound that way, and renaming
  // them would strand the writes they still hold.
  std::string ToString() const;
  // localhost, 127.0.0.1 or ::1.
  bool IsLoopback() const;
};
// Parses a server URL in one canonical form, so that the spellings a user
// types or pastes name one server: "http://host:port[/prefix]", "https://...",
// or "host:port" (http). Scheme and host become lower case, a missing port
// the scheme's default, and trailing slashes and a trailing /api/v1 (a URL
// copied from an API call) are dropped. Refuses what cannot be a server's base
// URL: spaces, a query, a fragment, user info, an invitation link.
Result<ServerUrl> ParseServerUrl(const std::string& url);
// Whether `a` and `b` are one server: equal, or both loopback names for this
// machine with the same scheme, port and prefix (a token got through
// http://localhost:8474 is good for http://127.0.0.1:8474).
bool SameServer(const ServerUrl& a, const ServerUrl& b);

// Percent-encodes a query parameter value.
std::string UrlEncode(const std::string& s);
// "?a=1&b=x" from the non-empty values of `params` (or "" if none).
std::string QueryString(const std::map<std::string, std::string>& params);

class ApiClient {
 public:
  explicit ApiClient(ServerUrl url);
  ~ApiClient();
  ApiClient(ApiClient&&) noexcept;
  ApiClient& operator=(ApiClient&&) noexcept;

  void set_token(std::string token) { token_ = std::move(token); }
  void set_timeout(std::chrono::milliseconds connect, std::chrono::milliseconds read);
  const ServerUrl& url() const { return url_; }

  // `path` starts with "/api/v1/..." (the prefix is added). A successful
  // answer with an empty body yields a null json.
  Result<nlohmann::json> Get(const std::string& path);
  Result<nlohmann::json> Post(const std::string& path, const nlohmann::json& body,
                              const std::optional<std::string>& idempotency_key = std::nullopt);
  Result<nlohmann::json> Patch(const std::string& path, const nlohmann::json& body,
                               const std::optional<std::string>& idempotency_key = std::nullopt);
  Result<nlohmann::json> Delete(const std::string& path,
                                const std::optional<std::string>& idempotency_key = std::nullopt);

 private:
  Result<nlohmann::json> Send(const char* method, const std::string& path,
                              const nlohmann::json* body,
                              const std::optional<std::string>& idempotency_key);

  ServerUrl url_;
  std::string token_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace mgteam
