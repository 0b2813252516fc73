#include "mgteam/status.h"

#include <doctest/doctest.h>

using namespace mgteam;

TEST_CASE("error codes map to the documented HTTP statuses") {
  CHECK(HttpStatusFor(Code::kBadRequest) == 400);
  CHECK(HttpStatusFor(Code::kInvalid) == 422);
  CHECK(HttpStatusFor(Code::kUnauthenticated) == 401);
  CHECK(HttpStatusFor(Code::kPermissionDenied) == 403);
  CHECK(HttpStatusFor(Code::kNotFound) == 404);
  CHECK(HttpStatusFor(Code::kConflict) == 409);
  CHECK(HttpStatusFor(Code::kPayloadTooLarge) == 413);
  CHECK(HttpStatusFor(Code::kTooManyRequests) == 429);
  CHECK(HttpStatusFor(Code::kInternal) == 500);
  for (Code c : {Code::kBadRequest, Code::kInvalid, Code::kUnauthenticated, Code::kPermissionDenied,
                 Code::kNotFound, Code::kConflict, Code::kPayloadTooLarge, Code::kTooManyRequests, Code::kUnavailable,
                 Code::kInternal})
    CHECK(CodeForHttpStatus(HttpStatusFor(c)) == c);
}

TEST_CASE("a 403 names the missing permission, and the body round-trips") {
  Status s = Status::Forbidden("member.invite");
  auto body = ErrorBody(s);
  CHECK(body["error"]["code"] == "forbidden");
  CHECK(body["error"]["permission"] == "member.invite");
  Status back = StatusFromErrorBody(403, body.dump());
  CHECK(back.code() == Code::kPermissionDenied);
  CHECK(back.reason() == "forbidden");
  CHECK(back.details()["permission"] == "member.invite");
  CHECK(back.message() == s.message());
}

TEST_CASE("a non-mgteam error body still becomes a sensible Status") {
  Status s = StatusFromErrorBody(502, "<html>bad gateway</html>");
  CHECK(s.code() == Code::kInternal);
  CHECK(s.message() == "HTTP 502");
}

TEST_CASE("Result carries a value or a status") {
  Result<int> ok = 7;
  CHECK(ok.ok());
  CHECK(*ok == 7);
  CHECK(ok.status().ok());
  Result<int> bad = Status::NotFound("nope");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kNotFound);
}
