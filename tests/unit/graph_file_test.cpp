// Graph files without a server (cli/graph_file.h): format detection, id
// mapping, dangling and duplicate entries, time normalisation.
#include "graph_file.h"

#include "mgteam/ids.h"

#include <doctest/doctest.h>

using namespace mgteam;
using namespace mgteam::cli;

TEST_CASE("MappedId is a stable UUID per original id") {
  std::string a = MappedId("note-42");
  CHECK(NormalizeUuid(a) == a);
  CHECK(a[14] == '5');
  CHECK(MappedId("note-42") == a);
  CHECK(MappedId("note-43") != a);
}

TEST_CASE("PlanImport reads both formats and refuses what is neither") {
  CHECK_FALSE(PlanImport(json::array()).ok());
  CHECK_FALSE(PlanImport({{"memories", json::array()}, {"format_version", "1.0"}}).ok());
  json mg = {{"format_version", "2.0"},
             {"memories", {{{"id", "a"}, {"type", "fix"}, {"title", "A"}, {"created_at", "2026-01-02T03:04:05+02:00"}},
                           {{"id", "b"}, {"type", "fix"}, {"title", "B"}, {"deleted", true}}}},
             {"relationships", {{{"from_memory_id", "a"}, {"to_memory_id", "b"}, {"type", "SOLVES"}},
                                {{"from_memory_id", "a"}, {"to_memory_id", "a"}, {"type", "SOLVES"}}}}};
  auto plan = PlanImport(mg);
  REQUIRE(plan.ok());
  CHECK(plan->format == "memorygraph");
  REQUIRE(plan->memories.size() == 1);
  CHECK(plan->memories[0]["id"] == MappedId("a"));
  CHECK(plan->memories[0]["created_at"] == "2026-01-02T01:04:05.000Z");
  CHECK(plan->memories[0]["context"]["original_id"] == "a");
  CHECK(plan->relationships.empty());
  REQUIRE(plan->skipped.size() == 3);  // b deleted; a->b dangling (b skipped); a->a is a self-relationship
  CHECK(plan->skipped[0].reason.find("deleted") != std::string::npos);
  CHECK(plan->skipped[1].reason.find("dangling") != std::string::npos);
  CHECK(plan->skipped[2].reason.find("itself") != std::string::npos);

  // "deleted" that is not a boolean is not a tombstone (and does not throw).
  json odd = {{"format_version", "2.0"}, {"memories", {{{"id", "x"}, {"title", "X"}, {"deleted", nullptr}},
                                                      {{"id", "y"}, {"title", "Y"}, {"deleted", 0}}}}};
  CHECK(PlanImport(odd)->memories.size() == 2);
  json own = {{"format", "mgteam"}, {"format_version", 1}, {"memories", json::array()}};
  CHECK(PlanImport(own)->format == "mgteam");
}
