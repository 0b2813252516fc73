// The replica's graph queries on a real SQLite file: traversal (depth, both
// directions, cycles, type filters, deleted memories, paths, paging),
// filtered search with stemming, statistics and recent activity.
#include "replica_fixture.h"

#include <doctest/doctest.h>

#include <set>

using namespace mgteam;
using namespace mgteam::agent;
using namespace mgteam::test;

namespace {

std::string Id(char c) { return std::string("01a2124c-a21f-739f-0000-00000000000") + c; }

Relationship Link(const std::string& id, char from, char to, const std::string& type) {
  Relationship r;
  r.id = "01a2124c-a21f-739f-1111-0000000000" + id;
  r.workspace_id = kWs;
  r.from_memory_id = Id(from);
  r.to_memory_id = Id(to);
  r.type = type;
  r.version = 1;
  r.created_by = r.updated_by = kTeammate;
  r.created_at = r.updated_at = "2026-11-25T10:00:00.000Z";
  return r;
}

// a <-SOLVES- b -BUILDS_ON-> c -RELATED_TO-> a (a cycle), c -CAUSES-> d
// -CAUSES-> e -CAUSES-> f -CAUSES-> g (five hops from a, through c).
void LoadGraph(Fixture& f) {
  std::vector<Memory> ms;
  for (char c : std::string("abcdefg")) {
    Memory m = ServerMemory(Id(c), 1, std::string("memory ") + c);
    m.type = c == 'a' ? "problem" : c == 'b' ? "solution" : "general";
    ms.push_back(m);
  }
  std::vector<Relationship> rs = {Link("01", 'b', 'a', "SOLVES"),  Link("02", 'b', 'c', "BUILDS_ON"),
                                  Link("03", 'c', 'a', "RELATED_TO"), Link("04", 'c', 'd', "CAUSES"),
                                  Link("05", 'd', 'e', "CAUSES"),  Link("06", 'e', 'f', "CAUSES"),
                                  Link("07", 'f', 'g', "CAUSES")};
  REQUIRE(f.r->BeginSnapshot(kWs).ok());
  REQUIRE(f.r->LoadSnapshot(kWs, ms, rs).ok());
  REQUIRE(f.r->FinishSnapshot(kWs, 20, "epoch-1").ok());
}

std::vector<std::string> Titles(const RelatedResult& r) {
  std::vector<std::string> out;
  for (const auto& m : r.items) out.push_back(m.memory.memory.title);
  return out;
}

}  // namespace

TEST_CASE("Related walks both directions, nearest first, each memory once with its shortest path") {
  Fixture f;
  LoadGraph(f);
  auto one = f.r->Related(kWs, Id('a'), 1, {}, 50, 0);
  REQUIRE(one.ok());
  CHECK(one->total == 2);
  auto titles = Titles(*one);
  CHECK(std::set<std::string>(titles.begin(), titles.end()) == std::set<std::string>{"memory b", "memory c"});

  // The cycle a-b-c-a is walked once; four hops reach f, not g.
  auto five = f.r->Related(kWs, Id('a'), 4, {}, 50, 0);
  REQUIRE(five.ok());
  CHECK(five->total == 5);
  CHECK(Titles(*five).back() == "memory f");
  const RelatedMemory& far = five->items.back();
  CHECK(far.depth == 4);  // a <- c -> d -> e -> f
  REQUIRE(far.path.size() == 4);
  CHECK(far.path[0].type == "RELATED_TO");
  CHECK(far.path[0].from_memory_id == Id('c'));  // steps keep the relationship's own direction
  CHECK(far.path[0].to_memory_id == Id('a'));
  CHECK(far.path[3].to_memory_id == Id('f'));
  CHECK(far.ToJson()["direction"] == "outgoing");
  CHECK(f.r->Related(kWs, Id('a'), 5, {}, 50, 0)->total == 6);  // and five reach g

  // Only CAUSES: nothing leaves a that way.
  CHECK(f.r->Related(kWs, Id('a'), 5, {"CAUSES"}, 50, 0)->total == 0);
  CHECK(f.r->Related(kWs, Id('c'), 5, {"CAUSES"}, 50, 0)->total == 4);
  CHECK(f.r->Related(kWs, Id('a'), 2, {"SOLVES", "BUILDS_ON"}, 50, 0)->total == 2);

  // Paging keeps the order.
  auto page = f.r->Related(kWs, Id('a'), 4, {}, 2, 2);
  REQUIRE(page.ok());
  CHECK(page->total == 5);
  REQUIRE(page->items.size() == 2);
  CHECK(page->items[0].memory.memory.id == five->items[2].memory.memory.id);

  // A memory deleted here takes its relationships out of the walk.
  REQUIRE(f.r->DeleteMemory(kWs, Id('d')).ok());
  CHECK(f.r->Related(kWs, Id('a'), 5, {}, 50, 0)->total == 2);
  CHECK_FALSE(f.r->Related(kWs, Id('d'), 1, {}, 50, 0).ok());
  CHECK_FALSE(f.r->Related(kWs, Id('z'), 1, {}, 50, 0).ok());
}

