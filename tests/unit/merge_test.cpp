// The three-way merge of memory updates: every field kind, tags, context
// keys, timestamps and ties, and that the result does not depend on anything
// but its inputs.
#include "mgteam/merge.h"

#include <doctest/doctest.h>

using namespace mgteam;

namespace {

const std::string kAlice = "01a2124c-a21f-739e-9579-00000000000a";
const std::string kBob = "01a2124c-a21f-739e-9579-00000000000b";

Memory Base() {
  Memory m;
  m.id = "01a2124c-a21f-739f-92bb-b20569d88acf";
  m.title = "Redis timeout";
  m.content = "Connect times out under load.";
  m.summary = "timeouts";
  m.tags = {"cache", "redis"};
  m.importance = 0.5;
  m.confidence = 0.8;
  m.context = {{"project_path", "/srv/api"}, {"language", "go"}};
  m.version = 3;
  m.updated_by = kAlice;
  m.updated_at = "2026-11-25T10:00:00.000Z";
  return m;
}

EditStamp At(const std::string& user, const std::string& hhmm) {
  return EditStamp{user, "2026-11-25T" + hhmm + ":00.000Z", ""};
}

std::map<std::string, EditStamp> TheirsAt(const std::string& user, const std::string& hhmm,
                                          std::initializer_list<std::string> fields) {
  std::map<std::string, EditStamp> out;
  for (const auto& f : fields) out[f] = At(user, hhmm);
  return out;
}

}  // namespace

TEST_CASE("edits to different fields both apply, without conflicts") {
  Memory base = Base(), current = Base();
  current.content = "Bob's better explanation.";
  current.version = 4;
  MemoryPatch mine;
  mine.title = "Redis connect timeout";
  auto r = MergeMemory(base, current, mine, At(kAlice, "10:05"), TheirsAt(kBob, "10:02", {"content"}));
  CHECK(r.conflicts.empty());
  CHECK(r.merged.title == "Redis connect timeout");
  CHECK(r.merged.content == "Bob's better explanation.");
  CHECK(r.mine == std::vector<std::string>{"title"});
  CHECK(r.theirs == std::vector<std::string>{"content"});
}

TEST_CASE("the same field changed on both sides: the later edit wins and the other value is returned") {
  Memory base = Base(), current = Base();
  current.title = "Bob's title";
  MemoryPatch mine;
  mine.title = "Alice's title";
  SUBCASE("mine is later") {
    auto r = MergeMemory(base, current, mine, At(kAlice, "10:05"), TheirsAt(kBob, "10:02", {"title"}));
    REQUIRE(r.conflicts.size() == 1);
    CHECK(r.merged.title == "Alice's title");
    CHECK(r.conflicts[0].field == "title");
    CHECK(r.conflicts[0].mine_kept);
    CHECK(r.conflicts[0].kept == "Alice's title");
    CHECK(r.conflicts[0].lost == "Bob's title");
    CHECK(r.conflicts[0].lost_by.user_id == kBob);
    CHECK(r.mine == std::vector<std::string>{"title"});
  }
  SUBCASE("theirs is later: an offline edit made earlier loses") {
    auto r = MergeMemory(base, current, mine, At(kAlice, "09:30"), TheirsAt(kBob, "10:02", {"title"}));
    REQUIRE(r.conflicts.size() == 1);
    CHECK(r.merged.title == "Bob's title");
    CHECK_FALSE(r.conflicts[0].mine_kept);
    CHECK(r.conflicts[0].lost == "Alice's title");
    CHECK(r.conflicts[0].lost_by.user_id == kAlice);
    CHECK(r.conflicts[0].kept_by.user_id == kBob);
    CHECK(r.mine.empty());
    CHECK(r.theirs == std::vector<std::string>{"title"});
  }
  SUBCASE("a tie goes to the larger user id, whichever side is incoming") {
    auto r1 = MergeMemory(base, current, mine, At(kAlice, "10:00"), TheirsAt(kBob, "10:00", {"title"}));
    CHECK(r1.merged.title == "Bob's title");  // kBob > kAlice
    Memory cur2 = Base();
    cur2.title = "Alice's title";
    MemoryPatch bobs;
    bobs.title = "Bob's title";
    auto r2 = MergeMemory(base, cur2, bobs, At(kBob, "10:00"), TheirsAt(kAlice, "10:00", {"title"}));
    CHECK(r2.merged.title == "Bob's title");
  }
}

TEST_CASE("every scalar field kind conflicts the same way") {
  for (const std::string field : {"type", "content", "summary", "importance", "confidence"}) {
    CAPTURE(field);
    Memory base = Base(), current = Base();
    MemoryPatch mine;
    if (field == "type") { current.type = "problem"; mine.type = "solution"; }
    if (field == "content") { current.content = "theirs"; mine.content = "mine"; }
    if (field == "summary") { current.summary = std::nullopt; mine.summary = std::optional<std::string>("mine"); }
    if (field == "importance") { current.importance = 0.9; mine.importance = 0.1; }
    if (field == "confidence") { current.confidence = 0.2; mine.confidence = 0.3; }
    auto r = MergeMemory(base, current, mine, At(kAlice, "10:05"), TheirsAt(kBob, "10:01", {field}));
    REQUIRE(r.conflicts.size() == 1);
    CHECK(r.conflicts[0].field == field);
    CHECK(FieldValue(r.merged, field) == r.conflicts[0].kept);
    CHECK(r.conflicts[0].lost == FieldValue(current, field));
  }
}

