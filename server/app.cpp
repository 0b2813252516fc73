#include "app.h"

#include "http/http_server.h"
#include "http/static_site.h"
#include "http/task_queue.h"
#include "routes/routes.h"
#include "bus/open_bus.h"
#include "store/open_store.h"
#include "mgteam/clock.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <filesystem>
#include <thread>

namespace mgteam::server {

struct App::Http {
  HttpServer server;
};

App::App(ServerConfig config) : config_(std::move(config)) {}
// The hub stops first (its last closing streams still tell the bus they
// went), then the bus: its threads call listeners (the hub, the long polls,
// the login throttle in the routes) that are destroyed after it otherwise.
App::~App() {
  if (hub_) hub_->Shutdown();
  bus_.reset();
}

long RaiseOpenFileLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return -1;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return static_cast<long>(lim.rlim_cur);
}

Result<std::unique_ptr<App>> App::Create(ServerConfig config) {
  std::unique_ptr<App> app(new App(std::move(config)));
  std::error_code ec;
  const bool created = std::filesystem::create_directories(app->config_.data_dir, ec);
  if (ec)
    return Status::Internal("cannot create the data directory " + app->config_.data_dir + ": " +
                            ec.message());
  // Only a directory we made is ours to lock down: `--data-dir /tmp` must
  // not change /tmp. The database files themselves are always 0600.
  if (created)
    std::filesystem::permissions(app->config_.data_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  if (std::string db = app->config_.SqlitePath(); !db.empty()) {
    // SQLite creates a new file 0644 (less the umask) and gives its -wal and
    // -shm the database file's mode: create it 0600 first.
    int fd = ::open(db.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    std::filesystem::permissions(db, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace, ec);
    for (const char* suffix : {"-wal", "-shm"})
      if (std::filesystem::exists(db + suffix))
        std::filesystem::permissions(db + suffix,
                                     std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                     std::filesystem::perm_options::replace, ec);
  }
  MG_ASSIGN_OR_RETURN(auto store, OpenStore(app->config_.db_url, app->config_.StoreSettings()));
  spdlog::info("store {} at schema version {}", store->Describe(), store->schema_version());
  app->store_ = std::move(store);
  StreamHubOptions hub_options;
  hub_options.heartbeat = std::chrono::seconds(app->config_.heartbeat_seconds);
  hub_options.max_backlog_bytes = app->config_.stream_max_backlog;
  hub_options.max_total_backlog_bytes = app->config_.stream_backlog_budget;
  // Every stream is a file descriptor: keep a tenth of the limit (at least
  // 256) for REST connections, the database and logs.
  const long files = RaiseOpenFileLimit();
  hub_options.max_streams_per_user = app->config_.max_streams_per_user;
  hub_options.max_streams =
      app->config_.max_streams > 0
          ? app->config_.max_streams
          : static_cast<size_t>(std::max(64L, files - std::max(256L, files / 10)));
  app->max_streams_ = hub_options.max_streams;
  app->hub_ = std::make_unique<StreamHub>(*app->store_, app->metrics_, hub_options);
  MG_ASSIGN_OR_RETURN(app->bus_, OpenBus(app->config_.redis_url, app->config_.db_url));
  // Alone, an instance has no one to tell its presence and loses no
  // revocation: the hub then skips that work altogether.
  if (app->bus_->Shared()) app->hub_->SetBus(app->bus_.get());
  app->bus_->Subscribe(app->hub_.get());
  // Waiting long-polls hold no worker, only a descriptor each: a few per
  // account, and in all a twentieth of the open-files limit (half the
  // reserve the stream cap leaves).
  LongPollOptions poll_options;
  poll_options.max_total = static_cast<size_t>(std::max(64L, files / 20));
  app->polls_ = std::make_unique<LongPolls>(poll_options, app->metrics_);
  app->bus_->Subscribe(app->polls_.get());
  // The one place changes become announcements: after each commit, ring the
  // bus for every workspace whose log grew.
  App* raw = app.get();
  app->store_->SetCommitListener([raw](const std::vector<LogAdvance>& advances) {
    for (const auto& a : advances) {
      raw->metrics_.events_appended += static_cast<uint64_t>(a.appended);
      raw->bus_->PublishAdvance(a.workspace_id, a.head_seq);
    }
  });
  app->ctx_ = std::make_unique<ServerContext>(
      ServerContext{*app->store_, app->config_, app->bus_.get(), app->hub_.get(), &app->metrics_, app->polls_.get()});
  app->router_ = std::make_unique<Router>(*app->ctx_);
  AddAllRoutes(*app->router_);
  app->http_ = std::make_unique<Http>();
  if (app->config_.tls()) {
    MG_ASSIGN_OR_RETURN(app->tls_, TlsContext::Load(app->config_.tls_cert, app->config_.tls_key));
    app->http_->server.UseTls(app->tls_);
    spdlog::info("TLS certificate: {}", app->tls_->Describe());
  }
  return app;
}

Status App::Run() {
  auto& http = http_->server;
  const size_t threads = static_cast<size_t>(config_.threads);
  ConnectionLimits limits;
  limits.workers = threads;
  limits.max_body_bytes = config_.max_body_bytes;
  limits.max_per_address = config_.max_connections_per_address;
  limits.uncapped = config_.trusted_proxies;
  limits.body_grace = std::chrono::seconds(config_.body_grace_seconds);
  limits.gate.head = std::chrono::seconds(config_.head_timeout_seconds);
  limits.gate.head_limits.max_bytes = config_.max_head_bytes;
  limits.gate.head_limits.max_headers = config_.max_headers;
  if (!http.StartConnections(limits)) return Status::Internal("cannot start the connection gate (epoll)");
  MG_RETURN_IF_ERROR(hub_->Start());
  bus_->Start();
  spdlog::info("bus: {}", bus_->Describe());
  MG_RETURN_IF_ERROR(polls_->Start());
  // Nagle's algorithm delays small answers by ~40 ms on loopback.
  http.set_tcp_nodelay(true);
  http.set_payload_max_length(config_.max_body_bytes);
  http.set_read_timeout(std::chrono::seconds(30));
  http.set_write_timeout(std::chrono::seconds(30));
  router_->Install(http);
  InstallStaticSite(http, config_);

  int port = config_.listen_port == 0 ? http.bind_to_any_port(config_.listen_host)
                                      : (http.bind_to_port(config_.listen_host, config_.listen_port)
                                             ? config_.listen_port
                                             : -1);
  if (port <= 0)
    return Status::Unavailable("listen_failed", "cannot listen on " + config_.listen_host + ":" +
                                                    std::to_string(config_.listen_port) +
                                                    " (in use? try another --listen)");
  if (!http.WidenBacklog()) spdlog::warn("could not widen the listen backlog");
  if (!config_.public_url_explicit) {
    config_.public_url.clear();
    config_.listen_port = port;
    MG_RETURN_IF_ERROR(config_.Finish());
  }
  // /metrics on its own address (often loopback), off the API port.
  std::unique_ptr<httplib::Server> metrics_http;
  std::thread metrics_thread;
  if (!config_.metrics_listen.empty()) {
    metrics_http = std::make_unique<httplib::Server>();
    metrics_http->new_task_queue = [] { return new ElasticTaskQueue(1, 2, std::chrono::seconds(60)); };
    metrics_http->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_.Prometheus(), "text/plain; version=0.0.4");
    });
    int mport = config_.metrics_port == 0 ? metrics_http->bind_to_any_port(config_.metrics_host)
                                          : (metrics_http->bind_to_port(config_.metrics_host, config_.metrics_port)
                                                 ? config_.metrics_port
                                                 : -1);
    if (mport <= 0) {
      http.StopConnections();
      return Status::Unavailable("listen_failed", "cannot listen for metrics on " + config_.metrics_listen +
                                                      " (in use? try another --metrics-listen)");
    }
    spdlog::info("metrics on http://{}:{}/metrics", config_.metrics_host, mport);
    metrics_thread = std::thread([&metrics_http] { metrics_http->listen_after_bind(); });
  }
  spdlog::info("mgteam-server {} listening on {}://{}:{} (open files limit {}: up to {} streams, {} per account; "
               "up to {} worker threads)",
               MGTEAM_VERSION, tls_ ? "https" : "http", config_.listen_host, port, RaiseOpenFileLimit(), max_streams_,
               config_.max_streams_per_user, threads);
  if (config_.ready_fd >= 0) {
    std::string line = std::to_string(port) + "\n";
    ssize_t n = ::write(config_.ready_fd, line.data(), line.size());
    (void)n;  // a supervisor that stopped listening is not our failure
    ::close(config_.ready_fd);
  }
  std::thread housekeeping([this] { Housekeeping(); });
  bool listened = http.listen_after_bind();
  {
    std::lock_guard<std::mutex> lock(housekeeping_mu_);
    stopping_ = true;
  }
  housekeeping_cv_.notify_all();
  housekeeping.join();
  if (metrics_http) {
    metrics_http->stop();
    metrics_thread.join();
  }
  http.StopConnections();
  if (!listened) return Status::Internal("the HTTP listener stopped unexpectedly");
  spdlog::info("stopped");
  return Status::Ok();
}

