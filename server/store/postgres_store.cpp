#include "store/postgres_store.h"

#include "mgteam/clock.h"
#include "store/pg.h"
#include "store/postgres_tx.h"
#include "store/schema.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <random>
#include <thread>

namespace mgteam::server {

namespace {

// A caller waits this long for a pooled connection (as SqliteStore waits for
// a reader), then gets 503 database_busy.
constexpr auto kPoolWait = std::chrono::seconds(10);

// Session settings every connection gets, whatever the server's defaults:
// text as UTF-8, BYTEA in hex (pg::Rows::Bytes), doubles printed so that they
// parse back to the same value.
std::string SessionSetup(std::chrono::milliseconds statement_timeout) {
  std::string s = "SET client_encoding = 'UTF8'; SET bytea_output = 'hex'; SET extra_float_digits = 1; ";
  s.append("SET statement_timeout = ").append(std::to_string(statement_timeout.count()));
  return s;
}

}  // namespace

PostgresStore::PostgresStore(std::string url, const StoreOptions& options) : url_(std::move(url)), options_(options) {}

PostgresStore::~PostgresStore() = default;

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url, const StoreOptions& options) {
  if (options.pool_size < 1) return Status::Invalid("invalid_config", "the database pool size must be at least 1");
  std::unique_ptr<PostgresStore> store(new PostgresStore(url, options));
  MG_RETURN_IF_ERROR(store->Migrate());
  return store;
}

Result<std::unique_ptr<pg::Connection>> PostgresStore::Connect() {
  return pg::Connection::Open(url_, SessionSetup(options_.statement_timeout));
}

// Two instances starting at once must not both apply a migration: the first
// to take this session-level advisory lock migrates, the other then finds
// nothing left to do. DDL is transactional in PostgreSQL, so a migration and
// its schema_version row commit together.
Status PostgresStore::Migrate() {
  // No statement timeout: a migration of a large table may take a while.
  MG_ASSIGN_OR_RETURN(auto c, pg::Connection::Open(url_, SessionSetup(std::chrono::milliseconds(0))));
  MG_RETURN_IF_ERROR(c->Script("SELECT pg_advisory_lock(hashtextextended('mgteam:migrations', 0))"));
  MG_RETURN_IF_ERROR(c->Script("CREATE TABLE IF NOT EXISTS schema_version("
                               "version BIGINT PRIMARY KEY, applied_at TEXT COLLATE \"C\" NOT NULL)"));
  MG_ASSIGN_OR_RETURN(auto rows, c->Exec("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  const auto& migrations = PostgresMigrations();
  const int current = static_cast<int>(rows.Int(0, 0));
  if (current > static_cast<int>(migrations.size()))
    return Status::Internal("the database schema (version " + std::to_string(current) +
                            ") is newer than this program knows (" + std::to_string(migrations.size()) +
                            "); upgrade mgteam");
  for (int v = current + 1; v <= static_cast<int>(migrations.size()); ++v) {
    Status s = c->Script("BEGIN");
    if (s.ok()) s = c->Script(migrations[static_cast<size_t>(v - 1)]);
    if (s.ok())
      s = c->Exec("INSERT INTO schema_version(version, applied_at) VALUES($1, $2)",
                  pg::Params::Of(static_cast<int64_t>(v), NowRfc3339()))
              .status();
    if (s.ok()) s = c->Script("COMMIT");
    if (!s.ok()) {
      (void)c->Script("ROLLBACK");  // best effort; the error returned is s
      return Status::Internal("migration " + std::to_string(v) + " failed: " + s.message());
    }
    spdlog::info("database {}: applied migration {}", Describe(), v);
  }
  schema_version_ = static_cast<int>(migrations.size());
  // Closing the connection releases the lock.
  return Status::Ok();
}

size_t PostgresStore::connections_open() {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

Result<std::unique_ptr<pg::Connection>> PostgresStore::Take() {
  std::unique_lock<std::mutex> lock(mu_);
  const size_t bound = static_cast<size_t>(options_.pool_size);
  if (!returned_.wait_for(lock, kPoolWait, [&] { return !idle_.empty() || open_ < bound; }))
    return Status::Unavailable("database_busy", "every database connection stayed busy for 10 s; retry");
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  ++open_;
  lock.unlock();
  auto c = Connect();
  if (!c.ok()) {
    lock.lock();
    --open_;
    lock.unlock();
    returned_.notify_one();
  }
  return c;
}

void PostgresStore::Give(std::unique_ptr<pg::Connection> c) {
  // Closed outside the lock.
  std::vector<std::unique_ptr<pg::Connection>> closing;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (c->broken()) {
      // The server went away or dropped this session: the idle connections
      // most likely talk to the same dead server, so they go too, and the
      // next caller connects afresh.
      closing = std::move(idle_);
      idle_.clear();
      open_ -= closing.size() + 1;
      closing.push_back(std::move(c));
    } else {
      idle_.push_back(std::move(c));
    }
  }
  returned_.notify_all();
}

Status PostgresStore::Run(const char* begin, bool writer, const std::function<Status(Tx&)>& fn,
                          std::vector<LogAdvance>* advances) {
  std::unique_ptr<pg::Connection> conn;
  Status s;
  // A pooled connection may have died while idle (the database restarted):
  // BEGIN finds out, and nothing has happened yet, so one fresh connection
  // is tried before giving up.
  for (int attempt = 0; attempt < 2; ++attempt) {
    MG_ASSIGN_OR_RETURN(conn, Take());
    s = conn->Script(begin);
    if (s.ok() || !conn->broken()) break;
    Give(std::move(conn));
  }
  if (!conn) return s;
  if (!s.ok()) {
    Give(std::move(conn));
    return s;
  }
  PostgresTx tx(*conn, writer);
  s = fn(tx);
  // PostgreSQL aborted the transaction at the first failed statement; a
  // serialisation failure there is what Write() retries, whatever fn made
  // of it.
  if (!tx.failure().ok() && (s.ok() || pg::Retryable(tx.failure()))) s = tx.failure();
  if (s.ok()) {
    s = conn->Script("COMMIT");
    if (s.ok() && advances)
      for (const auto& [ws, a] : tx.advances()) advances->push_back(a);
  } else if (!conn->broken()) {
    (void)conn->Script("ROLLBACK");  // best effort: a failed ROLLBACK marks the connection broken
  }
  Give(std::move(conn));
  return s;
}

Status PostgresStore::Read(const std::function<Status(Tx&)>& fn) {
  return Run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", /*writer=*/false, fn, nullptr);
}

Status PostgresStore::Write(const std::function<Status(Tx&)>& fn) {
  std::vector<LogAdvance> advances;
  Status s;
  thread_local std::minstd_rand jitter(std::random_device{}());
  for (int attempt = 1; attempt <= kWriteAttempts; ++attempt) {
    advances.clear();
    s = Run("BEGIN ISOLATION LEVEL READ COMMITTED", /*writer=*/true, fn, &advances);
    if (!pg::Retryable(s)) break;
    // Back off a little, differently per thread, so that the transactions
    // that collided do not collide again.
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + jitter() % (5 * attempt)));
  }
  if (pg::Retryable(s))
    return Status::Unavailable("database_busy", "the write kept conflicting with concurrent ones; retry");
  if (s.ok() && !advances.empty() && listener_) listener_(advances);
  return s;
}

Status PostgresStore::Ping() {
  MG_ASSIGN_OR_RETURN(auto conn, Take());
  Status s = conn->Script("SELECT 1");
  Give(std::move(conn));
  return s;
}

}  // namespace mgteam::server
