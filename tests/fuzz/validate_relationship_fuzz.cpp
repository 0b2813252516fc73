// ParseRelationshipCreate (POST .../relationships) over arbitrary JSON: an
// accepted relationship joins two distinct canonical ids with a known type and
// validates again to itself.
#include "validate_properties.h"

namespace {

using namespace mgteam;

json CreateBody(const Relationship& r) {
  json body = {{"from_memory_id", r.from_memory_id}, {"to_memory_id", r.to_memory_id},
               {"type", r.type},                     {"strength", r.strength},
               {"confidence", r.confidence},         {"evidence_count", r.evidence_count}};
  if (!r.id.empty()) body["id"] = r.id;
  if (r.context) body["context"] = *r.context;
  return body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = fuzz::ParseDocument(data, size);
  if (!body) return 0;
  auto parsed = ParseRelationshipCreate(*body);
  if (!parsed.ok()) {
    fuzz::RequireRefusal(parsed.status());
    return 0;
  }
  const Relationship& r = *parsed;
  if (!r.id.empty()) fuzz::RequireCanonicalId(r.id);
  fuzz::RequireCanonicalId(r.from_memory_id);
  fuzz::RequireCanonicalId(r.to_memory_id);
  FUZZ_REQUIRE(r.from_memory_id != r.to_memory_id);
  FUZZ_REQUIRE(IsRelationshipType(r.type));
  fuzz::RequireFraction(r.strength);
  fuzz::RequireFraction(r.confidence);
  if (r.context) fuzz::RequireText(*r.context, 1, limits::kRelContextMax, true, true);
  FUZZ_REQUIRE(r.evidence_count >= 0 && r.evidence_count <= 1000000000);

  auto again = ParseRelationshipCreate(fuzz::ThroughText(CreateBody(r)));
  FUZZ_REQUIRE(again.ok());
  FUZZ_REQUIRE(again->ToJson() == r.ToJson());
  return 0;
}