void App::Housekeeping() {
  // A quarter of the lifetime, so a record outlives it by at most that much;
  // at most every 10 minutes, at least every 250 ms (tests use seconds).
  const auto every = std::clamp<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.idempotency_ttl) / 4,
      std::chrono::milliseconds(250), std::chrono::minutes(10));
  std::unique_lock<std::mutex> lock(housekeeping_mu_);
  while (!housekeeping_cv_.wait_for(lock, every, [this] { return stopping_; })) {
    lock.unlock();
    const std::string before = FormatRfc3339(Now() - config_.idempotency_ttl);
    auto purged = store_->WriteValue<int64_t>([&](Tx& tx) { return tx.PurgeIdempotency(before); });
    if (!purged.ok()) spdlog::warn("purging idempotency records: {}", purged.status().ToString());
    else if (*purged > 0) spdlog::debug("purged {} idempotency records older than {}", *purged, before);
    // Ended browser sessions stay listed (`mgteam token list`) for a week.
    const std::string week_ago = FormatRfc3339(Now() - std::chrono::hours(24 * 7));
    auto sessions = store_->WriteValue<int64_t>([&](Tx& tx) { return tx.PurgeEndedSessions(week_ago); });
    if (!sessions.ok()) spdlog::warn("purging ended browser sessions: {}", sessions.status().ToString());
    else if (*sessions > 0) spdlog::debug("purged {} browser sessions that ended before {}", *sessions, week_ago);
    lock.lock();
  }
}

void App::Reload() {
  if (!tls_) {
    spdlog::info("received SIGHUP: nothing to reload (no TLS)");
    return;
  }
  if (Status s = tls_->Reload(); !s.ok()) {
    spdlog::error("TLS reload failed, keeping the certificate in force: {}", s.message());
    return;
  }
  spdlog::info("TLS certificate reloaded: {}", tls_->Describe());
}

void App::Stop() {
  hub_->Shutdown();
  polls_->Shutdown();  // waiting polls answer now, before the workers stop
  http_->server.stop();
}

}  // namespace mgteam::server