TEST_CASE("the same change on both sides is no conflict, and a patch repeating the base changes nothing") {
  Memory base = Base(), current = Base();
  current.title = "Same";
  MemoryPatch mine;
  mine.title = "Same";
  mine.content = base.content;  // sent, but not a change
  auto r = MergeMemory(base, current, mine, At(kAlice, "10:05"), TheirsAt(kBob, "10:02", {"title"}));
  CHECK(r.conflicts.empty());
  CHECK(r.merged.title == "Same");
  CHECK(r.merged.content == base.content);
  Memory cur2 = Base();
  cur2.content = "theirs";
  auto r2 = MergeMemory(base, cur2, mine, At(kAlice, "10:05"), TheirsAt(kBob, "10:02", {"content"}));
  CHECK(r2.conflicts.empty());
  CHECK(r2.merged.content == "theirs");  // mine did not change content
}

TEST_CASE("tags merge as a set: both sides' additions and removals apply") {
  Memory base = Base(), current = Base();  // base {cache, redis}
  current.tags = {"prod", "redis"};        // they removed cache, added prod
  MemoryPatch mine;
  mine.tags = std::vector<std::string>{"cache", "timeout"};  // I removed redis, added timeout
  auto r = MergeMemory(base, current, mine, At(kAlice, "10:05"), TheirsAt(kBob, "10:06", {"tags"}));
  CHECK(r.conflicts.empty());
  CHECK(r.merged.tags == std::vector<std::string>{"prod", "timeout"});
  CHECK(r.mine == std::vector<std::string>{"tags"});
}

TEST_CASE("context merges per key, and the same key on both sides conflicts as context.<key>") {
  Memory base = Base(), current = Base();
  current.context["language"] = "rust";        // they changed language
  current.context["branch"] = "main";          // and added branch
  MemoryPatch mine;
  json ctx = base.context;
  ctx["language"] = "zig";                     // I changed language too
  ctx.erase("project_path");                   // and removed project_path
  ctx["files_involved"] = json::array({"a.go"});
  mine.context = ctx;
  auto r = MergeMemory(base, current, mine, At(kAlice, "10:05"), TheirsAt(kBob, "10:01", {"context"}));
  REQUIRE(r.conflicts.size() == 1);
  CHECK(r.conflicts[0].field == "context.language");
  CHECK(r.conflicts[0].kept == "zig");
  CHECK(r.conflicts[0].lost == "rust");
  CHECK(r.merged.context == json{{"language", "zig"}, {"branch", "main"}, {"files_involved", {"a.go"}}});
  // A removal that loses keeps the key; the conflict says the loser was "absent".
  Memory cur2 = Base();
  cur2.context["project_path"] = "/srv/new";
  MemoryPatch drop;
  json ctx2 = base.context;
  ctx2.erase("project_path");
  drop.context = ctx2;
  auto r2 = MergeMemory(base, cur2, drop, At(kAlice, "09:00"), TheirsAt(kBob, "10:00", {"context"}));
  REQUIRE(r2.conflicts.size() == 1);
  CHECK(r2.conflicts[0].lost.is_null());
  CHECK(r2.merged.context["project_path"] == "/srv/new");
}

TEST_CASE("a base equal to the current state applies the patch as it is") {
  Memory base = Base();
  MemoryPatch mine;
  mine.title = "New";
  mine.tags = std::vector<std::string>{"x"};
  auto r = MergeMemory(base, base, mine, At(kAlice, "10:05"), {});
  Memory expected = base;
  ApplyPatch(expected, mine);
  CHECK(r.conflicts.empty());
  CHECK(r.merged.ToJson() == expected.ToJson());
  CHECK(r.theirs.empty());
}

TEST_CASE("the merge is deterministic: same inputs, same result, whatever the map order") {
  Memory base = Base(), current = Base();
  current.title = "t";
  current.content = "c";
  current.context["k"] = 1;
  MemoryPatch mine;
  mine.title = "T";
  mine.content = "C";
  json ctx = base.context;
  ctx["k"] = 2;
  mine.context = ctx;
  auto theirs = TheirsAt(kBob, "10:02", {"title", "content", "context"});
  auto a = MergeMemory(base, current, mine, At(kAlice, "10:02"), theirs);
  auto b = MergeMemory(base, current, mine, At(kAlice, "10:02"), theirs);
  CHECK(a.merged.ToJson() == b.merged.ToJson());
  REQUIRE(a.conflicts.size() == 3);
  for (size_t i = 0; i < a.conflicts.size(); ++i) {
    CHECK(a.conflicts[i].field == b.conflicts[i].field);
    CHECK(a.conflicts[i].kept == b.conflicts[i].kept);
    CHECK_FALSE(a.conflicts[i].mine_kept);  // tie at 10:02, kBob > kAlice
  }
  CHECK(Wins(At(kAlice, "10:03"), At(kBob, "10:02")));
  CHECK_FALSE(Wins(At(kAlice, "10:02"), At(kBob, "10:02")));
  CHECK(Wins(At(kBob, "10:02"), At(kAlice, "10:02")));
}
