// Wall-clock time as the API speaks it: RFC 3339 UTC strings with millisecond
// precision ("2026-11-25T10:14:57.123Z"), which sort lexicographically.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mgteam {

using TimePoint = std::chrono::system_clock::time_point;

TimePoint Now();
std::string FormatRfc3339(TimePoint t);
inline std::string NowRfc3339() { return FormatRfc3339(Now()); }

// Parses RFC 3339 ("2026-11-25T10:14:57Z", fractional seconds, "+02:00"
// offsets, a space instead of 'T'); nullopt if malformed or outside the
// years 1900-2200.
std::optional<TimePoint> ParseRfc3339(std::string_view s);

// Milliseconds since the Unix epoch.
int64_t ToUnixMillis(TimePoint t);

// Parses a relative duration like "90s", "15m", "2h", "7d", "1w".
std::optional<std::chrono::seconds> ParseDuration(std::string_view s);

// "3 minutes ago", "just now", "in 2 hours" relative to `now`.
std::string HumanizeAgo(TimePoint t, TimePoint now);

}  // namespace mgteam
