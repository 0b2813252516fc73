#include "store/migrate.h"

#include "store/pg.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

#include <sodium.h>
#include <sqlite3.h>

#include <charconv>
#include <memory>
#include <cstdlib>

namespace mgteam::server {

namespace {

// Parents before children (foreign keys), each with its primary key: the
// order the digest reads rows in, the same on both sides (bytes order: the
// PostgreSQL columns are COLLATE "C").
struct Table {
  const char* name;
  const char* key;
};
constexpr Table kTables[] = {
    {"users", "id"},
    {"tokens", "id"},
    {"workspaces", "id"},
    {"memberships", "workspace_id, user_id"},
    {"events", "workspace_id, seq"},
    {"memories", "workspace_id, id"},
    {"relationships", "workspace_id, id"},
    {"conflicts", "workspace_id, id"},
    {"idempotency", "key_hash"},
    {"invitations", "id"},
};

// pg_type oids of the column types the schema uses.
constexpr unsigned int kInt8Oid = 20, kFloat8Oid = 701, kByteaOid = 17;

std::string Shortest(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? static_cast<size_t>(end - buf) : 0);
}

// A SHA-256 over values in a typed, length-prefixed form, so that ("ab",
// "c") and ("a", "bc") differ and an integer never equals its text.
class RowDigest {
 public:
  RowDigest() { crypto_hash_sha256_init(&state_); }
  void Add(char kind, std::string_view bytes) {
    unsigned char head[9];
    head[0] = static_cast<unsigned char>(kind);
    uint64_t n = bytes.size();
    for (int i = 0; i < 8; ++i) head[1 + i] = static_cast<unsigned char>(n >> (8 * i));
    crypto_hash_sha256_update(&state_, head, sizeof head);
    crypto_hash_sha256_update(&state_, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  }
  std::string Hex() {
    unsigned char out[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&state_, out);
    char hex[2 * sizeof out + 1];
    sodium_bin2hex(hex, sizeof hex, out, sizeof out);
    return hex;
  }

 private:
  crypto_hash_sha256_state state_;
};

// Adds column `c` of the current SQLite row to the digest and to `p`.
void TakeSqliteValue(sqlite3_stmt* q, int c, RowDigest& d, pg::Params& p) {
  switch (sqlite3_column_type(q, c)) {
    case SQLITE_INTEGER: {
      int64_t v = sqlite3_column_int64(q, c);
      d.Add('i', std::to_string(v));
      p.Add(v);
      break;
    }
    case SQLITE_FLOAT: {
      double v = sqlite3_column_double(q, c);
      d.Add('r', Shortest(v));
      p.Add(v);
      break;
    }
    case SQLITE_TEXT: {
      std::string_view v(reinterpret_cast<const char*>(sqlite3_column_text(q, c)),
                         static_cast<size_t>(sqlite3_column_bytes(q, c)));
      d.Add('t', v);
      p.Add(v);
      break;
    }
    case SQLITE_BLOB: {
      std::string_view v(static_cast<const char*>(sqlite3_column_blob(q, c)),
                         static_cast<size_t>(sqlite3_column_bytes(q, c)));
      d.Add('b', v);
      p.AddBytes(v);
      break;
    }
    default:
      d.Add('n', "");
      p.Add(nullptr);
  }
}

void DigestPgValue(const pg::Rows& r, int row, int c, RowDigest& d) {
  if (r.IsNull(row, c)) return d.Add('n', "");
  switch (r.Type(c)) {
    case kInt8Oid: return d.Add('i', r.Text(row, c));
    case kFloat8Oid: return d.Add('r', Shortest(r.Real(row, c)));
    case kByteaOid: return d.Add('b', r.Bytes(row, c));
    default: return d.Add('t', r.Text(row, c));
  }
}

// The source is read through the C API directly: values are copied by the
// type SQLite stored them as (sql::Stmt reads by the type asked for).
struct SqliteSource {
  struct Close {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
  };
  struct Finalize {
    void operator()(sqlite3_stmt* q) const { sqlite3_finalize(q); }
  };
  using Statement = std::unique_ptr<sqlite3_stmt, Finalize>;
  std::unique_ptr<sqlite3, Close> db;

