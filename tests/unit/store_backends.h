// The store conformance suite's fixture: each STORE_CASE runs twice, as
// "sqlite: <name>" over a SqliteStore in a temp file and as
// "postgres: <name>" over a PostgresStore in a database of its own on the
// throwaway server scripts/postgres-for-tests starts (ctest's `postgres`
// fixture; its URL comes in MGTEAM_TEST_POSTGRES_URL or in the file named by
// MGTEAM_TEST_POSTGRES_URL_FILE). Run by hand:
//
//   scripts/postgres-for-tests start /tmp/pg
//   MGTEAM_TEST_POSTGRES_URL_FILE=/tmp/pg/url build/tests/store_tests
//   scripts/postgres-for-tests stop /tmp/pg
#pragma once

#include "auth.h"
#include "mgteam/ids.h"
#include "store/open_store.h"
#include "store/pg.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

namespace mgteam::server::testing {

class Backend {
 public:
  virtual ~Backend() = default;
  // The URL OpenStore takes for this test's database.
  virtual std::string url() const = 0;
  virtual bool postgres() const = 0;

  // Another Store on the same database: a second server instance.
  std::unique_ptr<Store> Open(const StoreOptions& options = {}) const {
    auto s = OpenStore(url(), options);
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    return std::move(s).value();
  }
};

class SqliteBackend final : public Backend {
 public:
  SqliteBackend() {
    char tmpl[] = "/tmp/mgteam-conformance-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~SqliteBackend() override { std::filesystem::remove_all(dir_); }
  std::string url() const override { return "sqlite:" + dir_ + "/t.db"; }
  bool postgres() const override { return false; }

 private:
  std::string dir_;
};

// The server every "postgres:" case uses; each case gets a new database.
inline std::string PostgresServerUrl() {
  if (const char* url = std::getenv("MGTEAM_TEST_POSTGRES_URL"); url && *url) return url;
  if (const char* file = std::getenv("MGTEAM_TEST_POSTGRES_URL_FILE"); file && *file) {
    std::ifstream in(file);
    std::string url;
    std::getline(in, url);
    if (!url.empty()) return url;
  }
  return "";
}

// The URL with its database replaced: ".../postgres" -> ".../<db>".
inline std::string WithDatabase(const std::string& url, const std::string& db) {
  size_t slash = url.rfind('/');
  size_t query = url.find('?', slash);
  std::string out = url.substr(0, slash + 1) + db;
  if (query != std::string::npos) out += url.substr(query);
  return out;
}

class PostgresBackend final : public Backend {
 public:
  PostgresBackend() {
    server_ = PostgresServerUrl();
    REQUIRE_MESSAGE(!server_.empty(),
                    "no PostgreSQL for the tests: run them through ctest (the `postgres` fixture), or set "
                    "MGTEAM_TEST_POSTGRES_URL(_FILE) (see tests/unit/store_backends.h)");
    db_ = "mgteam_test_" + RandomHex(8);
    // A natural-language default collation (ICU en-US sorts "a" < "B"), so
    // that a list ordered other than by bytes, as SQLite orders, shows.
    auto created = Admin()->Exec("CREATE DATABASE " + db_ +
                                 " TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
                                 "LOCALE 'C.UTF-8'");
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  }
  ~PostgresBackend() override {
    auto c = pg::Connection::Open(server_, "");
    if (c.ok()) (void)(*c)->Exec("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");  // best effort: the server is thrown away anyway
  }
  std::string url() const override { return WithDatabase(server_, db_); }
  bool postgres() const override { return true; }
  const std::string& database() const { return db_; }

  // A connection to the server's maintenance database, outside any store.
  std::unique_ptr<pg::Connection> Admin() const {
    auto c = pg::Connection::Open(server_, "");
    REQUIRE_MESSAGE(c.ok(), c.status().ToString());
    return std::move(c).value();
  }

  // Closes every server session of this test's database, as a database
  // restart or a failover does, and waits (up to 5 s each) until they are gone.
  void TerminateSessions() const {
    auto r = Admin()->Exec("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1",
                           pg::Params::Of(db_));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  }

  // Waits (up to 10 s) until some session of this database waits for an
  // advisory lock: proof that a Lock() is blocked, without sleeping.
  bool AwaitLockWaiter() const {
    auto c = Admin();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = c->Exec("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                       "WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = $1",
                       pg::Params::Of(db_));
      if (r.ok() && r->Int(0, 0) > 0) return true;
      std::this_thread::yield();
    }
    return false;
  }

 private:
  std::string server_;
  std::string db_;
};

}  // namespace mgteam::server::testing

// Defines one case for both stores. The body sees `Backend& backend`.
#define STORE_CASE(name) STORE_CASE_IMPL(name, MG_CONCAT(StoreCase_, __LINE__))
#define STORE_CASE_IMPL(name, fn)                                        \
  static void fn(::mgteam::server::testing::Backend& backend);           \
  TEST_CASE("sqlite: " name) {                                           \
    ::mgteam::server::testing::SqliteBackend b;                          \
    fn(b);                                                               \
  }                                                                      \
  TEST_CASE("postgres: " name) {                                         \
    ::mgteam::server::testing::PostgresBackend b;                        \
    fn(b);                                                               \
  }                                                                      \
  static void fn([[maybe_unused]] ::mgteam::server::testing::Backend& backend)
