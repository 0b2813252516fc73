// Validation at the edge: every request body and every local write passes
// through here before it can reach a store. Pure functions of their input.
//
// Limits (also in docs/api.md): title 1-200 characters, summary <= 500,
// content <= 100,000, at most 50 tags of 1-64 characters each, context a JSON
// object of at most 16 KiB and depth 8, importance/confidence/strength in
// 0..1. Unknown fields are refused so that typos never pass silently.
#pragma once

#include "mgteam/model.h"
#include "mgteam/status.h"

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mgteam {

namespace limits {
inline constexpr size_t kTitleMax = 200;
inline constexpr size_t kSummaryMax = 500;
inline constexpr size_t kContentMax = 100000;
inline constexpr size_t kTagsMax = 50;
inline constexpr size_t kTagMax = 64;
inline constexpr size_t kContextBytesMax = 16 * 1024;
inline constexpr int kContextDepthMax = 8;
inline constexpr int kBodyDepthMax = 32;  // a request body's JSON nesting
inline constexpr size_t kRelContextMax = 2000;
inline constexpr size_t kNameMax = 100;
inline constexpr size_t kEmailMax = 254;
inline constexpr size_t kPasswordMin = 8;
inline constexpr size_t kPasswordMax = 1024;
inline constexpr size_t kIdempotencyKeyMax = 255;
}  // namespace limits

// Reads fields of one JSON object, recording the first problem it meets. Each
// getter returns nullopt when the field is absent, null, or invalid; check
// status() once at the end.
class FieldReader {
 public:
  FieldReader(const json& body, std::initializer_list<std::string_view> allowed);

  bool Has(std::string_view key) const;
  bool IsNull(std::string_view key) const;  // present with value null

  struct TextRule {
    size_t min = 0;
    size_t max = 0;
    bool multiline = false;  // allow tab/LF/CR
    bool trim = true;
  };
  std::optional<std::string> Text(std::string_view key, TextRule rule, bool required = false);
  std::optional<double> Fraction(std::string_view key);  // a number in 0..1
  std::optional<int64_t> Integer(std::string_view key, int64_t min, int64_t max, bool required = false);
  std::optional<bool> Boolean(std::string_view key);
  std::optional<std::string> Uuid(std::string_view key, bool required = false);
  std::optional<std::string> Enum(std::string_view key, std::span<const std::string_view> values,
                                  bool required = false);
  std::optional<std::string> Email(std::string_view key, bool required = false);
  std::optional<std::string> Timestamp(std::string_view key);  // RFC 3339, normalised to UTC ms
  std::optional<std::vector<std::string>> Tags(std::string_view key);
  std::optional<json> Context(std::string_view key);

  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

 private:
  const json* Field(std::string_view key, bool required);
  void Fail(std::string reason, std::string_view key, std::string message);

  const json& body_;
  Status status_;
};

// True if `j` nests arrays and objects more than `levels` deep ({} is one
// level). Looks no deeper than that, so a hostile document cannot exhaust the
// stack (a recursive depth count overflowed it on a 200 KB body).
bool NestedDeeperThan(const json& j, int levels);

// Lowercases, trims, drops empties and duplicates, sorts. Errors name the tag.
Result<std::vector<std::string>> NormalizeTags(const std::vector<std::string>& tags);
// Checks a memory context object against the size/depth limits and the types
// of the well-known keys (project_path, files_involved, languages, ...).
Status ValidateContext(const json& context);
// Lowercased, trimmed email if it looks like one.
std::optional<std::string> NormalizeEmail(std::string_view email);

// POST .../memories. Returns a Memory with client fields set; id is empty
// when the client did not send one; created_at is set only if sent.
Result<Memory> ParseMemoryCreate(const json& body);

// PATCH .../memories/{id}: only the fields present change.
struct MemoryPatch {
  std::optional<int64_t> base_version;
  std::optional<std::string> edited_at;
  std::optional<std::string> type;
  std::optional<std::string> title;
  std::optional<std::string> content;
  std::optional<std::optional<std::string>> summary;  // engaged null clears it
  std::optional<std::vector<std::string>> tags;
  std::optional<double> importance;
  std::optional<double> confidence;
  std::optional<json> context;

  bool Empty() const;
  json ToJson() const;
};
Result<MemoryPatch> ParseMemoryPatch(const json& body);
void ApplyPatch(Memory& m, const MemoryPatch& p);

Result<Relationship> ParseRelationshipCreate(const json& body);

struct RelationshipPatch {
  std::optional<int64_t> base_version;
  std::optional<std::string> type;
  std::optional<double> strength;
  std::optional<double> confidence;
  std::optional<std::optional<std::string>> context;
  std::optional<int64_t> evidence_count;

  bool Empty() const;
  json ToJson() const;
};
Result<RelationshipPatch> ParseRelationshipPatch(const json& body);
void ApplyPatch(Relationship& r, const RelationshipPatch& p);

}  // namespace mgteam
