// A thin RAII wrapper over libpq that reports failures as Status, for
// PostgresStore. No ORM: SQL text plus parameters in, rows of text out.
//
// Parameters travel as text (numbers formatted so that they parse back to
// the same value) except bytes, which travel in binary, so a BYTEA holds
// exactly what was bound. Results come back as text; Bytes() decodes
// PostgreSQL's hex form of a BYTEA.
//
// Errors are mapped once, here (docs/adr/0009-postgresql-store.md):
//   23505 unique_violation        -> UniqueViolation(constraint name)
//   40001 / 40P01                 -> Unavailable "serialization_failure"
//                                    (retryable(): Write() runs fn again)
//   57014 query_canceled          -> Unavailable "database_busy"
//   08xxx, a lost connection      -> Unavailable "database_unavailable"
//   53xxx insufficient_resources  -> Unavailable "database_busy"
//   anything else                 -> Internal, with PostgreSQL's message
//
// Thread-safety: a Connection and its Rows belong to one thread at a time.
#pragma once

#include "mgteam/status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace mgteam::server::pg {

// True for the errors after which running the whole transaction again may
// succeed (a serialisation failure or a deadlock victim).
bool Retryable(const Status& s);

// Positional parameters $1, $2, ... in the order added.
class Params {
 public:
  Params& Add(std::string_view v);
  Params& Add(const std::string& v) { return Add(std::string_view(v)); }
  Params& Add(const char* v) { return Add(std::string_view(v)); }
  Params& Add(int64_t v);
  Params& Add(int v) { return Add(static_cast<int64_t>(v)); }
  Params& Add(bool v) { return Add(static_cast<int64_t>(v)); }  // 0/1 in a BIGINT, as SQLite stores it
  Params& Add(double v);
  Params& Add(std::nullptr_t);
  Params& Add(const std::optional<std::string>& v);
  Params& Add(const std::optional<int64_t>& v);
  Params& AddBytes(std::string_view bytes);  // to a BYTEA

  template <class... Args>
  static Params Of(const Args&... args) {
    Params p;
    (p.Add(args), ...);
    return p;
  }

  size_t size() const { return values_.size(); }

 private:
  friend class Connection;
  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;        // 0 text, 1 binary
  std::vector<unsigned int> types_;  // 0: inferred by the server; BYTEA for bytes
};

// The rows of one statement.
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* r);
  Rows(Rows&&) noexcept = default;
  Rows& operator=(Rows&&) noexcept = default;

  int size() const;
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;
  std::optional<std::string> OptText(int row, int col) const;
  int64_t Int(int row, int col) const;
  double Real(int row, int col) const;
  std::string Bytes(int row, int col) const;  // a BYTEA column
  unsigned int Type(int col) const;           // the column's type oid (pg_type)
  int columns() const;
  // Rows an UPDATE/DELETE/INSERT touched.
  int64_t affected() const;

 private:
  struct Free {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, Free> r_;
};

class Connection {
 public:
  // `url`: a libpq connection URI or key=value string. `setup` runs once
  // after connecting (session settings). Never logs the password.
  static Result<std::unique_ptr<Connection>> Open(const std::string& url, const std::string& setup);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One statement with parameters.
  Result<Rows> Exec(std::string_view sql, const Params& params = {});
  // Statements without parameters, possibly several separated by ';' (DDL).
  Status Script(std::string_view sql);

  // The connection failed and must not be used again (the pool discards it).
  bool broken() const;

 private:
  explicit Connection(pg_conn* c) : c_(c) {}
  Result<Rows> Check(pg_result* r, std::string_view sql);
  pg_conn* c_;
  bool lost_ = false;
};

}  // namespace mgteam::server::pg
