// OpenStore: the one place a database URL becomes a Store.
//
//   sqlite:/path/to/mgteam.db          the embedded default (SqliteStore)
//   postgres://user@host:port/dbname   PostgreSQL (PostgresStore); also
//   postgresql://...                   libpq's key=value query parameters
//
// Both apply pending schema migrations before returning.
#pragma once

#include "store/store.h"

#include <chrono>
#include <memory>
#include <string>

namespace mgteam::server {

struct StoreOptions {
  std::string sqlite_synchronous = "NORMAL";  // SQLite: NORMAL or FULL
  int pool_size = 16;                         // PostgreSQL: connections at most
  // PostgreSQL: a statement running longer is cancelled (503 database_busy).
  std::chrono::milliseconds statement_timeout{15000};
};

Result<std::unique_ptr<Store>> OpenStore(const std::string& url, const StoreOptions& options = {});

// True for the URL schemes OpenStore takes as PostgreSQL.
bool IsPostgresUrl(const std::string& url);

// The URL with any password replaced by "***", for logs.
std::string RedactedDatabaseUrl(const std::string& url);

}  // namespace mgteam::server
