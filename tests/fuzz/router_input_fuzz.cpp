// The router's request preparation before any lookup (ReadRequestInput):
// query text, JSON body, Idempotency-Key and the bearer token, over arbitrary
// requests. What it accepts is what handlers rely on: a JSON object body that
// survives a round trip through text, a printable key of at most 255 bytes,
// a trimmed token. Path parameters go through NormalizeUuid, checked too.
#include "fuzz_support.h"
#include "http/request_input.h"
#include "mgteam/ids.h"
#include "mgteam/text.h"
#include "mgteam/validate.h"

namespace {

using namespace mgteam;
using fuzz::ByteReader;

const std::vector<std::string_view> kMethods = {"GET", "POST", "PATCH", "DELETE", "PUT"};

void CheckUuid(const std::string& candidate) {
  auto id = NormalizeUuid(candidate);
  if (!id) return;
  FUZZ_REQUIRE(id->size() == 36);
  for (size_t i = 0; i < id->size(); ++i) {
    char c = (*id)[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    FUZZ_REQUIRE(dash ? c == '-' : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')));
  }
  FUZZ_REQUIRE(NormalizeUuid(*id) == id);
  FUZZ_REQUIRE(AsciiLower(candidate) == *id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(fuzz::AsText(data, size));
  server::RawRequestInput raw;
  raw.method = kMethods[in.Below(kMethods.size())];
  for (size_t n = in.Below(4); n > 0; --n) {
    std::string key = in.Text(12);
    raw.query.emplace_back(key, in.Text(80));
  }
  if (in.Bool()) raw.idempotency_key = in.Text(255);
  if (uint8_t auth = in.Byte(); auth & 1) raw.authorization = (auth & 2 ? "Bearer " : "") + in.Text(64);
  if (in.Bool()) raw.cookie = in.Text(120);
  std::string body(in.Rest());
  raw.body = body;

  for (const auto& [k, v] : raw.query) {
    CheckUuid(k);
    CheckUuid(v);
  }

  auto result = server::ReadRequestInput(raw);
  const bool mutation = raw.method != "GET";
  if (!result.ok()) {
    const Status& s = result.status();
    FUZZ_REQUIRE(s.code() == Code::kBadRequest || s.code() == Code::kInvalid);
    FUZZ_REQUIRE(s.reason() == "invalid_utf8" || s.reason() == "malformed_json" || s.reason() == "wrong_type" ||
                 s.reason() == "json_too_deep" || s.reason() == "invalid_idempotency_key");
    (void)ErrorBody(s).dump(-1, ' ', false, json::error_handler_t::replace);
    return 0;
  }
  const server::RequestInput& input = *result;

  FUZZ_REQUIRE(input.body.is_object());
  FUZZ_REQUIRE(!NestedDeeperThan(input.body, limits::kBodyDepthMax));
  if (!mutation || body.empty()) FUZZ_REQUIRE(input.body.empty());
  fuzz::RequireJsonRoundTrip(input.body);
  for (const auto& [k, v] : raw.query) FUZZ_REQUIRE(IsValidUtf8(k) && IsValidUtf8(v));
  if (mutation && !body.empty()) FUZZ_REQUIRE(IsValidUtf8(body));

  if (input.idempotency_key) {
    FUZZ_REQUIRE(mutation && raw.idempotency_key == input.idempotency_key);
    const std::string& key = *input.idempotency_key;
    FUZZ_REQUIRE(!key.empty() && key.size() <= 255 && !HasControlChars(key, false));
  } else {
    FUZZ_REQUIRE(!mutation || !raw.idempotency_key);
  }

  // A session comes only from a cookie pair of that name, one value, trimmed.
  if (!input.session.empty()) {
    FUZZ_REQUIRE(raw.cookie && raw.cookie->find("mgteam_session") != std::string::npos);
    FUZZ_REQUIRE(input.session.find(';') == std::string::npos);
    FUZZ_REQUIRE(input.session.front() != ' ' && input.session.back() != ' ');
  }

  if (!input.bearer.empty()) {
    FUZZ_REQUIRE(raw.authorization && AsciiLower(raw.authorization->substr(0, 7)) == "bearer ");
    FUZZ_REQUIRE(Trim(input.bearer) == input.bearer);
    FUZZ_REQUIRE(raw.authorization->find(input.bearer) != std::string::npos);
  }
  return 0;
}
