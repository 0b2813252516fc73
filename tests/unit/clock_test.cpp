#include "mgteam/clock.h"

#include <doctest/doctest.h>

using namespace mgteam;

TEST_CASE("RFC 3339 round-trips at millisecond precision") {
  auto t = ParseRfc3339("2026-11-25T10:14:57.123Z");
  REQUIRE(t);
  CHECK(FormatRfc3339(*t) == "2026-11-25T10:14:57.123Z");
  CHECK(ToUnixMillis(*t) == 1795601697123);
}

TEST_CASE("RFC 3339 parsing normalises offsets and fractions") {
  CHECK(FormatRfc3339(*ParseRfc3339("2026-11-18T09:12:44.120000+00:00")) == "2026-11-18T09:12:44.120Z");
  CHECK(FormatRfc3339(*ParseRfc3339("2026-11-18T11:12:44+02:00")) == "2026-11-18T09:12:44.000Z");
  CHECK(FormatRfc3339(*ParseRfc3339("2026-11-18 09:12:44Z")) == "2026-11-18T09:12:44.000Z");
  CHECK(FormatRfc3339(*ParseRfc3339("1969-12-31T23:59:59.500Z")) == "1969-12-31T23:59:59.500Z");
}

TEST_CASE("malformed timestamps are refused") {
  for (const char* bad : {"", "2026-11-25", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2025-02-29T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T10:14:57",
                          "2026-11-25T10:14:57.Z", "2026-11-25T10:14:57Zjunk", "yesterday",
                          "2999-01-01T00:00:00Z", "1066-10-14T09:00:00Z"})
    CHECK_MESSAGE(!ParseRfc3339(bad), bad);
  CHECK(ParseRfc3339("2024-02-29T00:00:00Z"));
}

TEST_CASE("durations and relative times") {
  CHECK(ParseDuration("90s")->count() == 90);
  CHECK(ParseDuration("2h")->count() == 7200);
  CHECK(ParseDuration("7d")->count() == 7 * 86400);
  CHECK_FALSE(ParseDuration("7"));
  CHECK_FALSE(ParseDuration("x7d"));
  CHECK_FALSE(ParseDuration("-1h"));
  CHECK(ParseDuration("5200w"));             // 100 years...
  CHECK_FALSE(ParseDuration("99999999w"));   // ...and not beyond (Now() - d must not overflow)
  auto now = *ParseRfc3339("2026-11-25T10:00:00Z");
  CHECK(HumanizeAgo(now - std::chrono::seconds(3), now) == "just now");
  CHECK(HumanizeAgo(now - std::chrono::minutes(2), now) == "2 minutes ago");
  CHECK(HumanizeAgo(now - std::chrono::hours(1), now) == "1 hour ago");
  CHECK(HumanizeAgo(now + std::chrono::hours(49), now) == "in 2 days");
}
