#include "mgteam/status.h"

namespace mgteam {

Status Status::Forbidden(const std::string& permission) {
  Status s(Code::kPermissionDenied, "forbidden",
           "your role does not grant '" + permission + "'; ask a team owner or admin");
  s.with("permission", permission);
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return reason_ + ": " + message_;
}

namespace {
struct CodeRow {
  Code code;
  int http;
  const char* default_reason;
};
constexpr CodeRow kCodeTable[] = {
    {Code::kOk, 200, "ok"},
    {Code::kBadRequest, 400, "bad_request"},
    {Code::kInvalid, 422, "validation_failed"},
    {Code::kUnauthenticated, 401, "unauthorized"},
    {Code::kPermissionDenied, 403, "forbidden"},
    {Code::kNotFound, 404, "not_found"},
    {Code::kConflict, 409, "conflict"},
    {Code::kPayloadTooLarge, 413, "payload_too_large"},
    {Code::kTooManyRequests, 429, "too_many_requests"},
    {Code::kUnavailable, 503, "unavailable"},
    {Code::kInternal, 500, "internal"},
};
}  // namespace

int HttpStatusFor(Code code) {
  for (const auto& row : kCodeTable)
    if (row.code == code) return row.http;
  return 500;
}

Code CodeForHttpStatus(int http_status) {
  if (http_status < 400) return Code::kOk;
  for (const auto& row : kCodeTable)
    if (row.http == http_status) return row.code;
  if (http_status == 405 || http_status == 415) return Code::kBadRequest;
  return http_status >= 500 ? Code::kInternal : Code::kBadRequest;
}

nlohmann::json ErrorBody(const Status& s) {
  nlohmann::json err = s.details();
  err["code"] = s.reason();
  err["message"] = s.message();
  return nlohmann::json{{"error", std::move(err)}};
}

Status StatusFromErrorBody(int http_status, const std::string& body) {
  Code code = CodeForHttpStatus(http_status);
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const auto& e = j["error"];
    std::string reason = e.value("code", std::string("error"));
    std::string message = e.value("message", std::string("HTTP ") + std::to_string(http_status));
    Status s(code, reason, message);
    for (const auto& [k, v] : e.items())
      if (k != "code" && k != "message") s.with(k, v);
    return s;
  }
  for (const auto& row : kCodeTable)
    if (row.code == code)
      return Status(code, row.default_reason, "HTTP " + std::to_string(http_status));
  return Status(code, "error", "HTTP " + std::to_string(http_status));
}

}  // namespace mgteam