TEST_CASE("Find filters by words, types, tags, project, importance and relationship types") {
  Fixture f;
  auto add = [&](const std::string& title, const std::string& type, std::vector<std::string> tags, double importance,
                 const std::string& project) {
    Memory m = Draft(title);
    m.type = type;
    m.tags = tags;
    m.importance = importance;
    if (!project.empty()) m.context = {{"project_path", project}};
    auto r = f.r->CreateMemory(kWs, m);
    REQUIRE(r.ok());
    return r->memory.id;
  };
  add("Redis connection timeouts", "problem", {"redis"}, 0.9, "/src/shop");
  add("Caching the product list", "solution", {"cache"}, 0.5, "/src/shop-admin");
  add("Fixed the flaky login test", "fix", {}, 0.3, "/src/shop/web");
  auto find = [&](MemoryQuery q) {
    q.workspace_id = kWs;
    auto r = f.r->Find(q);
    REQUIRE(r.ok());
    std::vector<std::string> titles;
    for (const auto& m : *r) titles.push_back(m.memory.title);
    return titles;
  };
  MemoryQuery q;
  q.words = {"timeout"};
  CHECK(find(q) == std::vector<std::string>{"Redis connection timeouts"});
  q.words = {"caches"};  // stemmed to "cach": finds "Caching"
  CHECK(find(q) == std::vector<std::string>{"Caching the product list"});
  q.words = {"fixes"};
  CHECK(find(q) == std::vector<std::string>{"Fixed the flaky login test"});
  q.word_match = WordMatch::kExact;
  CHECK(find(q).empty());
  q = {};
  q.words = {"redis", "login"};
  CHECK(find(q).empty());  // all words by default
  q.match_all = false;
  CHECK(find(q).size() == 2);
  q = {};
  q.types = {"fix", "solution"};
  CHECK(find(q).size() == 2);
  q = {};
  q.tags = {"cache", "nope"};
  CHECK(find(q) == std::vector<std::string>{"Caching the product list"});
  q = {};
  q.project_path = "/src/shop/";  // the directory and below, not /src/shop-admin
  CHECK(find(q).size() == 2);
  q = {};
  q.min_importance = 0.5;
  CHECK(find(q).size() == 2);
  q = {};
  q.limit = 1;
  q.offset = 1;
  CHECK(find(q) == std::vector<std::string>{"Caching the product list"});  // newest first
  q = {};
  q.words = {"\"AND", "NEAR(x"};  // FTS5 syntax is searched for, not run
  CHECK(find(q).empty());
}

TEST_CASE("Statistics and Recent count live memories and find problems nothing solves") {
  Fixture f;
  LoadGraph(f);
  auto stats = f.r->Statistics(kWs);
  REQUIRE(stats.ok());
  CHECK(stats->memories == 7);
  CHECK(stats->relationships == 7);
  CHECK(stats->relationships_by_type["CAUSES"] == 4);
  CHECK(stats->memories_by_type["problem"] == 1);
  CHECK(stats->average_importance == doctest::Approx(0.5));

  Memory open = Draft("Unsolved error");
  open.type = "error";
  REQUIRE(f.r->CreateMemory(kWs, open).ok());
  auto recent = f.r->Recent(kWs, "2026-11-01T00:00:00.000Z", "", 20);
  REQUIRE(recent.ok());
  CHECK(recent->total == 8);
  CHECK(recent->recent.front().memory.title == "Unsolved error");  // changed last
  REQUIRE(recent->unresolved_problems.size() == 1);  // memory a is SOLVED by b
  CHECK(recent->unresolved_problems[0].memory.title == "Unsolved error");
  stats = f.r->Statistics(kWs);
  CHECK(stats->pending == 1);

  // Deleting the solution reopens the problem.
  REQUIRE(f.r->DeleteMemory(kWs, Id('b')).ok());
  CHECK(f.r->Recent(kWs, "2026-11-01T00:00:00.000Z", "", 20)->unresolved_problems.size() == 2);
  CHECK(f.r->Statistics(kWs)->relationships == 5);
  CHECK(f.r->Recent(kWs, "2099-01-01T00:00:00.000Z", "", 20)->total == 0);
}

TEST_CASE("Stem cuts plural and tense endings but keeps three letters") {
  CHECK(Stem("timeouts") == "timeout");
  CHECK(Stem("policies") == "polic");
  CHECK(Stem("caching") == "cach");
  CHECK(Stem("fixed") == "fix");
  CHECK(Stem("fixes") == "fix");
  CHECK(Stem("process") == "process");
  CHECK(Stem("bus") == "bus");
  CHECK(Stem("redis") == "redi");
}
