#include "mgteam/model.h"

#include <doctest/doctest.h>

using namespace mgteam;
using nlohmann::json;

TEST_CASE("a memory survives a JSON round trip unchanged") {
  Memory m;
  m.id = "01a2124c-a21f-739e-9579-1fe8468105b5";
  m.workspace_id = "01a2124c-a21f-739f-92bb-b20569d88acf";
  m.type = "problem";
  m.title = "Flaky test: café ☕ names";
  m.content = "Non-ASCII \"quoted\"\nlines";
  m.summary = "UTF-8";
  m.tags = {"csv", "unicode"};
  m.importance = 0.25;
  m.confidence = 0.7;
  m.context = {{"project_path", "/home/dev"}, {"additional_metadata", {{"ticket", "SHOP-1432"}}}};
  m.created_by = m.updated_by = "u1";
  m.created_at = m.updated_at = "2026-11-19T15:20:00.000Z";
  m.version = 3;
  m.deleted = true;
  json j = m.ToJson();
  auto back = Memory::FromJson(json::parse(j.dump()));
  REQUIRE(back);
  CHECK(back->ToJson() == j);
  CHECK(j["summary"] == "UTF-8");
  m.summary.reset();
  CHECK(m.ToJson()["summary"].is_null());
  CHECK_FALSE(Memory::FromJson(json::array()));
  CHECK_FALSE(Memory::FromJson({{"id", "x"}}));
}

TEST_CASE("a relationship survives a JSON round trip unchanged") {
  Relationship r;
  r.id = "9c1e2a3b-0000-4000-8000-000000000001";
  r.workspace_id = "w";
  r.from_memory_id = "a";
  r.to_memory_id = "b";
  r.type = "SOLVES";
  r.strength = 0.9;
  r.context = "fixed in prod";
  r.evidence_count = 3;
  r.version = 1;
  json j = r.ToJson();
  auto back = Relationship::FromJson(json::parse(j.dump()));
  REQUIRE(back);
  CHECK(back->ToJson() == j);
}

TEST_CASE("an event's wire form carries its entity under its type and round-trips") {
  Event e;
  e.workspace_id = "w";
  e.seq = 42;
  e.type = "memory_updated";
  e.actor = "u1";
  e.actor_name = "Alice";
  e.at = "2026-11-25T10:00:00.000Z";
  e.entity_type = "memory";
  e.entity_id = "m1";
  e.entity = {{"id", "m1"}, {"title", "t"}};
  e.extra = {{"changed", {"title"}}};
  json j = e.ToJson();
  CHECK(j["seq"] == 42);
  CHECK(j["memory"]["title"] == "t");
  CHECK(j["changed"] == json{"title"});
  CHECK_FALSE(j.contains("event"));
  auto back = Event::FromJson(j);
  REQUIRE(back);
  CHECK(back->entity_type == "memory");
  CHECK(back->entity_id == "m1");
  CHECK(back->ToJson() == j);

  Event member = e;
  member.type = "member_joined";
  member.entity_type = "member";
  member.entity = {{"user_id", "u2"}, {"role", "viewer"}};
  member.extra = json::object();
  auto m2 = Event::FromJson(member.ToJson());
  REQUIRE(m2);
  CHECK(m2->entity_id == "u2");
}
