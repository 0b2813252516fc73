#include "mgteam/clock.h"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace mgteam {

TimePoint Now() { return std::chrono::system_clock::now(); }

int64_t ToUnixMillis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string FormatRfc3339(TimePoint t) {
  int64_t ms = ToUnixMillis(t);
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int millis = static_cast<int>(ms - secs * 1000);
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

std::optional<TimePoint> ParseRfc3339(std::string_view s) {
  int Y, M, D, h, m, sec;
  if (!Digits(s, 0, 4, Y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, M) || s[7] != '-' ||
      !Digits(s, 8, 2, D) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, h) || s[13] != ':' || !Digits(s, 14, 2, m) || s[16] != ':' ||
      !Digits(s, 17, 2, sec))
    return std::nullopt;
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return std::nullopt;
  // system_clock counts nanoseconds in 64 bits: it ends in 2262.
  if (Y < 1900 || Y > 2200) return std::nullopt;
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
  if (D > kDaysIn[M - 1] || (M == 2 && D == 29 && !leap)) return std::nullopt;
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset_secs = 0;
  if (pos >= s.size()) return std::nullopt;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_secs = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  int64_t days = DaysFromCivil(Y, static_cast<unsigned>(M), static_cast<unsigned>(D));
  int64_t total = days * 86400 + h * 3600 + m * 60 + (sec == 60 ? 59 : sec) - offset_secs;
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::microseconds(total * 1000000 + micros)));
}

std::optional<std::chrono::seconds> ParseDuration(std::string_view s) {
  if (s.size() < 2) return std::nullopt;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size() - 1, n);
  if (ec != std::errc() || p != s.data() + s.size() - 1 || n < 0 || n > 100L * 365 * 86400)
    return std::nullopt;
  int64_t unit = 0;
  switch (s.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    default: return std::nullopt;
  }
  // At most 100 years in all, so `Now() - d` stays inside the clock's range.
  if (n > 100L * 365 * 86400 / unit) return std::nullopt;
  return std::chrono::seconds(n * unit);
}

std::string HumanizeAgo(TimePoint t, TimePoint now) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - t).count();
  bool future = secs < 0;
  if (future) secs = -secs;
  if (secs < 10) return "just now";
  struct Unit { int64_t size; const char* name; };
  static constexpr Unit kUnits[] = {{86400 * 365, "year"}, {86400 * 30, "month"}, {86400, "day"},
                                    {3600, "hour"},        {60, "minute"},        {1, "second"}};
  for (const auto& u : kUnits) {
    if (secs >= u.size) {
      int64_t n = secs / u.size;
      std::string s = std::to_string(n) + " " + u.name + (n == 1 ? "" : "s");
      return future ? "in " + s : s + " ago";
    }
  }
  return "just now";
}

}  // namespace mgteam
