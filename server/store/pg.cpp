#include "store/pg.h"

#include "store/store.h"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdlib>

namespace mgteam::server::pg {

namespace {

// pg_type.oid of bytea (catalog/pg_type_d.h is not a client header).
constexpr unsigned int kByteaOid = 17;

constexpr std::string_view kRetryReason = "serialization_failure";

std::string Field(const PGresult* r, int code) {
  const char* v = PQresultErrorField(r, code);
  return v ? v : "";
}

// libpq's messages end with a newline.
std::string Trimmed(const char* message) {
  std::string s = message ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status Unreachable(const std::string& why) {
  return Status::Unavailable("database_unavailable", "the database is unreachable (" + why + "); retry later");
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool Retryable(const Status& s) { return s.code() == Code::kUnavailable && s.reason() == kRetryReason; }

Params& Params::Add(std::string_view v) {
  values_.emplace_back(std::string(v));
  formats_.push_back(0);
  types_.push_back(0);
  return *this;
}

Params& Params::Add(int64_t v) { return Add(std::string_view(std::to_string(v))); }

Params& Params::Add(double v) {
  // The shortest text that parses back to exactly v, as PostgreSQL prints a
  // DOUBLE PRECISION (extra_float_digits >= 1), so values round-trip.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return Add(std::string_view(buf, ec == std::errc() ? static_cast<size_t>(end - buf) : 0));
}

Params& Params::Add(std::nullptr_t) {
  values_.emplace_back(std::nullopt);
  formats_.push_back(0);
  types_.push_back(0);
  return *this;
}

Params& Params::Add(const std::optional<std::string>& v) { return v ? Add(*v) : Add(nullptr); }

Params& Params::Add(const std::optional<int64_t>& v) { return v ? Add(*v) : Add(nullptr); }

Params& Params::AddBytes(std::string_view bytes) {
  values_.emplace_back(std::string(bytes));
  formats_.push_back(1);
  types_.push_back(kByteaOid);
  return *this;
}

void Rows::Free::operator()(pg_result* r) const { PQclear(r); }

Rows::Rows(pg_result* r) : r_(r) {}

int Rows::size() const { return r_ ? PQntuples(r_.get()) : 0; }

bool Rows::IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }

std::string Rows::Text(int row, int col) const {
  return std::string(PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col)));
}

std::optional<std::string> Rows::OptText(int row, int col) const {
  if (IsNull(row, col)) return std::nullopt;
  return Text(row, col);
}

int64_t Rows::Int(int row, int col) const {
  if (IsNull(row, col)) return 0;
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

double Rows::Real(int row, int col) const {
  if (IsNull(row, col)) return 0;
  return std::strtod(PQgetvalue(r_.get(), row, col), nullptr);
}

std::string Rows::Bytes(int row, int col) const {
  // bytea_output = hex (set per connection): "\x" then two digits a byte.
  std::string hex = Text(row, col);
  std::string out;
  if (hex.size() < 2 || hex[0] != '\\' || hex[1] != 'x') return out;
  out.reserve((hex.size() - 2) / 2);
  for (size_t i = 2; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(HexValue(hex[i]) * 16 + HexValue(hex[i + 1])));
  return out;
}

unsigned int Rows::Type(int col) const { return PQftype(r_.get(), col); }

int Rows::columns() const { return r_ ? PQnfields(r_.get()) : 0; }

int64_t Rows::affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& url, const std::string& setup) {
  // Later keywords win over earlier ones, so whatever the URL says about
  // these defaults applies. The URL's password never reaches a message:
  // libpq's errors name the host and port, not the password.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", "mgteam-server", url.c_str(), nullptr};
  PGconn* c = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (c == nullptr) return Unreachable("out of memory");
  std::unique_ptr<Connection> conn(new Connection(c));
  if (PQstatus(c) != CONNECTION_OK) return Unreachable(Trimmed(PQerrorMessage(c)));
  // Notices ("relation already exists, skipping") would go to stderr.
  PQsetNoticeProcessor(
      c, [](void*, const char* message) { spdlog::debug("database notice: {}", Trimmed(message)); }, nullptr);
  if (!setup.empty()) MG_RETURN_IF_ERROR(conn->Script(setup));
  return conn;
}

Connection::~Connection() { PQfinish(c_); }

bool Connection::broken() const { return lost_ || PQstatus(c_) != CONNECTION_OK; }

Result<Rows> Connection::Check(pg_result* raw, std::string_view sql) {
  Rows rows(raw);
  ExecStatusType st = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return rows;
  const std::string state = raw ? Field(raw, PG_DIAG_SQLSTATE) : "";
  const std::string message = raw ? Trimmed(PQresultErrorMessage(raw)) : Trimmed(PQerrorMessage(c_));
  // No SQLSTATE: libpq lost the connection (or never had a result).
  if (state.empty() || state.rfind("08", 0) == 0 || PQstatus(c_) != CONNECTION_OK) {
    lost_ = true;
    return Unreachable(message.empty() ? "connection lost" : message);
  }
  if (state == "23505") return UniqueViolation(Field(raw, PG_DIAG_CONSTRAINT_NAME), message);
  if (state == "40001" || state == "40P01")
    return Status::Unavailable(std::string(kRetryReason),
                               "the write conflicted with a concurrent one (" + message + "); retry");
  if (state == "57014")
    return Status::Unavailable("database_busy", "a database statement ran past statement_timeout; retry");
  // The server is shutting down or starting up: this connection is done.
  if (state.rfind("57P", 0) == 0) {
    lost_ = true;
    return Unreachable(message);
  }
  if (state.rfind("53", 0) == 0)
    return Status::Unavailable("database_busy", "the database is out of resources (" + message + "); retry");
  std::string what = "database error " + state + ": " + message + " (in: ";
  what.append(sql.substr(0, 120));
  what.push_back(')');
  return Status::Internal(std::move(what));
}

Result<Rows> Connection::Exec(std::string_view sql, const Params& params) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  values.reserve(params.size());
  lengths.reserve(params.size());
  for (const auto& v : params.values_) {
    values.push_back(v ? v->data() : nullptr);
    lengths.push_back(v ? static_cast<int>(v->size()) : 0);
  }
  const std::string text(sql);
  PGresult* r = PQexecParams(c_, text.c_str(), static_cast<int>(params.size()), params.types_.data(),
                             values.data(), lengths.data(), params.formats_.data(), /*resultFormat=*/0);
  return Check(r, sql);
}

Status Connection::Script(std::string_view sql) {
  const std::string text(sql);
  return Check(PQexec(c_, text.c_str()), sql).status();
}

}  // namespace mgteam::server::pg
