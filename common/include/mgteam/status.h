// Status and Result<T>: the one error type used across mgteam.
//
// A Status is an error code (which maps to an HTTP status and a CLI exit code,
// each in one table), a machine-readable reason ("title_too_long",
// "owner_protected", ...), a human message that says what to do next, and
// optional JSON details that travel in the API's error object
// (e.g. {"permission": "member.invite"}).
//
// Functions that can fail return Status or Result<T>; exceptions never cross a
// module boundary. Both are [[nodiscard]]: an error is returned, logged with
// what failed, or counted. Where dropping one is right, cast it to (void) and
// say why on the same line, e.g.
//   (void)Exec("ROLLBACK");  // best effort; the error being returned is s
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace mgteam {

enum class Code {
  kOk = 0,
  kBadRequest,          // malformed JSON / UTF-8 / query           -> 400
  kInvalid,             // well-formed input breaking a rule        -> 422
  kUnauthenticated,     // no valid token                           -> 401
  kPermissionDenied,    // missing permission or protected action   -> 403
  kNotFound,            // absent, deleted, or not visible          -> 404
  kConflict,            // version / state conflict                 -> 409
  kPayloadTooLarge,     //                                          -> 413
  kTooManyRequests,     // throttled: try again after `retry_after` -> 429
  kUnavailable,         // server busy, shutting down, unreachable  -> 503
  kInternal,            // a bug or an I/O failure                  -> 500
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string reason, std::string message)
      : code_(code), reason_(std::move(reason)), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status BadRequest(std::string reason, std::string msg) { return {Code::kBadRequest, std::move(reason), std::move(msg)}; }
  static Status Invalid(std::string reason, std::string msg) { return {Code::kInvalid, std::move(reason), std::move(msg)}; }
  static Status Unauthenticated(std::string msg) { return {Code::kUnauthenticated, "unauthorized", std::move(msg)}; }
  static Status NotFound(std::string msg) { return {Code::kNotFound, "not_found", std::move(msg)}; }
  static Status Conflict(std::string reason, std::string msg) { return {Code::kConflict, std::move(reason), std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, "internal", std::move(msg)}; }
  static Status Unavailable(std::string reason, std::string msg) { return {Code::kUnavailable, std::move(reason), std::move(msg)}; }
  // A missing permission: the error names it, per the API contract.
  static Status Forbidden(const std::string& permission);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  const nlohmann::json& details() const { return details_; }

  // Adds a field to the error object (chainable).
  Status& with(const std::string& key, nlohmann::json value) {
    details_[key] = std::move(value);
    return *this;
  }

  // "reason: message", for logs and tests.
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string reason_;
  std::string message_;
  nlohmann::json details_ = nlohmann::json::object();
};

// The HTTP status for an error code (one table, used by the server).
int HttpStatusFor(Code code);
// The inverse, for clients reading an error response.
Code CodeForHttpStatus(int http_status);

// The API error body: {"error": {"code", "message", ...details}}.
nlohmann::json ErrorBody(const Status& s);
// Reads an error body back into a Status (clients); falls back to the HTTP
// status when the body is not an mgteam error object.
Status StatusFromErrorBody(int http_status, const std::string& body);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}         // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // Precondition: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // Precondition: !ok().
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace mgteam

// Early-return helpers; they keep call sites flat.
#define MG_CONCAT_INNER(a, b) a##b
#define MG_CONCAT(a, b) MG_CONCAT_INNER(a, b)
// The variable is named per line so that a lambda inside `expr` may use the
// macro too.
#define MG_RETURN_IF_ERROR(expr) MG_RETURN_IF_ERROR_IMPL(MG_CONCAT(mg_status__, __LINE__), expr)
#define MG_RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                     \
    ::mgteam::Status tmp = (expr);         \
    if (!tmp.ok()) return tmp;             \
  } while (0)
#define MG_ASSIGN_OR_RETURN(lhs, expr) \
  MG_ASSIGN_OR_RETURN_IMPL(MG_CONCAT(mg_result__, __LINE__), lhs, expr)
#define MG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
