// ReadRequestInput: what the router accepts of a request before any lookup.
#include "http/request_input.h"

#include <doctest/doctest.h>

using namespace mgteam;
using namespace mgteam::server;

namespace {
std::string ReasonOf(const RawRequestInput& raw) { return ReadRequestInput(raw).status().reason(); }
}  // namespace

TEST_CASE("a mutation's body must be a JSON object of UTF-8 text") {
  auto in = ReadRequestInput({"POST", {}, R"({"title":"x"})", std::nullopt, std::nullopt});
  REQUIRE(in.ok());
  CHECK(in->body == json{{"title", "x"}});
  CHECK(ReasonOf({"POST", {}, "{\"t\":\"\xc3\x28\"}", std::nullopt, std::nullopt}) == "invalid_utf8");
  CHECK(ReasonOf({"POST", {}, "{", std::nullopt, std::nullopt}) == "malformed_json");
  CHECK(ReasonOf({"PATCH", {}, "[1]", std::nullopt, std::nullopt}) == "wrong_type");
  CHECK(ReadRequestInput({"GET", {}, "[1]", std::nullopt, std::nullopt})->body == json::object());  // GET: ignored
  CHECK(ReasonOf({"GET", {{"q", "\xff"}}, "", std::nullopt, std::nullopt}) == "invalid_utf8");
}

TEST_CASE("a body nested deeper than 32 levels is refused before any handler walks it") {
  auto nested = [](int levels) {
    return R"({"a":)" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
  };
  CHECK(ReadRequestInput({"POST", {}, nested(32), std::nullopt, std::nullopt}).ok());
  CHECK(ReasonOf({"POST", {}, nested(33), std::nullopt, std::nullopt}) == "json_too_deep");
  CHECK(ReasonOf({"POST", {}, nested(500000), std::nullopt, std::nullopt}) == "json_too_deep");
}

TEST_CASE("the Idempotency-Key is checked on mutations, the bearer token trimmed") {
  CHECK(ReadRequestInput({"POST", {}, "", std::string("k1"), std::nullopt})->idempotency_key == "k1");
  CHECK_FALSE(ReadRequestInput({"GET", {}, "", std::string("k1"), std::nullopt})->idempotency_key);
  CHECK(ReasonOf({"POST", {}, "", std::string("a\tb"), std::nullopt}) == "invalid_idempotency_key");
  CHECK(ReasonOf({"POST", {}, "", std::string(256, 'k'), std::nullopt}) == "invalid_idempotency_key");
  CHECK(ReadRequestInput({"GET", {}, "", std::nullopt, std::string("bearer  tok ")})->bearer == "tok");
  CHECK(ReadRequestInput({"GET", {}, "", std::nullopt, std::string("Basic dXNlcg==")})->bearer.empty());
}

TEST_CASE("the dashboard's session comes from the Cookie header, apart from the bearer token") {
  auto in = ReadRequestInput({"GET", {}, "", std::nullopt, std::string("Bearer mg_t"),
                              std::string("theme=dark; mgteam_session=mgs_s")});
  REQUIRE(in.ok());
  CHECK(in->bearer == "mg_t");
  CHECK(in->session == "mgs_s");
  CHECK(ReadRequestInput({"GET", {}, "", std::nullopt, std::nullopt, std::string("theme=dark")})->session.empty());
}
