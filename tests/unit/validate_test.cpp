#include "mgteam/validate.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace mgteam;
using nlohmann::json;

namespace {
std::string ReasonOf(const json& body) { return ParseMemoryCreate(body).status().reason(); }
std::string FieldOf(const json& body) {
  return ParseMemoryCreate(body).status().details().value("field", "");
}
}  // namespace

TEST_CASE("a minimal memory gets the documented defaults") {
  auto m = ParseMemoryCreate({{"title", "  Fixed Redis timeout  "}});
  REQUIRE(m.ok());
  CHECK(m->title == "Fixed Redis timeout");
  CHECK(m->type == "general");
  CHECK(m->importance == 0.5);
  CHECK(m->confidence == 0.8);
  CHECK(m->tags.empty());
  CHECK(m->context == json::object());
  CHECK(m->id.empty());
  CHECK_FALSE(m->summary);
}

TEST_CASE("every MemoryGraph memory type is accepted and nothing else") {
  CHECK(MemoryTypes().size() == 13);
  for (auto t : MemoryTypes()) CHECK(ParseMemoryCreate({{"title", "x"}, {"type", t}}).ok());
  CHECK(ReasonOf({{"title", "x"}, {"type", "Solution"}}) == "invalid_enum");
  CHECK(ReasonOf({{"title", "x"}, {"type", 3}}) == "invalid_enum");
}

TEST_CASE("title, summary and content limits count characters, not bytes") {
  CHECK(ParseMemoryCreate({{"title", std::string(200, 'a')}}).ok());
  std::string kanji;
  for (int i = 0; i < 200; ++i) kanji += "東";
  CHECK(ParseMemoryCreate({{"title", kanji}}).ok());  // 600 bytes, 200 characters
  CHECK(ReasonOf({{"title", std::string(201, 'a')}}) == "too_long");
  CHECK(ReasonOf({{"title", "   "}}) == "too_short");
  CHECK(ReasonOf(json::object()) == "missing_field");
  CHECK(ReasonOf({{"title", "a\nb"}}) == "invalid_characters");
  CHECK(ParseMemoryCreate({{"title", "x"}, {"summary", std::string(500, 's')}}).ok());
  CHECK(FieldOf({{"title", "x"}, {"summary", std::string(501, 's')}}) == "summary");
  CHECK(ParseMemoryCreate({{"title", "x"}, {"content", "line 1\nline 2\ttab"}}).ok());
  CHECK(FieldOf({{"title", "x"}, {"content", std::string(100001, 'c')}}) == "content");
}

TEST_CASE("tags are lowercased, trimmed, de-duplicated and bounded") {
  auto m = ParseMemoryCreate({{"title", "x"}, {"tags", {"Redis", " redis ", "TimeOut", "", "café"}}});
  REQUIRE(m.ok());
  CHECK(m->tags == std::vector<std::string>{"café", "redis", "timeout"});
  json many = json::array();
  for (int i = 0; i < 51; ++i) many.push_back(fmt::format("t{}", i));
  CHECK(ReasonOf({{"title", "x"}, {"tags", many}}) == "too_many_tags");
  CHECK(ReasonOf({{"title", "x"}, {"tags", {std::string(65, 't')}}}) == "invalid_tag");
  CHECK(ReasonOf({{"title", "x"}, {"tags", "redis"}}) == "wrong_type");
  CHECK(ReasonOf({{"title", "x"}, {"tags", {1, 2}}}) == "wrong_type");
}

TEST_CASE("importance and confidence must be numbers in 0..1") {
  CHECK(ParseMemoryCreate({{"title", "x"}, {"importance", 0}, {"confidence", 1}}).ok());
  CHECK(ReasonOf({{"title", "x"}, {"importance", 1.01}}) == "out_of_range");
  CHECK(ReasonOf({{"title", "x"}, {"confidence", -0.1}}) == "out_of_range");
  CHECK(ReasonOf({{"title", "x"}, {"importance", "high"}}) == "wrong_type");
}

TEST_CASE("context must be a bounded object whose well-known keys have the right types") {
  json ctx = {{"project_path", "/src/app"}, {"files_involved", {"a.py"}}, {"git_branch", "main"},
              {"anything_else", {{"nested", true}}}};
  CHECK(ParseMemoryCreate({{"title", "x"}, {"context", ctx}}).ok());
  CHECK(ReasonOf({{"title", "x"}, {"context", "text"}}) == "invalid_context");
  CHECK(ReasonOf({{"title", "x"}, {"context", {{"files_involved", "a.py"}}}}) == "invalid_context");
  CHECK(ReasonOf({{"title", "x"}, {"context", {{"project_path", 3}}}}) == "invalid_context");
  json deep = json::object();
  json* p = &deep;
  for (int i = 0; i < 9; ++i) p = &((*p)["d"] = json::object());
  CHECK(ReasonOf({{"title", "x"}, {"context", deep}}) == "invalid_context");
  CHECK(ReasonOf({{"title", "x"}, {"context", {{"blob", std::string(17 * 1024, 'x')}}}}) ==
        "invalid_context");
}

