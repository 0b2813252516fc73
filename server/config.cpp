#include "config.h"

#include "http/client_address.h"
#include "mgteam/clock.h"

#include <charconv>
#include <cstdlib>
#include <filesystem>

namespace mgteam::server {

Status ParseListen(const std::string& s, std::string& host, int& port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos)
    return Status::Invalid("invalid_config", "--listen wants HOST:PORT, e.g. 127.0.0.1:8474");
  std::string h = s.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int p = -1;
  auto [ptr, ec] = std::from_chars(s.data() + colon + 1, s.data() + s.size(), p);
  if (ec != std::errc() || ptr != s.data() + s.size() || p < 0 || p > 65535)
    return Status::Invalid("invalid_config", "--listen: '" + s.substr(colon + 1) + "' is not a port");
  host = h.empty() ? "0.0.0.0" : h;
  port = p;
  return Status::Ok();
}

Status ServerConfig::Finish() {
  if (data_dir.empty()) {
    const char* xdg = std::getenv("XDG_DATA_HOME");
    const char* home = std::getenv("HOME");
    if (xdg && *xdg) data_dir = std::string(xdg) + "/mgteam-server";
    else if (home && *home) data_dir = std::string(home) + "/.local/share/mgteam-server";
    else data_dir = "./mgteam-data";
  }
  if (db_url.empty()) db_url = "sqlite:" + data_dir + "/mgteam.db";
  if (db_url.rfind("sqlite:", 0) != 0 && !IsPostgresUrl(db_url))
    return Status::Invalid("invalid_config",
                           "--db must be sqlite:/path/to/file.db or postgres://user@host:port/dbname");
  if (log_format != "text" && log_format != "json")
    return Status::Invalid("invalid_config", "--log-format must be text or json");
  if (threads < 8 || threads > 4096)
    return Status::Invalid("invalid_config", "--threads must be between 8 and 4096");
  if (heartbeat_seconds < 1 || heartbeat_seconds > 300)
    return Status::Invalid("invalid_config", "--heartbeat-interval must be 1 to 300 seconds");
  if (stream_max_backlog < 4096)
    return Status::Invalid("invalid_config", "--stream-max-backlog must be at least 4096 bytes");
  if (login_attempts < 1 || login_attempts > 1000000 || login_attempts_per_address < 1 ||
      login_attempts_per_address > 1000000)
    return Status::Invalid("invalid_config",
                           "--login-attempts and --login-attempts-per-address must be 1 to 1000000");
  if (login_delay_seconds < 1 || login_delay_seconds > 900)
    return Status::Invalid("invalid_config", "--login-delay must be 1 to 900 seconds");
  if (password_hash_concurrency < 0 || password_hash_concurrency > 64)
    return Status::Invalid("invalid_config",
                           "--password-hash-concurrency must be 1 to 64 (0: as many as cores, at most 4)");
  for (const auto& p : trusted_proxies)
    if (!IsIpAddress(p))
      return Status::Invalid("invalid_config", "--trusted-proxy wants an IP address (as the socket reports it), not '" +
                                                   p + "'");
  if (!metrics_listen.empty()) MG_RETURN_IF_ERROR(ParseListen(metrics_listen, metrics_host, metrics_port));
  if (tls_cert.empty() != tls_key.empty())
    return Status::Invalid("invalid_config", "--tls-cert and --tls-key go together: give both or neither");
  public_url_explicit = !public_url.empty();
  if (public_url.empty()) {
    std::string host = listen_host == "0.0.0.0" || listen_host == "::" ? "127.0.0.1" : listen_host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    public_url = std::string(tls() ? "https://" : "http://") + host + ":" + std::to_string(listen_port);
  }
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  MG_RETURN_IF_ERROR(ParseTtl(invitation_ttl_text, 60, 90LL * 86400,
                              "--invitation-ttl must be like 30m, 48h or 7d (at most 90d)", invitation_ttl));
  MG_RETURN_IF_ERROR(ParseTtl(idempotency_ttl_text, 1, 3650LL * 86400, "--idempotency-ttl must be like 24h or 30d",
                              idempotency_ttl));
  std::error_code ec;  // an unreadable directory is a refusal, not an exception
  if (!web_dir.empty() && !std::filesystem::is_regular_file(std::filesystem::path(web_dir) / "index.html", ec))
    return Status::Invalid("invalid_config", "--web-dir " + web_dir +
                                                 " holds no index.html; point it at the dashboard's files (server/web)");
  MG_RETURN_IF_ERROR(ParseTtl(session_ttl_text, 60, 366LL * 86400,
                              "--session-ttl must be like 12h or 14d (at least 1m, at most 366d)", session_ttl));
  if (smtp.enabled() && smtp.from.empty()) {
    std::string host = public_url.substr(public_url.find("://") + 3);
    host = host.substr(0, host.find_first_of(":/"));
    smtp.from = "mgteam@" + (host.empty() ? std::string("localhost") : host);
  }
  return smtp.Check();
}

// A duration flag as given ("48h"); `out` keeps its default when it is empty.
Status ParseTtl(const std::string& text, int64_t min_seconds, int64_t max_seconds, const char* error,
                std::chrono::seconds& out) {
  if (text.empty()) return Status::Ok();
  auto d = ParseDuration(text);
  int64_t seconds = d ? d->count() : 0;
  if (seconds < min_seconds || seconds > max_seconds) return Status::Invalid("invalid_config", error);
  out = std::chrono::seconds(seconds);
  return Status::Ok();
}

StoreOptions ServerConfig::StoreSettings() const {
  StoreOptions o;
  o.sqlite_synchronous = sqlite_synchronous;
  return o;
}

std::string ServerConfig::SqlitePath() const {
  if (db_url.rfind("sqlite:", 0) != 0) return "";
  std::string p = db_url.substr(7);
  if (p.rfind("//", 0) == 0) p = p.substr(2);  // sqlite:///abs/path
  return p;
}

}  // namespace mgteam::server
