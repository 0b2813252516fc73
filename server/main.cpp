// mgteam-server: the self-hostable mgteam server.
//
//   mgteam-server [--listen HOST:PORT] [--data-dir DIR] [--open-signup] ...
//   mgteam-server migrate      apply database migrations and exit
//   mgteam-server routes       print the route table (method, path, permission)
#include "app.h"
#include "auth.h"
#include "mgteam/logging.h"
#include "routes/routes.h"
#include "store/migrate.h"
#include "store/open_store.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <pthread.h>
#include <thread>

using namespace mgteam;
using namespace mgteam::server;

namespace {

int Fail(const Status& s) {
  std::fprintf(stderr, "mgteam-server: %s\n", s.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  ServerConfig cfg;
  std::string listen = "127.0.0.1:8474";
  bool json_routes = false;

  CLI::App app{"mgteam-server: real-time team sync for AI coding memory graphs"};
  app.set_version_flag("--version", std::string("mgteam-server ") + MGTEAM_VERSION);
  app.set_config("--config", "", "Read options from a TOML file (keys as long flag names)");
  app.fallthrough();
  app.option_defaults()->always_capture_default();
  app.add_option("--listen", listen, "Address to listen on (port 0: any free port)")
      ->envname("MGTEAM_LISTEN");
  app.add_option("--data-dir", cfg.data_dir, "Directory for the database (default $XDG_DATA_HOME/mgteam-server)")
      ->envname("MGTEAM_DATA_DIR");
  app.add_flag("--open-signup", cfg.open_signup, "Let anyone sign up (otherwise only the first user or invitees)")
      ->envname("MGTEAM_OPEN_SIGNUP");
  app.add_option("--db", cfg.db_url, "Database URL (default sqlite:<data-dir>/mgteam.db)")
      ->envname("MGTEAM_DB");
  app.add_option("--redis", cfg.redis_url,
                 "Redis URL (redis://[:password@]host[:port]) for fan-out between instances sharing a "
                 "PostgreSQL database; without it they use LISTEN/NOTIFY")
      ->envname("MGTEAM_REDIS");
  app.add_option("--log-level", cfg.log_level, "trace, debug, info, warn, error or off")
      ->envname("MGTEAM_LOG_LEVEL");
  app.add_option("--log-format", cfg.log_format, "text or json")->envname("MGTEAM_LOG_FORMAT");
  app.add_option("--public-url", cfg.public_url, "URL clients use to reach this server (for links)")
      ->envname("MGTEAM_PUBLIC_URL");
  app.add_option("--max-body", cfg.max_body_bytes, "Largest accepted request body, in bytes");
  app.add_option("--head-timeout", cfg.head_timeout_seconds,
                 "Seconds a client may take to send a request head, from its first byte (408 after)")
      ->check(CLI::Range(1, 3600));
  app.add_option("--body-grace", cfg.body_grace_seconds,
                 "Seconds a request body may take, plus one per 16 KiB received (408 after)")
      ->check(CLI::Range(1, 3600));
  app.add_option("--max-head-bytes", cfg.max_head_bytes, "Largest request line + headers, in bytes (431 above)")
      ->check(CLI::Range(1024, 1024 * 1024));
  app.add_option("--max-headers", cfg.max_headers, "Most header lines in one request (431 above)")
      ->check(CLI::Range(8, 10000));
  app.add_option("--max-connections-per-address", cfg.max_connections_per_address,
                 "Most connections one client address may hold, streams aside (0: no cap; 429 above)");
  app.add_option("--threads", cfg.threads, "Most HTTP worker threads at once (streams hold none)")
      ->envname("MGTEAM_THREADS");
  app.add_option("--max-streams-per-user", cfg.max_streams_per_user,
                 "Most live streams one account may hold at once (0: no cap; 429 above)");
  app.add_option("--max-streams", cfg.max_streams,
                 "Most live streams in all (default: the open-files limit less a reserve; 503 above)");
  app.add_option("--heartbeat-interval", cfg.heartbeat_seconds, "Seconds of silence before a stream heartbeat");
  app.add_option("--stream-max-backlog", cfg.stream_max_backlog,
                 "Unsent bytes a stream may queue before it is cut off as too slow");
  app.add_option("--stream-backlog-budget", cfg.stream_backlog_budget,
                 "Unsent bytes all streams together may queue; past it the furthest behind are cut off (0: none)");
  app.add_option("--sqlite-synchronous", cfg.sqlite_synchronous,
                 "NORMAL (survives process crashes) or FULL (also power loss)");
  app.add_option("--login-attempts", cfg.login_attempts,
                 "Failed logins an account may have before each further attempt waits")
      ->envname("MGTEAM_LOGIN_ATTEMPTS");
  app.add_option("--login-attempts-per-address", cfg.login_attempts_per_address,
                 "Failed logins one client address may have before its attempts wait")
      ->envname("MGTEAM_LOGIN_ATTEMPTS_PER_ADDRESS");
  app.add_option("--login-delay", cfg.login_delay_seconds,
                 "Seconds the first throttled attempt waits (doubling per further failure, at most 15 min)")
      ->envname("MGTEAM_LOGIN_DELAY");
  app.add_option("--password-hash-concurrency", cfg.password_hash_concurrency,
                 "Most password hashes at once, 64 MiB each (0: as many as cores, at most 4)")
      ->envname("MGTEAM_PASSWORD_HASH_CONCURRENCY");
  app.add_option("--trusted-proxy", cfg.trusted_proxies,
                 "A reverse proxy's IP: its X-Forwarded-For names the client; not capped per address (repeatable)")
      ->envname("MGTEAM_TRUSTED_PROXY")
      ->delimiter(',');
  app.add_option("--metrics-listen", cfg.metrics_listen,
                 "Serve /metrics on this HOST:PORT only (e.g. 127.0.0.1:9474), not on the API port")
      ->envname("MGTEAM_METRICS_LISTEN");
  app.add_option("--idempotency-ttl", cfg.idempotency_ttl_text,
                 "How long a write's Idempotency-Key is remembered (default 24h; e.g. 7d)")
      ->envname("MGTEAM_IDEMPOTENCY_TTL");
  app.add_option("--session-ttl", cfg.session_ttl_text,
                 "How long a dashboard sign-in lasts (default 14d; e.g. 12h)")
      ->envname("MGTEAM_SESSION_TTL");
  app.add_option("--web-dir", cfg.web_dir,
                 "Serve the dashboard's files from this directory instead of the built-in copy (development)")
      ->envname("MGTEAM_WEB_DIR");
  app.add_option("--tls-cert", cfg.tls_cert, "Serve HTTPS with this PEM certificate chain (re-read on SIGHUP)")
      ->envname("MGTEAM_TLS_CERT");
  app.add_option("--tls-key", cfg.tls_key, "The PEM private key for --tls-cert (re-read on SIGHUP)")
      ->envname("MGTEAM_TLS_KEY");
  app.add_option("--ready-fd", cfg.ready_fd, "Write the bound port to this file descriptor once listening");
  app.add_option("--invitation-ttl", cfg.invitation_ttl_text, "How long invitations stay valid (default 7d; e.g. 48h)")
      ->envname("MGTEAM_INVITATION_TTL");
  app.add_option("--smtp-host", cfg.smtp.host, "SMTP server for invitation mail (none: the inviter gets the link)")
      ->envname("MGTEAM_SMTP_HOST");
  app.add_option("--smtp-port", cfg.smtp.port, "SMTP port (default 587)")->envname("MGTEAM_SMTP_PORT");
  app.add_option("--smtp-tls", cfg.smtp.tls, "starttls (default, required), tls (smtps) or none")
      ->envname("MGTEAM_SMTP_TLS");
  app.add_option("--smtp-user", cfg.smtp.user, "SMTP user name")->envname("MGTEAM_SMTP_USER");
  app.add_option("--smtp-password", cfg.smtp.password, "SMTP password (prefer MGTEAM_SMTP_PASSWORD or the config file)")
      ->envname("MGTEAM_SMTP_PASSWORD");
  app.add_option("--smtp-from", cfg.smtp.from, "Sender address (default mgteam@<public URL host>)")
      ->envname("MGTEAM_SMTP_FROM");
  auto* migrate = app.add_subcommand("migrate", "Apply database migrations and exit");
  std::string migrate_from, migrate_to;  // store/migrate.h
  migrate->add_option("--from", migrate_from, "Copy this SQLite database (sqlite:PATH) ...");
  migrate->add_option("--to", migrate_to, "... into this empty PostgreSQL database (postgres://...)");
  auto* routes = app.add_subcommand("routes", "Print the route table and exit");
  routes->add_flag("--json", json_routes, "As JSON");
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (Status s = ParseListen(listen, cfg.listen_host, cfg.listen_port); !s.ok()) return Fail(s);
  if (Status s = cfg.Finish(); !s.ok()) return Fail(s);
  if (Status s = SetUpLogging(cfg.log_level, cfg.log_format); !s.ok()) return Fail(s);
  if (Status s = InitCrypto(); !s.ok()) return Fail(s);
  if (cfg.password_hash_concurrency > 0) SetPasswordHashConcurrency(cfg.password_hash_concurrency);
  InitMail();

  if (*migrate && (!migrate_from.empty() || !migrate_to.empty())) {
    auto copied = CopySqliteToPostgres(migrate_from, migrate_to, cfg.StoreSettings());
    if (!copied.ok()) return Fail(copied.status());
    for (const auto& t : *copied) std::printf("%-14s %10lld rows  sha256 %s\n", t.name.c_str(), static_cast<long long>(t.rows), t.digest.c_str());
    std::printf("copied into %s; start the servers with --db set to it\n", RedactedDatabaseUrl(migrate_to).c_str());
    return 0;
  }
  if (*migrate) {
    auto store = OpenStore(cfg.db_url, cfg.StoreSettings());
    if (!store.ok()) return Fail(store.status());
    std::printf("%s is at schema version %d\n", (*store)->Describe().c_str(),
                (*store)->schema_version());
    return 0;
  }

  // Block SIGINT/SIGTERM/SIGHUP in every thread; one thread waits for them
  // and stops the server (or reloads the TLS files), so this runs as ordinary
  // code, not in a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  if (*routes) {
    // The route table needs no data: an in-memory store stands in.
    auto store = OpenStore("sqlite::memory:");
    if (!store.ok()) return Fail(store.status());
    ServerContext ctx{**store, cfg};
    Router router(ctx);
    AddAllRoutes(router);
    json table = RouteTableJson(router.routes());
    if (json_routes) {
      std::cout << table.dump(2) << "\n";
    } else {
      for (const auto& r : table)
        std::printf("%-7s %-52s %s\n", r["method"].get<std::string>().c_str(),
                    r["path"].get<std::string>().c_str(),
                    r["permission"].is_null() ? r["access"].get<std::string>().c_str()
                                              : r["permission"].get<std::string>().c_str());
    }
    return 0;
  }

  auto server = App::Create(cfg);
  if (!server.ok()) return Fail(server.status());

  App* running = server->get();
  std::thread signal_thread([&signals, running] {
    int sig = 0;
    while (sigwait(&signals, &sig) == 0) {
      if (sig == SIGHUP) {
        running->Reload();
        continue;
      }
      spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      running->Stop();
      return;
    }
  });
  Status s = running->Run();
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    pthread_kill(signal_thread.native_handle(), SIGTERM);  // release the waiter
    signal_thread.join();
    return 1;
  }
  // Run() returned because of a signal, so the waiter has finished.
  signal_thread.join();
  return 0;
}
