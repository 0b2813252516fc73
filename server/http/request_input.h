// ReadRequestInput: the part of the router's request preparation that looks
// only at what the client sent (query text, body, Idempotency-Key, the bearer
// token), before any lookup. Pure, so it is unit-tested and fuzzed without a
// server (tests/fuzz/router_input_fuzz.cpp); Router::Prepare calls it first.
#pragma once

#include "mgteam/model.h"
#include "mgteam/status.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mgteam::server {

struct RawRequestInput {
  std::string_view method;                                  // GET POST PATCH DELETE PUT
  std::vector<std::pair<std::string, std::string>> query;   // decoded by httplib
  std::string_view body;
  std::optional<std::string> idempotency_key;               // the header, when sent
  std::optional<std::string> authorization;                 // the header, when sent
  std::optional<std::string> cookie = std::nullopt;         // the Cookie header, when sent
};

struct RequestInput {
  json body = json::object();                  // a JSON object; {} when there was no body
  std::optional<std::string> idempotency_key;  // set only on mutations
  std::string bearer;                          // empty when no bearer token was sent
  std::string session;                         // the dashboard's session cookie; empty when none
  bool session_ambiguous = false;              // two session cookies were sent (browser_session.h)
};

// 400 invalid_utf8 (query or body), 400 malformed_json, 422 wrong_type (a body
// that is not an object), 400 json_too_deep, 400 invalid_idempotency_key.
Result<RequestInput> ReadRequestInput(const RawRequestInput& raw);

}  // namespace mgteam::server
