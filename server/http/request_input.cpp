#include "http/request_input.h"

#include "http/browser_session.h"

#include "mgteam/text.h"
#include "mgteam/validate.h"

namespace mgteam::server {

Result<RequestInput> ReadRequestInput(const RawRequestInput& raw) {
  RequestInput in;
  // Query strings are decoded by httplib; make sure they are text.
  for (const auto& [k, v] : raw.query)
    if (!IsValidUtf8(k) || !IsValidUtf8(v))
      return Status::BadRequest("invalid_utf8", "query parameter '" + k + "' is not valid UTF-8");

  const bool mutation = raw.method != "GET" && raw.method != "HEAD";
  if (mutation && !raw.body.empty()) {
    if (!IsValidUtf8(raw.body))
      return Status::BadRequest("invalid_utf8", "the request body is not valid UTF-8");
    in.body = json::parse(raw.body, nullptr, /*allow_exceptions=*/false);
    if (in.body.is_discarded())
      return Status::BadRequest("malformed_json", "the request body is not valid JSON");
    if (!in.body.is_object())
      return Status::Invalid("wrong_type", "the request body must be a JSON object");
    // Handlers copy and walk bodies recursively; refuse what could exhaust the stack.
    if (NestedDeeperThan(in.body, limits::kBodyDepthMax))
      return Status::BadRequest("json_too_deep", "the request body is nested deeper than " +
                                                     std::to_string(limits::kBodyDepthMax) + " levels");
  }

  if (mutation && raw.idempotency_key) {
    const std::string& key = *raw.idempotency_key;
    if (key.empty() || key.size() > limits::kIdempotencyKeyMax || HasControlChars(key, false))
      return Status::BadRequest("invalid_idempotency_key",
                                "Idempotency-Key must be 1-255 printable characters");
    in.idempotency_key = key;
  }

  if (raw.authorization) {
    std::string_view h = *raw.authorization;
    // The scheme name is case-insensitive (RFC 7235 section 2.1): "bearer" too.
    if (h.size() > 7 && AsciiLower(h.substr(0, 7)) == "bearer ") in.bearer = Trim(h.substr(7));
  }
  if (raw.cookie) {
    SessionCookie c = FindSessionCookie(*raw.cookie);
    in.session = std::move(c.secret);
    in.session_ambiguous = c.ambiguous;
  }
  return in;
}

}  // namespace mgteam::server
