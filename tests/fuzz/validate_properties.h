// What the validate_* fuzz targets check of every accepted value: the limits
// validate.h promises hold, and the value, written back as a request body,
// validates again to the same value (normalisation is idempotent). A refusal
// is a 422 whose error body serialises.
#pragma once

#include "fuzz_support.h"
#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "mgteam/text.h"
#include "mgteam/validate.h"

#include <algorithm>
#include <optional>

namespace mgteam::fuzz {

// The input as a JSON document, or nullopt when it is not JSON (the router
// answers those before validation runs).
inline std::optional<json> ParseDocument(const uint8_t* data, size_t size) {
  json j = json::parse(AsText(data, size), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  // Deeper documents are refused by the router before validation; dump and
  // == recurse, so this check would overflow the stack on them itself.
  if (!NestedDeeperThan(j, limits::kBodyDepthMax)) RequireJsonRoundTrip(j);
  return j;
}

inline void RequireRefusal(const Status& s) {
  FUZZ_REQUIRE(s.code() == Code::kInvalid);
  FUZZ_REQUIRE(!s.reason().empty() && !s.message().empty());
  FUZZ_REQUIRE(IsValidUtf8(s.message()));
  (void)ErrorBody(s).dump();  // strict: throws on invalid UTF-8
}

// A JSON copy that went through text, as a stored or forwarded value does.
inline json ThroughText(const json& j) { return json::parse(j.dump()); }

inline void RequireText(const std::string& s, size_t min, size_t max, bool multiline, bool trimmed) {
  FUZZ_REQUIRE(IsValidUtf8(s));
  FUZZ_REQUIRE(!HasControlChars(s, multiline));
  size_t n = CodePointCount(s);
  FUZZ_REQUIRE(n >= min && n <= max);
  if (trimmed) FUZZ_REQUIRE(Trim(s) == s);
}

inline void RequireFraction(double d) { FUZZ_REQUIRE(d >= 0.0 && d <= 1.0); }

inline void RequireCanonicalId(const std::string& id) { FUZZ_REQUIRE(NormalizeUuid(id) == id); }

inline void RequireCanonicalTime(const std::string& t) {
  auto parsed = ParseRfc3339(t);
  FUZZ_REQUIRE(parsed.has_value());
  FUZZ_REQUIRE(FormatRfc3339(*parsed) == t);
}

inline void RequireTags(const std::vector<std::string>& tags) {
  FUZZ_REQUIRE(tags.size() <= limits::kTagsMax);
  FUZZ_REQUIRE(std::is_sorted(tags.begin(), tags.end()));
  FUZZ_REQUIRE(std::adjacent_find(tags.begin(), tags.end()) == tags.end());
  for (const auto& t : tags) {
    RequireText(t, 1, limits::kTagMax, false, true);
    FUZZ_REQUIRE(AsciiLower(t) == t);
  }
}

}  // namespace mgteam::fuzz