  Status Error(std::string_view what) const {
    std::string m = "reading the SQLite database: ";
    m.append(what).append(": ").append(sqlite3_errmsg(db.get()));
    return Status::Internal(std::move(m));
  }
  Result<Statement> Prepare(const std::string& sql) const {
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &q, nullptr) != SQLITE_OK) return Error(sql);
    return Statement(q);
  }
  Status Exec(const char* sql) const {
    return sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr) == SQLITE_OK ? Status::Ok() : Error(sql);
  }
};

Result<SqliteSource> OpenSource(const std::string& path) {
  SqliteSource s;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  s.db.reset(db);
  if (rc != SQLITE_OK) return s.Error("open " + path);
  sqlite3_busy_timeout(db, 5000);
  return s;
}

Result<std::vector<std::string>> SqliteColumns(const SqliteSource& src, const char* table) {
  MG_ASSIGN_OR_RETURN(auto q, src.Prepare(std::string("SELECT name FROM pragma_table_info('") + table +
                                          "') ORDER BY cid"));
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW)
    out.push_back(reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0)));
  if (rc != SQLITE_DONE) return src.Error(table);
  if (out.empty()) return Status::Internal(std::string("the SQLite database has no table ") + table);
  return out;
}

std::string Joined(const std::vector<std::string>& cols) {
  std::string s;
  for (const auto& c : cols) {
    if (!s.empty()) s.append(", ");
    s.append(c);
  }
  return s;
}

// Copies one table: its rows in batches of multi-row INSERTs; returns the
// row count and the digest of what was read.
Result<CopiedTable> CopyTable(const SqliteSource& src, pg::Connection& dst, const Table& t) {
  MG_ASSIGN_OR_RETURN(auto cols, SqliteColumns(src, t.name));
  const std::string list = Joined(cols);
  const size_t width = cols.size();
  const size_t batch = std::max<size_t>(1, std::min<size_t>(500, 30000 / width));
  std::string select = "SELECT ";
  select.append(list).append(" FROM ").append(t.name).append(" ORDER BY ").append(t.key);
  MG_ASSIGN_OR_RETURN(auto q, src.Prepare(select));
  CopiedTable out;
  out.name = t.name;
  RowDigest digest;
  pg::Params params;
  size_t rows = 0;
  auto flush = [&]() -> Status {
    if (rows == 0) return Status::Ok();
    std::string insert = "INSERT INTO ";
    insert.append(t.name).append("(").append(list).append(") VALUES ");
    int n = 0;
    for (size_t r = 0; r < rows; ++r) {
      insert.append(r ? ", (" : "(");
      for (size_t c = 0; c < width; ++c) insert.append(c ? ", $" : "$").append(std::to_string(++n));
      insert.push_back(')');
    }
    Status s = dst.Exec(insert, params).status();
    params = pg::Params();
    rows = 0;
    return s;
  };
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    for (size_t c = 0; c < width; ++c) TakeSqliteValue(q.get(), static_cast<int>(c), digest, params);
    ++out.rows;
    if (++rows == batch) MG_RETURN_IF_ERROR(flush());
  }
  if (rc != SQLITE_DONE) return src.Error(t.name);
  MG_RETURN_IF_ERROR(flush());
  out.digest = digest.Hex();
  return out;
}

