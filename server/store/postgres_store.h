// PostgresStore: the Store for several server instances sharing one
// PostgreSQL database (docs/adr/0009-postgresql-store.md).
//
// Many writers run at once, each on its own connection at READ COMMITTED;
// what makes their read-check-writes safe is Tx::Lock, a transaction-scoped
// advisory lock taken before the reads (store/store.h). Reads run in a
// REPEATABLE READ READ ONLY transaction: one snapshot.
//
// Connections come from a bounded pool (StoreOptions::pool_size); a caller
// past the bound waits up to 10 s, then gets 503 database_busy. A connection
// that failed is closed, not returned, and the next caller opens a fresh one,
// so the store recovers by itself when the database comes back; a write that
// failed because the database went away is never acknowledged.
#pragma once

#include "store/open_store.h"
#include "store/store.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace mgteam::server {

namespace pg {
class Connection;
}

class PostgresStore final : public Store {
 public:
  // Connects, and applies pending migrations under an advisory lock, so that
  // instances starting together migrate once.
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& url, const StoreOptions& options);
  ~PostgresStore() override;

  Status Read(const std::function<Status(Tx&)>& fn) override;
  Status Write(const std::function<Status(Tx&)>& fn) override;
  void SetCommitListener(CommitListener listener) override { listener_ = std::move(listener); }
  std::string Describe() const override { return RedactedDatabaseUrl(url_); }
  Status Ping() override;
  int schema_version() const override { return schema_version_; }

  // Connections open now (idle and in use).
  size_t connections_open();
  // A write is run again at most this many times after a serialisation
  // failure or a deadlock.
  static constexpr int kWriteAttempts = 5;

 private:
  PostgresStore(std::string url, const StoreOptions& options);
  Result<std::unique_ptr<pg::Connection>> Connect();
  Result<std::unique_ptr<pg::Connection>> Take();
  void Give(std::unique_ptr<pg::Connection> c);
  Status Migrate();
  // One transaction on a pooled connection: BEGIN `begin`, fn, COMMIT.
  Status Run(const char* begin, bool writer, const std::function<Status(Tx&)>& fn,
             std::vector<LogAdvance>* advances);

  const std::string url_;
  const StoreOptions options_;
  int schema_version_ = 0;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<pg::Connection>> idle_;
  size_t open_ = 0;  // idle + in use
  CommitListener listener_;
};

}  // namespace mgteam::server
