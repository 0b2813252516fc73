// A thin RAII wrapper over the SQLite C API that reports failures as Status.
// Used by the server's SQLite store and by the client replica.
//
// Thread-safety: a Db and its Stmts belong to one thread at a time.
#pragma once

#include "mgteam/status.h"

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mgteam::sql {

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Parameters are 1-based like SQLite's.
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, bool v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::nullptr_t);
  Stmt& Bind(int i, const std::optional<std::string>& v);
  Stmt& BindBlob(int i, std::string_view bytes);

  template <class... Args>
  Stmt& BindAll(const Args&... args) {
    int i = 0;
    (Bind(++i, args), ...);
    return *this;
  }

  // Advances: true while a row is available, false when done; errors land in
  // status().
  bool Step();
  // Runs to completion (for statements without rows).
  Status Run();
  Stmt& Reset();

  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  int64_t Int(int col) const;
  double Real(int col) const;
  bool IsNull(int col) const;

  const Status& status() const { return status_; }
  bool valid() const { return s_ != nullptr; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
  Status status_;
};

class Db {
 public:
  Db() = default;
  Db(Db&& o) noexcept : db_(o.db_), cache_(std::move(o.cache_)) { o.db_ = nullptr; }
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Opens (creating if needed) with WAL, foreign keys on, the given busy
  // timeout, and `synchronous` (NORMAL or FULL).
  static Result<Db> Open(const std::string& path, bool read_only = false,
                         int busy_timeout_ms = 5000, std::string_view synchronous = "NORMAL");

  Status Exec(std::string_view sql);
  Result<Stmt> Prepare(std::string_view sql);

  // A statement prepared once per connection and reused; the handle resets
  // it (and clears its bindings) when it goes out of scope, so no statement
  // stays open across a COMMIT.
  class Cached {
   public:
    explicit Cached(Stmt* s) : s_(s) {}
    Cached(Cached&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
    Cached(const Cached&) = delete;
    Cached& operator=(const Cached&) = delete;
    ~Cached() {
      if (s_) s_->Reset();
    }
    Stmt* operator->() { return s_; }
    Stmt& operator*() { return *s_; }

   private:
    Stmt* s_;
  };
  Result<Cached> Prepared(const std::string& sql);

  // Runs a statement without result rows, binding `args` in order.
  template <class... Args>
  Status Run(const std::string& sql, const Args&... args) {
    MG_ASSIGN_OR_RETURN(Cached q, Prepared(sql));
    q->BindAll(args...);
    return q->Run();
  }

  // Runs `fn` inside BEGIN IMMEDIATE (write) / BEGIN (read) ... COMMIT,
  // rolling back when it returns an error.
  Status Transaction(const std::function<Status()>& fn, bool write = true);

  int64_t Changes() const;
  sqlite3* raw() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
};

// The error message of the connection as a Status.
Status SqlError(sqlite3* db, int rc, std::string_view what);

// Applies numbered migrations in order, recording each in schema_version
// (version INTEGER PRIMARY KEY, applied_at TEXT), each in its own
// transaction. Returns the resulting version.
Result<int> Migrate(Db& db, const std::vector<std::string_view>& migrations);

}  // namespace mgteam::sql
