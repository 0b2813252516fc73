// ParseMemoryPatch and ParseRelationshipPatch (PATCH bodies) over arbitrary
// JSON: an accepted patch sets only valid values, and its ToJson form (what
// the change log and the merge keep) parses back to the same patch.
#include "validate_properties.h"

namespace {

using namespace mgteam;

void CheckMemoryPatch(const json& body) {
  auto parsed = ParseMemoryPatch(body);
  if (!parsed.ok()) {
    fuzz::RequireRefusal(parsed.status());
    return;
  }
  const MemoryPatch& p = *parsed;
  FUZZ_REQUIRE(!p.Empty());
  if (p.base_version) FUZZ_REQUIRE(*p.base_version >= 1);
  if (p.edited_at) fuzz::RequireCanonicalTime(*p.edited_at);
  if (p.type) FUZZ_REQUIRE(IsMemoryType(*p.type));
  if (p.title) fuzz::RequireText(*p.title, 1, limits::kTitleMax, false, true);
  if (p.content) fuzz::RequireText(*p.content, 0, limits::kContentMax, true, false);
  if (p.summary && *p.summary) fuzz::RequireText(**p.summary, 1, limits::kSummaryMax, true, true);
  if (p.tags) fuzz::RequireTags(*p.tags);
  if (p.importance) fuzz::RequireFraction(*p.importance);
  if (p.confidence) fuzz::RequireFraction(*p.confidence);
  if (p.context) FUZZ_REQUIRE(ValidateContext(*p.context).ok());

  auto again = ParseMemoryPatch(fuzz::ThroughText(p.ToJson()));
  FUZZ_REQUIRE(again.ok());
  FUZZ_REQUIRE(again->ToJson() == p.ToJson());

  // Applied to a memory, the patch changes exactly the fields it sets.
  Memory before;
  before.title = "before";
  Memory after = before;
  ApplyPatch(after, p);
  FUZZ_REQUIRE(after.title == (p.title ? *p.title : before.title));
  FUZZ_REQUIRE(after.tags == (p.tags ? *p.tags : before.tags));
  FUZZ_REQUIRE(after.context == (p.context ? *p.context : before.context));
  FUZZ_REQUIRE(after.summary == (p.summary ? *p.summary : before.summary));
}

void CheckRelationshipPatch(const json& body) {
  auto parsed = ParseRelationshipPatch(body);
  if (!parsed.ok()) {
    fuzz::RequireRefusal(parsed.status());
    return;
  }
  const RelationshipPatch& p = *parsed;
  FUZZ_REQUIRE(!p.Empty());
  if (p.base_version) FUZZ_REQUIRE(*p.base_version >= 1);
  if (p.type) FUZZ_REQUIRE(IsRelationshipType(*p.type));
  if (p.strength) fuzz::RequireFraction(*p.strength);
  if (p.confidence) fuzz::RequireFraction(*p.confidence);
  if (p.context && *p.context) fuzz::RequireText(**p.context, 1, limits::kRelContextMax, true, true);
  if (p.evidence_count) FUZZ_REQUIRE(*p.evidence_count >= 0 && *p.evidence_count <= 1000000000);

  auto again = ParseRelationshipPatch(fuzz::ThroughText(p.ToJson()));
  FUZZ_REQUIRE(again.ok());
  FUZZ_REQUIRE(again->ToJson() == p.ToJson());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = fuzz::ParseDocument(data, size);
  if (!body) return 0;
  CheckMemoryPatch(*body);
  CheckRelationshipPatch(*body);
  return 0;
}
