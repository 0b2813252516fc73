// A batch of change-log events as a replica reads it (the /events page, a
// stream frame, a snapshot page): Event::FromJson and the entity readers over
// arbitrary JSON. The API has no batch write; this is the batch the agent
// takes in. Whatever arrives must not throw, and what is read must survive
// ToJson -> text -> FromJson unchanged, as it does when the replica stores it.
#include "validate_properties.h"

namespace {

using namespace mgteam;

template <class Entity>
void CheckEntity(const json& j) {
  auto e = Entity::FromJson(j);
  if (!e) return;
  auto again = Entity::FromJson(fuzz::ThroughText(e->ToJson()));
  FUZZ_REQUIRE(again.has_value());
  FUZZ_REQUIRE(again->ToJson() == e->ToJson());
}

void CheckEvent(const json& j) {
  auto event = Event::FromJson(j);
  if (!event) return;
  FUZZ_REQUIRE(j.is_object());
  const json wire = event->ToJson();
  auto again = Event::FromJson(fuzz::ThroughText(wire));
  FUZZ_REQUIRE(again.has_value());
  FUZZ_REQUIRE(again->ToJson() == wire);
  FUZZ_REQUIRE(again->entity_type == event->entity_type && again->entity_id == event->entity_id);
  if (event->entity_type == "memory") CheckEntity<Memory>(event->entity);
  if (event->entity_type == "relationship") CheckEntity<Relationship>(event->entity);
  if (event->entity_type == "conflict") CheckEntity<Conflict>(event->entity);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto doc = fuzz::ParseDocument(data, size);
  if (!doc) return 0;
  const json* items = &*doc;
  for (const char* key : {"events", "items"})
    if (doc->is_object() && doc->contains(key)) items = &doc->at(key);
  if (!items->is_array()) {
    CheckEvent(*items);
    return 0;
  }
  for (const auto& item : *items) {
    CheckEvent(item);
    CheckEntity<Memory>(item);
    CheckEntity<Relationship>(item);
    CheckEntity<Conflict>(item);
  }
  return 0;
}
