// ParseMemoryCreate (POST .../memories) over arbitrary JSON: an accepted
// memory keeps every documented limit and validates again to itself.
#include "validate_properties.h"

namespace {

using namespace mgteam;

json CreateBody(const Memory& m) {
  json body = {{"type", m.type},       {"title", m.title},           {"content", m.content},
               {"tags", m.tags},       {"importance", m.importance}, {"confidence", m.confidence},
               {"context", m.context}};
  if (!m.id.empty()) body["id"] = m.id;
  if (m.summary) body["summary"] = *m.summary;
  if (!m.created_at.empty()) body["created_at"] = m.created_at;
  return body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = fuzz::ParseDocument(data, size);
  if (!body) return 0;
  auto parsed = ParseMemoryCreate(*body);
  if (!parsed.ok()) {
    fuzz::RequireRefusal(parsed.status());
    return 0;
  }
  const Memory& m = *parsed;
  FUZZ_REQUIRE(IsMemoryType(m.type));
  fuzz::RequireText(m.title, 1, limits::kTitleMax, false, true);
  fuzz::RequireText(m.content, 0, limits::kContentMax, true, false);
  if (m.summary) fuzz::RequireText(*m.summary, 1, limits::kSummaryMax, true, true);
  fuzz::RequireTags(m.tags);
  fuzz::RequireFraction(m.importance);
  fuzz::RequireFraction(m.confidence);
  FUZZ_REQUIRE(ValidateContext(m.context).ok());
  if (!m.id.empty()) fuzz::RequireCanonicalId(m.id);
  if (!m.created_at.empty()) fuzz::RequireCanonicalTime(m.created_at);

  auto again = ParseMemoryCreate(fuzz::ThroughText(CreateBody(m)));
  FUZZ_REQUIRE(again.ok());
  FUZZ_REQUIRE(again->ToJson() == m.ToJson());
  return 0;
}
