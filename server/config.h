// ServerConfig: everything mgteam-server can be told, from flags, MGTEAM_*
// environment variables or a config file (in that order of precedence).
#pragma once

#include "mail.h"
#include "mgteam/status.h"
#include "store/open_store.h"

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace mgteam::server {

struct ServerConfig {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8474;
  std::string data_dir;       // default: $XDG_DATA_HOME/mgteam-server
  std::string db_url;         // default: sqlite:<data_dir>/mgteam.db
  bool open_signup = false;
  std::string log_level = "info";
  std::string log_format = "text";  // text | json
  std::string public_url;           // default: http://<listen>, set once bound
  bool public_url_explicit = false;
  std::chrono::seconds invitation_ttl{7 * 24 * 3600};
  std::string invitation_ttl_text;  // --invitation-ttl as given ("7d", "48h")
  SmtpConfig smtp;
  size_t max_body_bytes = 1024 * 1024;
  int threads = 256;  // most HTTP workers at once (streams hold none)
  // Connection handling (docs/security.md, "Connections").
  int head_timeout_seconds = 10;      // first byte of a request head to its end
  int body_grace_seconds = 10;        // a body may take this long, plus 1 s per 16 KiB received
  size_t max_head_bytes = 64 * 1024;  // request line + headers
  size_t max_headers = 100;
  size_t max_connections_per_address = 512;  // waiting or being served; streams not counted (0: no cap)
  int heartbeat_seconds = 15;
  size_t stream_max_backlog = 1024 * 1024;
  size_t stream_backlog_budget = 256u << 20;  // all streams together (0: none)
  size_t max_streams_per_user = 32;  // 0: no cap
  size_t max_streams = 0;            // 0: the open-files limit less a reserve for everything else
  std::string sqlite_synchronous = "NORMAL";
  // Several instances on one PostgreSQL database tell each other about new
  // events over Redis pub/sub when set, else over LISTEN/NOTIFY (docs/deploy.md).
  std::string redis_url;
  // Login throttling (docs/security.md): failed logins an account, and a
  // client address, may have before each further attempt waits; the first
  // wait, which doubles per further failure up to 15 minutes.
  int login_attempts = 5;
  int login_attempts_per_address = 20;
  int login_delay_seconds = 1;
  // Most password hashes at once (64 MiB each); 0: min(4, cores).
  int password_hash_concurrency = 0;
  // TLS (docs/security.md, "TLS"): PEM files; both or neither. Re-read on SIGHUP.
  std::string tls_cert;
  std::string tls_key;
  bool tls() const { return !tls_cert.empty(); }
  // Idempotency records older than this are purged (docs/api.md).
  std::chrono::seconds idempotency_ttl{24 * 3600};
  std::string idempotency_ttl_text;  // --idempotency-ttl as given ("24h")
  // How long a dashboard sign-in lasts (docs/dashboard.md).
  std::chrono::seconds session_ttl{14 * 24 * 3600};
  std::string session_ttl_text;  // --session-ttl as given ("14d")
  // Serve the dashboard from this directory instead of the copy built in
  // (development: edit, reload, no rebuild).
  std::string web_dir;
  // Reverse proxies whose X-Forwarded-For is believed, and which are exempt
  // from the per-address connection cap (docs/security.md, "Behind a proxy").
  std::vector<std::string> trusted_proxies;
  // Serve /metrics here (e.g. 127.0.0.1:9474) instead of on the API port.
  std::string metrics_listen;
  std::string metrics_host;
  int metrics_port = 0;
  int ready_fd = -1;  // when >= 0: "<port>\n" is written here once listening

  // Fills defaults that depend on other fields and checks values.
  Status Finish();
  // The SQLite file path if db_url is a SQLite URL.
  std::string SqlitePath() const;
  // What OpenStore needs besides the URL.
  StoreOptions StoreSettings() const;
};

// A duration flag ("30m", "48h", "7d") within [min, max] seconds into `out`;
// empty text leaves `out` as it is; otherwise `error` says what is wanted.
Status ParseTtl(const std::string& text, int64_t min_seconds, int64_t max_seconds, const char* error,
                std::chrono::seconds& out);

// "host:port" -> host, port. Port 0 means "any free port".
Status ParseListen(const std::string& s, std::string& host, int& port);

}  // namespace mgteam::server
