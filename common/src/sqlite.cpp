#include "mgteam/sqlite.h"

#include "mgteam/clock.h"

namespace mgteam::sql {

Status SqlError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    return Status::Unavailable("database_busy", msg);
  if (primary == SQLITE_CONSTRAINT) return Status::Conflict("constraint", msg);
  if (primary == SQLITE_FULL) return Status::Unavailable("disk_full", msg);
  return Status::Internal(msg);
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    if (s_) sqlite3_finalize(s_);
    db_ = o.db_;
    s_ = o.s_;
    status_ = std::move(o.status_);
    o.s_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() {
  if (s_) sqlite3_finalize(s_);
}

Stmt& Stmt::Bind(int i, std::string_view v) {
  int rc = sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && status_.ok()) status_ = SqlError(db_, rc, "bind");
  return *this;
}
Stmt& Stmt::Bind(int i, int64_t v) {
  int rc = sqlite3_bind_int64(s_, i, v);
  if (rc != SQLITE_OK && status_.ok()) status_ = SqlError(db_, rc, "bind");
  return *this;
}
Stmt& Stmt::Bind(int i, double v) {
  int rc = sqlite3_bind_double(s_, i, v);
  if (rc != SQLITE_OK && status_.ok()) status_ = SqlError(db_, rc, "bind");
  return *this;
}
Stmt& Stmt::Bind(int i, std::nullptr_t) {
  int rc = sqlite3_bind_null(s_, i);
  if (rc != SQLITE_OK && status_.ok()) status_ = SqlError(db_, rc, "bind");
  return *this;
}
Stmt& Stmt::Bind(int i, const std::optional<std::string>& v) {
  return v ? Bind(i, std::string_view(*v)) : Bind(i, nullptr);
}
Stmt& Stmt::BindBlob(int i, std::string_view bytes) {
  int rc = sqlite3_bind_blob(s_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && status_.ok()) status_ = SqlError(db_, rc, "bind");
  return *this;
}

bool Stmt::Step() {
  if (!status_.ok()) return false;
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status_ = SqlError(db_, rc, "step");
  return false;
}

Status Stmt::Run() {
  while (Step()) {
  }
  return status_;
}

Stmt& Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
  status_ = Status::Ok();
  return *this;
}

std::string Stmt::Text(int col) const {
  const auto* p = sqlite3_column_text(s_, col);
  int n = sqlite3_column_bytes(s_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}
std::optional<std::string> Stmt::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}
int64_t Stmt::Int(int col) const { return sqlite3_column_int64(s_, col); }
double Stmt::Real(int col) const { return sqlite3_column_double(s_, col); }
bool Stmt::IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    cache_.clear();
    if (db_) sqlite3_close_v2(db_);
    db_ = o.db_;
    cache_ = std::move(o.cache_);
    o.db_ = nullptr;
  }
  return *this;
}

Db::~Db() {
  cache_.clear();  // finalize cached statements before closing
  if (db_) sqlite3_close_v2(db_);
}

Result<Db::Cached> Db::Prepared(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Cached(it->second.get());
  MG_ASSIGN_OR_RETURN(Stmt s, Prepare(sql));
  auto p = std::make_unique<Stmt>(std::move(s));
  Stmt* raw = p.get();
  cache_.emplace(sql, std::move(p));
  return Cached(raw);
}

Result<Db> Db::Open(const std::string& path, bool read_only, int busy_timeout_ms,
                    std::string_view synchronous) {
  sqlite3* raw = nullptr;
  int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) return SqlError(raw, rc, "open " + path);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  sqlite3_extended_result_codes(raw, 1);
  if (!read_only) MG_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode=WAL"));
  MG_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys=ON"));
  MG_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=" + std::string(synchronous)));
  return db;
}

Status Db::Exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    Status st = SqlError(nullptr, rc, "exec");
    return Status(st.code(), st.reason(), msg);
  }
  return Status::Ok();
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) return SqlError(db_, rc, "prepare");
  return Stmt(db_, s);
}

Status Db::Transaction(const std::function<Status()>& fn, bool write) {
  MG_RETURN_IF_ERROR(Exec(write ? "BEGIN IMMEDIATE" : "BEGIN"));
  Status s = fn();
  if (s.ok()) s = Exec("COMMIT");
  if (!s.ok()) (void)Exec("ROLLBACK");  // best effort; the error being returned is s
  return s;
}

int64_t Db::Changes() const { return sqlite3_changes64(db_); }

Result<int> Migrate(Db& db, const std::vector<std::string_view>& migrations) {
  MG_RETURN_IF_ERROR(db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_version("
      "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT"));
  int current = 0;
  {
    MG_ASSIGN_OR_RETURN(Stmt q, db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
    if (q.Step()) current = static_cast<int>(q.Int(0));
    MG_RETURN_IF_ERROR(q.status());
  }
  if (current > static_cast<int>(migrations.size()))
    return Status::Internal("the database schema (version " + std::to_string(current) +
                            ") is newer than this program knows (" +
                            std::to_string(migrations.size()) + "); upgrade mgteam");
  for (int v = current + 1; v <= static_cast<int>(migrations.size()); ++v) {
    Status s = db.Transaction([&]() -> Status {
      MG_RETURN_IF_ERROR(db.Exec(migrations[static_cast<size_t>(v - 1)]));
      MG_ASSIGN_OR_RETURN(Stmt ins,
                          db.Prepare("INSERT INTO schema_version(version, applied_at) VALUES(?, ?)"));
      return ins.BindAll(static_cast<int64_t>(v), NowRfc3339()).Run();
    });
    if (!s.ok()) return Status::Internal("migration " + std::to_string(v) + " failed: " + s.message());
  }
  return static_cast<int>(migrations.size());
}

}  // namespace mgteam::sql