TEST_CASE("a context nested 200,000 levels deep is refused without exhausting the stack") {
  const int levels = 200000;
  std::string text = R"({"title":"x","context":{"a":)" + std::string(levels, '[') + std::string(levels, ']') + "}}";
  json body = json::parse(text);
  CHECK(ReasonOf(body) == "invalid_context");
  CHECK(NestedDeeperThan(json::parse("[[1]]"), 1));
  CHECK_FALSE(NestedDeeperThan(json::parse("[[1]]"), 2));
  CHECK_FALSE(NestedDeeperThan(json(5), 0));
}

TEST_CASE("ids must be UUIDs, unknown fields are refused, bodies must be objects") {
  auto m = ParseMemoryCreate({{"title", "x"}, {"id", "5B0F6D0E-3A51-4D6E-9A0C-1F3E2B7C9D01"}});
  REQUIRE(m.ok());
  CHECK(m->id == "5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9d01");
  CHECK(ReasonOf({{"title", "x"}, {"id", "42"}}) == "invalid_id");
  CHECK(ReasonOf({{"title", "x"}, {"titel", "typo"}}) == "unknown_field");
  CHECK(FieldOf({{"title", "x"}, {"titel", "typo"}}) == "titel");
  CHECK(ReasonOf(json::array()) == "wrong_type");
}

TEST_CASE("a patch changes only the fields it names and null clears optional ones") {
  auto p = ParseMemoryPatch({{"base_version", 3}, {"summary", nullptr}, {"tags", {"B", "a"}}});
  REQUIRE(p.ok());
  CHECK(*p->base_version == 3);
  Memory m;
  m.title = "keep";
  m.summary = "drop";
  m.tags = {"old"};
  ApplyPatch(m, *p);
  CHECK(m.title == "keep");
  CHECK_FALSE(m.summary);
  CHECK(m.tags == std::vector<std::string>{"a", "b"});
  CHECK(ParseMemoryPatch({{"base_version", 3}}).status().reason() == "empty_update");
  CHECK(ParseMemoryPatch({{"title", nullptr}}).status().reason() == "missing_field");
  CHECK(ParseMemoryPatch({{"base_version", 0}, {"title", "x"}}).status().reason() == "out_of_range");
  CHECK(ParseMemoryPatch({{"base_version", "1"}, {"title", "x"}}).status().reason() == "wrong_type");
  CHECK(ParseMemoryPatch({{"edited_at", "noon"}, {"title", "x"}}).status().reason() ==
        "invalid_timestamp");
}

TEST_CASE("relationships: all 35 types, endpoints required, no self-links") {
  CHECK(RelationshipTypes().size() == 35);
  const std::string a = "5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9d01", b = "5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9d02";
  for (auto t : RelationshipTypes())
    CHECK(ParseRelationshipCreate({{"from_memory_id", a}, {"to_memory_id", b}, {"type", t}}).ok());
  auto r = ParseRelationshipCreate({{"from_memory_id", a}, {"to_memory_id", b}, {"type", "SOLVES"}});
  CHECK(r->strength == 0.5);
  CHECK(r->confidence == 0.8);
  CHECK(ParseRelationshipCreate({{"from_memory_id", a}, {"to_memory_id", b}, {"type", "solves"}})
            .status().reason() == "invalid_enum");
  CHECK(ParseRelationshipCreate({{"from_memory_id", a}, {"type", "SOLVES"}}).status().reason() ==
        "missing_field");
  CHECK(ParseRelationshipCreate({{"from_memory_id", a}, {"to_memory_id", a}, {"type", "SOLVES"}})
            .status().reason() == "self_relationship");
  CHECK(ParseRelationshipPatch({{"strength", 2}}).status().reason() == "out_of_range");
  CHECK(ParseRelationshipPatch({{"base_version", 1}}).status().reason() == "empty_update");
}

TEST_CASE("emails are normalised and checked") {
  CHECK(NormalizeEmail("  Alice@Example.COM ") == "alice@example.com");
  for (const char* bad : {"", "alice", "@example.com", "alice@", "a@b@c.com", "a b@c.com", "alice@example"})
    CHECK_MESSAGE(!NormalizeEmail(bad), bad);
}
