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
  std::string scheme;  // http | https
  std::string host;
  int port = 0;
  std::string prefix;  // path prefix without trailing slash ("" or "/mgteam")

  std::string Origin() const;  // scheme://host:port
  std::string ToString() const;
};
// Accepts "http://host:port[/prefix]", "https://...", or "host:port" (http).
Result<ServerUrl> ParseServerUrl(const std::string& url);

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