// Reads the table back from PostgreSQL, in the same order, through a
// cursor (a table may not fit in memory at once).
Result<CopiedTable> ReadBack(pg::Connection& dst, const Table& t, const std::vector<std::string>& cols) {
  std::string declare = "DECLARE readback NO SCROLL CURSOR FOR SELECT ";
  declare.append(Joined(cols)).append(" FROM ").append(t.name).append(" ORDER BY ").append(t.key);
  MG_RETURN_IF_ERROR(dst.Script(declare));
  CopiedTable out;
  out.name = t.name;
  RowDigest digest;
  for (;;) {
    MG_ASSIGN_OR_RETURN(auto rows, dst.Exec("FETCH 1000 FROM readback"));
    if (rows.size() == 0) break;
    for (int r = 0; r < rows.size(); ++r)
      for (int c = 0; c < rows.columns(); ++c) DigestPgValue(rows, r, c, digest);
    out.rows += rows.size();
  }
  MG_RETURN_IF_ERROR(dst.Script("CLOSE readback"));
  out.digest = digest.Hex();
  return out;
}

Status CopyAll(const SqliteSource& src, pg::Connection& dst, std::vector<CopiedTable>& copied) {
  for (const Table& t : kTables) {
    MG_ASSIGN_OR_RETURN(auto rows, dst.Exec(std::string("SELECT EXISTS (SELECT 1 FROM ") + t.name + ")"));
    if (rows.Text(0, 0) == "t")
      return Status::Invalid("target_not_empty", std::string("the PostgreSQL database already holds ") + t.name +
                                                     "; migrate into an empty database");
  }
  for (const Table& t : kTables) {
    MG_ASSIGN_OR_RETURN(CopiedTable written, CopyTable(src, dst, t));
    MG_ASSIGN_OR_RETURN(auto cols, SqliteColumns(src, t.name));
    MG_ASSIGN_OR_RETURN(CopiedTable read, ReadBack(dst, t, cols));
    if (read.rows != written.rows || read.digest != written.digest)
      return Status::Internal(std::string("the copy of ") + t.name + " differs from the original (" +
                              std::to_string(written.rows) + " rows read, " + std::to_string(read.rows) +
                              " in PostgreSQL); nothing was written");
    copied.push_back(std::move(written));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<CopiedTable>> CopySqliteToPostgres(const std::string& from, const std::string& to,
                                                      const StoreOptions& options) {
  if (from.rfind("sqlite:", 0) != 0) return Status::Invalid("invalid_config", "--from must be sqlite:PATH");
  if (!IsPostgresUrl(to)) return Status::Invalid("invalid_config", "--to must be postgres://user@host:port/dbname");
  std::string path = from.substr(7);
  if (path.rfind("//", 0) == 0) path = path.substr(2);
  // Both at the latest schema: the same tables and columns.
  {
    MG_ASSIGN_OR_RETURN(auto source, SqliteStore::Open(path, options.sqlite_synchronous));
    MG_ASSIGN_OR_RETURN(auto target, PostgresStore::Open(to, options));
    if (source->schema_version() != target->schema_version())
      return Status::Internal("the two schemas differ after migrating; this is a bug");
  }
  MG_ASSIGN_OR_RETURN(SqliteSource src, OpenSource(path));
  MG_ASSIGN_OR_RETURN(auto dst, pg::Connection::Open(to, "SET client_encoding = 'UTF8'; SET bytea_output = 'hex'; "
                                                         "SET extra_float_digits = 1; SET statement_timeout = 0"));
  std::vector<CopiedTable> copied;
  // One snapshot of the source, one transaction on the target.
  MG_RETURN_IF_ERROR(src.Exec("BEGIN"));
  MG_RETURN_IF_ERROR(dst->Script("BEGIN ISOLATION LEVEL SERIALIZABLE"));
  Status s = CopyAll(src, *dst, copied);
  if (s.ok()) s = dst->Script("COMMIT");
  else (void)dst->Script("ROLLBACK");  // best effort; the error returned is s
  (void)src.Exec("COMMIT");            // a read transaction: nothing to keep or lose
  if (!s.ok()) return s;
  return copied;
}

}  // namespace mgteam::server
