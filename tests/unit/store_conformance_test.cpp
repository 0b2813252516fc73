// The Store contract (server/store/store.h), record by record: every case
// runs over SqliteStore and over PostgresStore (store_backends.h) and must
// give the same answers, in the same order, byte for byte.
#include "store_backends.h"

#include "mgteam/sql_rows.h"

#include <fmt/format.h>

using namespace mgteam;
using namespace mgteam::server;
using namespace mgteam::server::testing;

namespace {

template <class T>
T Got(Store& s, const std::function<Result<T>(Tx&)>& fn) {
  auto r = s.ReadValue<T>(fn);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return std::move(r).value();
}

void Must(Store& s, const std::function<Status(Tx&)>& fn) {
  Status st = s.Write(fn);
  REQUIRE_MESSAGE(st.ok(), st.ToString());
}

UserRecord NewUser(const std::string& email) {
  UserRecord u;
  u.user.id = NewUuidV7();
  u.user.email = email;
  u.user.name = "Name of " + email;
  u.user.created_at = "2026-11-25T10:00:00.000Z";
  u.email_norm = email;
  u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
  return u;
}

Workspace NewWorkspace(const std::string& owner, const std::string& slug, const std::string& kind = "team") {
  Workspace w;
  w.id = NewUuidV7();
  w.kind = kind;
  w.name = "Team " + slug;
  w.slug = slug;
  w.owner_id = owner;
  w.epoch = "0123456789abcdef";
  w.created_at = w.updated_at = "2026-11-25T10:00:00.000Z";
  return w;
}

// A user and a team, the ground most cases stand on.
struct Ground {
  UserRecord user;
  Workspace ws;
};

Ground Lay(Store& s) {
  Ground g{NewUser("alice@example.com"), {}};
  g.ws = NewWorkspace(g.user.user.id, "alpha");
  Must(s, [&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(tx.InsertUser(g.user));
    return tx.InsertWorkspace(g.ws);
  });
  return g;
}

Memory NewMemory(const Ground& g, const std::string& id, const std::string& created_at) {
  Memory m;
  m.id = id;
  m.workspace_id = g.ws.id;
  m.title = "title " + id;
  m.content = "content";
  m.created_by = m.updated_by = g.user.user.id;
  m.created_at = m.updated_at = created_at;
  m.version = 1;
  return m;
}

Relationship NewRelationship(const Ground& g, const std::string& id, const std::string& from, const std::string& to,
                             const std::string& created_at) {
  Relationship r;
  r.id = id;
  r.workspace_id = g.ws.id;
  r.from_memory_id = from;
  r.to_memory_id = to;
  r.type = "RELATED_TO";
  r.created_by = r.updated_by = g.user.user.id;
  r.created_at = r.updated_at = created_at;
  r.version = 1;
  return r;
}

std::vector<std::string> Ids(const std::vector<Memory>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.id);
  return out;
}

std::vector<std::string> Ids(const std::vector<Relationship>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) out.push_back(r.id);
  return out;
}

}  // namespace

STORE_CASE("users and tokens round-trip field by field") {
  auto store = backend.Open();
  UserRecord u = NewUser("zoë@example.com");
  u.user.name = "Zoë \"Z\" O'Brien \\ 🌍";
  Must(*store, [&](Tx& tx) { return tx.InsertUser(u); });
  CHECK(Got<int64_t>(*store, [](Tx& tx) { return tx.CountUsers(); }) == 1);
  auto by_email = Got<std::optional<UserRecord>>(*store, [&](Tx& tx) { return tx.FindUserByEmail(u.email_norm); });
  REQUIRE(by_email);
  CHECK(by_email->user.ToJson() == u.user.ToJson());
  CHECK(by_email->email_norm == u.email_norm);
  CHECK(by_email->password_hash == u.password_hash);
  auto by_id = Got<std::optional<User>>(*store, [&](Tx& tx) { return tx.FindUser(u.user.id); });
  REQUIRE(by_id);
  CHECK(by_id->name == u.user.name);
  CHECK_FALSE(Got<std::optional<User>>(*store, [&](Tx& tx) { return tx.FindUser("nobody"); }));

  TokenRecord plain{"tok-b", u.user.id, "ci", "hash-b", "mg_abcdef", "2026-11-25T10:00:01.000Z",
                    std::nullopt, std::nullopt, std::nullopt};
  TokenRecord full{"tok-a", u.user.id, "laptop", "hash-a", "mgs_abcde", "2026-11-25T10:00:01.000Z",
                   "2026-11-25T11:00:00.000Z", "2026-11-25T12:00:00.000Z", "2026-11-26T10:00:00.000Z"};
  Must(*store, [&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(tx.InsertToken(plain));
    return tx.InsertToken(full);
  });
  auto found = Got<std::optional<TokenRecord>>(*store, [&](Tx& tx) { return tx.FindTokenByHash("hash-a"); });
  REQUIRE(found);
  CHECK(found->ToJson() == full.ToJson());
  CHECK(found->user_id == full.user_id);
  CHECK(found->hash == full.hash);
  // Same created_at: ordered by id, as bytes.
  auto listed = Got<std::vector<TokenRecord>>(*store, [&](Tx& tx) { return tx.ListTokens(u.user.id); });
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].id == "tok-a");
  CHECK(listed[1].ToJson() == plain.ToJson());

  plain.name = "renamed";
  plain.revoked_at = "2026-11-25T13:00:00.000Z";
  Must(*store, [&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(tx.UpdateToken(plain));
    // A revoked token's use is not noted; a live one's is.
    MG_RETURN_IF_ERROR(tx.TouchToken(plain.id, "2026-11-25T14:00:00.000Z"));
    return Status::Ok();
  });
  auto after = Got<std::optional<TokenRecord>>(*store, [&](Tx& tx) { return tx.FindTokenByHash("hash-b"); });
  REQUIRE(after);
  CHECK(after->name == "renamed");
  CHECK(after->revoked_at == plain.revoked_at);
  CHECK_FALSE(after->last_used_at);

  // Only sessions (mgs_) that ended before the cut go.
  auto purged = store->WriteValue<int64_t>([](Tx& tx) { return tx.PurgeEndedSessions("2026-11-25T12:30:00.000Z"); });
  REQUIRE(purged.ok());
  CHECK(*purged == 1);
  CHECK(Got<std::vector<TokenRecord>>(*store, [&](Tx& tx) { return tx.ListTokens(u.user.id); }).size() == 1);
}

STORE_CASE("workspaces and members round-trip, lists in the same order, deletion cascades") {
  auto store = backend.Open();
  Ground g = Lay(*store);
  UserRecord bob = NewUser("bob@example.com");
  Workspace personal = NewWorkspace(g.user.user.id, "alice", "personal");
  personal.name = "zzz personal";
  Workspace b_team = NewWorkspace(g.user.user.id, "b-team");
  b_team.name = "B team";  // before "a team" in byte order: 'B' < 'a'
  Workspace a_team = NewWorkspace(g.user.user.id, "a-team");
  a_team.name = "a team";
  Must(*store, [&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(tx.InsertUser(bob));
    for (const Workspace* w : {&personal, &b_team, &a_team}) MG_RETURN_IF_ERROR(tx.InsertWorkspace(*w));
    for (const Workspace* w : {&g.ws, &personal, &b_team, &a_team})
      MG_RETURN_IF_ERROR(tx.PutMember(Member{w->id, g.user.user.id, "owner", "2026-11-25T10:00:00.000Z", "", ""}));
    MG_RETURN_IF_ERROR(tx.PutMember(Member{g.ws.id, bob.user.id, "viewer", "2026-11-25T10:00:00.000Z", "", ""}));
    return tx.PutMember(Member{g.ws.id, bob.user.id, "admin", "2026-11-26T10:00:00.000Z", "", ""});
  });
  auto found = Got<std::optional<Workspace>>(*store, [&](Tx& tx) { return tx.FindWorkspace(b_team.id); });
  REQUIRE(found);
  CHECK(found->ToJson() == b_team.ToJson());
  CHECK(found->epoch == b_team.epoch);
  CHECK(found->owner_id == b_team.owner_id);
  CHECK(Got<bool>(*store, [](Tx& tx) { return tx.SlugTaken("b-team"); }));
  CHECK_FALSE(Got<bool>(*store, [](Tx& tx) { return tx.SlugTaken("B-team"); }));

  // Personal first, then teams by name in byte order ("B team" < "Team
  // alpha" < "a team"), then id.
  auto mine = Got<std::vector<std::pair<Workspace, std::string>>>(
      *store, [&](Tx& tx) { return tx.ListWorkspacesOf(g.user.user.id); });
  REQUIRE(mine.size() == 4);
  CHECK(mine[0].first.id == personal.id);
  CHECK(mine[1].first.id == b_team.id);
  CHECK(mine[2].first.id == g.ws.id);
  CHECK(mine[3].first.id == a_team.id);
  CHECK(mine[3].second == "owner");

  // An upsert changes the role and keeps joined_at.
  auto member = Got<std::optional<Member>>(*store, [&](Tx& tx) { return tx.FindMember(g.ws.id, bob.user.id); });
  REQUIRE(member);
  CHECK(member->role == "admin");
  CHECK(member->joined_at == "2026-11-25T10:00:00.000Z");
  CHECK(member->name == bob.user.name);
  CHECK(member->email == bob.user.email);
  auto members = Got<std::vector<Member>>(*store, [&](Tx& tx) { return tx.ListMembers(g.ws.id); });
  REQUIRE(members.size() == 2);
  CHECK(members[0].user_id == std::min(g.user.user.id, bob.user.id));

  b_team.name = "Renamed";
  b_team.slug = "renamed";
  b_team.updated_at = "2026-11-27T10:00:00.000Z";
  Must(*store, [&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(tx.UpdateWorkspace(b_team));
    return tx.DeleteMember(g.ws.id, bob.user.id);
  });
  found = Got<std::optional<Workspace>>(*store, [&](Tx& tx) { return tx.FindWorkspace(b_team.id); });
  REQUIRE(found);
  CHECK(found->ToJson() == b_team.ToJson());
  CHECK(Got<std::vector<Member>>(*store, [&](Tx& tx) { return tx.ListMembers(g.ws.id); }).size() == 1);

  // Deleting a workspace takes everything in it, its log included.
  Must(*store, [&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(tx.InsertMemory(NewMemory(g, "m1", "2026-11-25T10:00:00.000Z")));
    Event e;
    e.workspace_id = g.ws.id;
    e.type = "memory_created";
    e.actor = g.user.user.id;
    e.entity_type = "memory";
    e.entity_id = "m1";
    e.at = "2026-11-25T10:00:00.000Z";
    return tx.AppendEvent(e);
  });
  Must(*store, [&](Tx& tx) { return tx.DeleteWorkspace(g.ws.id); });
  CHECK_FALSE(Got<std::optional<Workspace>>(*store, [&](Tx& tx) { return tx.FindWorkspace(g.ws.id); }));
  CHECK_FALSE(Got<std::optional<Memory>>(*store, [&](Tx& tx) { return tx.FindMemory(g.ws.id, "m1"); }));
  CHECK(Got<std::vector<Event>>(*store, [&](Tx& tx) { return tx.ListEvents(g.ws.id, 0, 100); }).empty());
}

STORE_CASE("memories round-trip exactly: text, JSON, doubles, flags, and the stale_write guard") {
  auto store = backend.Open();
  Ground g = Lay(*store);
  Memory m = NewMemory(g, "m-1", "2026-11-25T10:00:00.123Z");
  m.type = "solution";
  m.title = "Ünïcödé 🌍 \"quotes\" 'single' \\ backslash";
  m.content = std::string("line 1\nline 2\ttab ") + "\x7f" + " 日本語";
  m.summary = "";  // empty, not null
  m.tags = {"a-tag", "b", "zeta"};
  m.importance = 0.1 + 0.2;  // 0.30000000000000004
  m.confidence = 1e-300;
  m.context = {{"nested", {{"list", {1, 2.5, "three", nullptr, true}}}}, {"unicode", "é"}};
  Must(*store, [&](Tx& tx) { return tx.InsertMemory(m); });
  auto got = Got<std::optional<Memory>>(*store, [&](Tx& tx) { return tx.FindMemory(g.ws.id, m.id); });
  REQUIRE(got);
  CHECK(got->ToJson() == m.ToJson());
  CHECK(got->workspace_id == m.workspace_id);
  CHECK(got->importance == m.importance);  // bit for bit, not approximately
  CHECK(got->confidence == m.confidence);
  REQUIRE(got->summary);
  CHECK(got->summary->empty());

  Memory next = m;
  next.summary = std::nullopt;
  next.title = "second";
  next.version = 2;
  next.deleted = true;
  next.updated_at = "2026-11-25T11:00:00.000Z";
  Must(*store, [&](Tx& tx) { return tx.UpdateMemory(next); });
  got = Got<std::optional<Memory>>(*store, [&](Tx& tx) { return tx.FindMemory(g.ws.id, m.id); });
  REQUIRE(got);
  CHECK(got->ToJson() == next.ToJson());
  CHECK_FALSE(got->summary);
  CHECK(got->deleted);
  CHECK(got->created_at == m.created_at);  // not an updated column

  // Written over a version that is no longer there: refused, nothing changes.
  Memory stale = m;
  stale.version = 2;
  stale.title = "stale";
  Status s = store->Write([&](Tx& tx) { return tx.UpdateMemory(stale); });
  CHECK(s.reason() == "stale_write");
  got = Got<std::optional<Memory>>(*store, [&](Tx& tx) { return tx.FindMemory(g.ws.id, m.id); });
  CHECK(got->title == "second");
}

STORE_CASE("memory lists: type, every tag, tombstones, cursor pages in byte order") {
  auto store = backend.Open();
  Ground g = Lay(*store);
  // Ids that byte order and a natural-language collation sort differently
  // ("B" < "a" < "b" as bytes), several sharing one created_at.
  const std::string t1 = "2026-11-25T10:00:00.000Z", t2 = "2026-11-25T10:00:01.000Z";
  std::vector<Memory> ms = {NewMemory(g, "a", t1), NewMemory(g, "B", t1), NewMemory(g, "b", t1),
                            NewMemory(g, "c", t2), NewMemory(g, "_", t2)};
  ms[0].tags = {"x", "y"};
  ms[1].tags = {"x"};
  ms[2].tags = {"w", "x", "y", "z"};
  ms[3].type = "decision";
  ms[3].tags = {"y"};
  ms[4].deleted = true;
  ms[4].tags = {"x", "y"};
  Must(*store, [&](Tx& tx) -> Status {
    for (const auto& m : ms) MG_RETURN_IF_ERROR(tx.InsertMemory(m));
    return Status::Ok();
  });
  auto list = [&](MemoryQuery q) {
    q.workspace_id = g.ws.id;
    return Ids(Got<std::vector<Memory>>(*store, [&](Tx& tx) { return tx.ListMemories(q); }));
  };
  using V = std::vector<std::string>;
  CHECK(list({}) == V{"c", "b", "a", "B"});
  MemoryQuery q;
  q.include_deleted = true;
  CHECK(list(q) == V{"c", "_", "b", "a", "B"});
  q = {};
  q.type = "decision";
  CHECK(list(q) == V{"c"});
  q = {};
  q.tags = {"x", "y"};
  CHECK(list(q) == V{"b", "a"});
  q.tags = {"y"};
  CHECK(list(q) == V{"c", "b", "a"});
  q.tags = {"nope"};
  CHECK(list(q).empty());
  // Pages of two, each after the last one's (created_at, id).
  V paged;
  q = {};
  q.include_deleted = true;
  q.limit = 2;
  for (int page = 0; page < 5; ++page) {
    q.workspace_id = g.ws.id;
    auto got = Got<std::vector<Memory>>(*store, [&](Tx& tx) { return tx.ListMemories(q); });
    if (got.empty()) break;
    for (const auto& m : got) paged.push_back(m.id);
    q.after = PageCursor{got.back().created_at, got.back().id};
  }
  CHECK(paged == V{"c", "_", "b", "a", "B"});
  // Live ones by id, for snapshots.
  auto after = Got<std::vector<Memory>>(*store, [&](Tx& tx) { return tx.MemoriesAfter(g.ws.id, "B", 10); });
  CHECK(Ids(after) == V{"a", "b", "c"});
}

STORE_CASE("relationships: round-trip, lists by memory and type, live link lookup, cursor, stale_write") {
  auto store = backend.Open();
  Ground g = Lay(*store);
  const std::string t1 = "2026-11-25T10:00:00.000Z", t2 = "2026-11-25T10:00:02.000Z";
  Relationship r1 = NewRelationship(g, "r1", "m1", "m2", t1);
  r1.strength = 0.7000000000000001;
  r1.context = "why: \"because\"";
  r1.evidence_count = 3;
  Relationship r2 = NewRelationship(g, "R2", "m2", "m3", t1);
  r2.type = "SOLVES";
  r2.context = std::nullopt;
  Relationship r3 = NewRelationship(g, "r3", "m3", "m1", t2);
  r3.deleted = true;
  Must(*store, [&](Tx& tx) -> Status {
    for (const auto* r : {&r1, &r2, &r3}) MG_RETURN_IF_ERROR(tx.InsertRelationship(*r));
    return Status::Ok();
  });
  auto got = Got<std::optional<Relationship>>(*store, [&](Tx& tx) { return tx.FindRelationship(g.ws.id, "r1"); });
  REQUIRE(got);
  CHECK(got->ToJson() == r1.ToJson());
  CHECK(got->strength == r1.strength);
  auto live = Got<std::optional<Relationship>>(
      *store, [&](Tx& tx) { return tx.FindLiveRelationship(g.ws.id, "m2", "m3", "SOLVES"); });
  REQUIRE(live);
  CHECK(live->id == "R2");
  CHECK_FALSE(Got<std::optional<Relationship>>(
      *store, [&](Tx& tx) { return tx.FindLiveRelationship(g.ws.id, "m3", "m1", "RELATED_TO"); }));

  auto list = [&](RelationshipQuery q) {
    q.workspace_id = g.ws.id;
    return Ids(Got<std::vector<Relationship>>(*store, [&](Tx& tx) { return tx.ListRelationships(q); }));
  };
  using V = std::vector<std::string>;
  CHECK(list({}) == V{"r1", "R2"});
  RelationshipQuery q;
  q.include_deleted = true;
  CHECK(list(q) == V{"r3", "r1", "R2"});
  q.memory_id = "m1";  // either end
  CHECK(list(q) == V{"r3", "r1"});
  q.memory_id.reset();
  q.type = "SOLVES";
  CHECK(list(q) == V{"R2"});
  q = {};
  q.include_deleted = true;
  q.after = PageCursor{t2, "r3"};
  q.limit = 1;
  CHECK(list(q) == V{"r1"});
  CHECK(Ids(Got<std::vector<Relationship>>(*store, [&](Tx& tx) { return tx.RelationshipsAfter(g.ws.id, "", 10); })) ==
        V{"R2", "r1"});

  Relationship next = r1;
  next.version = 2;
  next.context = std::nullopt;
  next.evidence_count = 4;
  Must(*store, [&](Tx& tx) { return tx.UpdateRelationship(next); });
  got = Got<std::optional<Relationship>>(*store, [&](Tx& tx) { return tx.FindRelationship(g.ws.id, "r1"); });
  CHECK(got->ToJson() == next.ToJson());
  Status s = store->Write([&](Tx& tx) { return tx.UpdateRelationship(next); });  // over version 1, which is gone
  CHECK(s.reason() == "stale_write");
}

STORE_CASE("conflict records: put replaces, lists by memory, open only, in both id orders") {
  auto store = backend.Open();
  Ground g = Lay(*store);
  auto conflict = [&](const std::string& id, const std::string& memory) {
    Conflict c;
    c.id = id;
    c.workspace_id = g.ws.id;
    c.memory_id = memory;
    c.kind = "field";
    c.field = "title";
    c.title = "T";
    c.kept = "kept";
    c.lost = json{{"title", "lost"}};
    c.kept_by = EditStamp{g.user.user.id, "2026-11-25T10:00:00.000Z", "Alice"};
    c.lost_by = EditStamp{"u2", "2026-11-25T09:00:00.000Z", "Bob"};
    c.seq = 7;
    c.memory_version = 3;
    c.created_at = "2026-11-25T10:00:00.000Z";
    return c;
  };
  Conflict c1 = conflict("c1", "m1"), c2 = conflict("c2", "m2"), c3 = conflict("c3", "m1");
  Must(*store, [&](Tx& tx) -> Status {
    for (const auto* c : {&c1, &c2, &c3}) MG_RETURN_IF_ERROR(tx.PutConflict(*c));
    return Status::Ok();
  });
  c2.status = "resolved";
  c2.resolution = "lost";
  c2.resolved_by = g.user.user.id;
  c2.resolved_at = "2026-11-25T11:00:00.000Z";
  Must(*store, [&](Tx& tx) { return tx.PutConflict(c2); });
  auto found = Got<std::optional<Conflict>>(*store, [&](Tx& tx) { return tx.FindConflict(g.ws.id, "c2"); });
  REQUIRE(found);
  CHECK(found->ToJson() == c2.ToJson());
  auto ids = [&](ConflictQuery q) {
    q.workspace_id = g.ws.id;
    std::vector<std::string> out;
    for (const auto& c : Got<std::vector<Conflict>>(*store, [&](Tx& tx) { return tx.ListConflicts(q); }))
      out.push_back(c.id);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(ids({}) == V{"c3", "c1"});
  ConflictQuery q;
  q.open_only = false;
  CHECK(ids(q) == V{"c3", "c2", "c1"});
  q.memory_id = "m1";
  CHECK(ids(q) == V{"c3", "c1"});
  q = {};
  q.open_only = false;
  q.oldest_first = true;
  q.after_id = "c1";
  CHECK(ids(q) == V{"c2", "c3"});
  q.oldest_first = false;
  q.after_id = "c3";
  q.limit = 1;
  CHECK(ids(q) == V{"c2"});
}

STORE_CASE("the log: dense seqs, reads after a seq, one entity's events, activity filters") {
  auto store = backend.Open();
  Ground g = Lay(*store);
  struct Spec {
    const char* type;
    const char* actor;
    const char* entity_type;
    const char* entity;
    const char* at;
  };
  const std::vector<Spec> specs = {
      {"memory_created", "u1", "memory", "m1", "2026-11-25T10:00:00.000Z"},
      {"memory_updated", "u2", "memory", "m1", "2026-11-25T10:01:00.000Z"},
      {"relationship_created", "u1", "relationship", "r1", "2026-11-25T10:02:00.000Z"},
      {"member_joined", "u2", "member", "u2", "2026-11-25T10:03:00.000Z"},
      {"memory_deleted", "u1", "memory", "m1", "2026-11-25T10:04:00.000Z"},
  };
  std::vector<int64_t> seqs;
  Must(*store, [&](Tx& tx) -> Status {
    seqs.clear();
    for (const auto& s : specs) {
      Event e;
      e.workspace_id = g.ws.id;
      e.type = s.type;
      e.actor = s.actor;
      e.actor_name = "Näme";
      e.entity_type = s.entity_type;
      e.entity_id = s.entity;
      e.entity = {{"id", s.entity}, {"value", 1.5}};
      e.at = s.at;
      e.extra = {{"changed", {"title"}}};
      MG_RETURN_IF_ERROR(tx.AppendEvent(e));
      seqs.push_back(e.seq);
    }
    return Status::Ok();
  });
  CHECK(seqs == std::vector<int64_t>{1, 2, 3, 4, 5});
  auto ws = Got<std::optional<Workspace>>(*store, [&](Tx& tx) { return tx.FindWorkspace(g.ws.id); });
  CHECK(ws->head_seq == 5);
  auto events = Got<std::vector<Event>>(*store, [&](Tx& tx) { return tx.ListEvents(g.ws.id, 2, 2); });
  REQUIRE(events.size() == 2);
  CHECK(events[0].seq == 3);
  CHECK(events[0].type == "relationship_created");
  CHECK(events[0].actor_name == "Näme");
  CHECK(events[0].entity == json{{"id", "r1"}, {"value", 1.5}});
  auto rows = Got<std::vector<EventRow>>(*store, [&](Tx& tx) { return tx.ListEventRows(g.ws.id, 3, 100); });
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].seq == 4);
  CHECK(rows[0].type == "member_joined");
  CHECK(rows[0].entity_id == "u2");
  auto last = Got<std::vector<Event>>(*store, [&](Tx& tx) { return tx.ListEvents(g.ws.id, 4, 1); });
  REQUIRE(last.size() == 1);
  CHECK(last[0].seq == 5);
  CHECK(rows[1].data == sql::DumpJson(last[0].ToJson()));  // the stored bytes, as appended
  auto entity = Got<std::vector<Event>>(*store, [&](Tx& tx) { return tx.EntityEvents(g.ws.id, "m1"); });
  REQUIRE(entity.size() == 3);
  CHECK(entity[2].seq == 5);

  auto activity = [&](ActivityQuery q) {
    q.workspace_id = g.ws.id;
    std::vector<int64_t> out;
    for (const auto& e : Got<std::vector<Event>>(*store, [&](Tx& tx) { return tx.ListActivity(q); }))
      out.push_back(e.seq);
    return out;
  };
  using V = std::vector<int64_t>;
  CHECK(activity({}) == V{5, 4, 3, 2, 1});
  ActivityQuery q;
  q.before_seq = 4;
  q.limit = 2;
  CHECK(activity(q) == V{3, 2});
  q = {};
  q.actor = "u2";
  CHECK(activity(q) == V{4, 2});
  q = {};
  q.type_suffix = "_created";
  CHECK(activity(q) == V{3, 1});
  q = {};
  q.entity_type = "memory";
  CHECK(activity(q) == V{5, 2, 1});
  q = {};
  q.since = "2026-11-25T10:01:00.000Z";  // inclusive both ends
  q.until = "2026-11-25T10:03:00.000Z";
  CHECK(activity(q) == V{4, 3, 2});
}

STORE_CASE("idempotency records keep their sealed bytes exactly, refuse a second insert, purge by age") {
  auto store = backend.Open();
  std::string sealed;
  for (int i = 0; i < 256; ++i) sealed.push_back(static_cast<char>(i));  // NUL and high bytes too
  IdempotencyRecord r{"key-1", "req-1", 201, sealed, "2026-11-25T10:00:00.000Z"};
  Must(*store, [&](Tx& tx) { return tx.InsertIdempotency(r); });
  auto got = Got<std::optional<IdempotencyRecord>>(*store, [](Tx& tx) { return tx.FindIdempotency("key-1"); });
  REQUIRE(got);
  CHECK(got->sealed_body == sealed);
  CHECK(got->status == 201);
  CHECK(got->request_hash == "req-1");
  CHECK(got->created_at == r.created_at);
  Status again = store->Write([&](Tx& tx) { return tx.InsertIdempotency(r); });
  CHECK(again.reason() == "idempotency_key_in_use");
  Must(*store, [&](Tx& tx) {
    return tx.InsertIdempotency(IdempotencyRecord{"key-2", "req-2", 200, "", "2026-11-26T10:00:00.000Z"});
  });
  auto purged = store->WriteValue<int64_t>([](Tx& tx) { return tx.PurgeIdempotency("2026-11-26T00:00:00.000Z"); });
  REQUIRE(purged.ok());
  CHECK(*purged == 1);
  CHECK_FALSE(Got<std::optional<IdempotencyRecord>>(*store, [](Tx& tx) { return tx.FindIdempotency("key-1"); }));
  auto empty = Got<std::optional<IdempotencyRecord>>(*store, [](Tx& tx) { return tx.FindIdempotency("key-2"); });
  REQUIRE(empty);
  CHECK(empty->sealed_body.empty());
}

STORE_CASE("invitations: round-trip, by token hash, pending ones in order") {
  auto store = backend.Open();
  Ground g = Lay(*store);
  auto invitation = [&](const std::string& id, const std::string& created, const std::string& expires) {
    return InvitationRecord{id,      g.ws.id,      "bob@example.com", "member",     g.user.user.id, "th-" + id,
                            created, expires,      std::nullopt,      std::nullopt, std::nullopt};
  };
  InvitationRecord i1 = invitation("i1", "2026-11-25T10:00:00.000Z", "2026-12-01T00:00:00.000Z");
  InvitationRecord i2 = invitation("i2", "2026-11-25T09:00:00.000Z", "2026-12-01T00:00:00.000Z");
  InvitationRecord expired = invitation("i3", "2026-11-20T10:00:00.000Z", "2026-11-21T00:00:00.000Z");
  InvitationRecord accepted = invitation("i4", "2026-11-25T10:00:00.000Z", "2026-12-01T00:00:00.000Z");
  Must(*store, [&](Tx& tx) -> Status {
    for (const auto* i : {&i1, &i2, &expired, &accepted}) MG_RETURN_IF_ERROR(tx.InsertInvitation(*i));
    return Status::Ok();
  });
  accepted.accepted_at = "2026-11-26T10:00:00.000Z";
  accepted.accepted_by = "bob";
  accepted.role = "admin";
  Must(*store, [&](Tx& tx) { return tx.UpdateInvitation(accepted); });
  auto got = Got<std::optional<InvitationRecord>>(*store, [&](Tx& tx) { return tx.FindInvitation(g.ws.id, "i4"); });
  REQUIRE(got);
  CHECK(got->accepted_at == accepted.accepted_at);
  CHECK(got->accepted_by == accepted.accepted_by);
  CHECK(got->role == "admin");
  CHECK_FALSE(got->revoked_at);
  auto by_hash = Got<std::optional<InvitationRecord>>(*store, [](Tx& tx) { return tx.FindInvitationByTokenHash("th-i1"); });
  REQUIRE(by_hash);
  CHECK(by_hash->id == "i1");
  CHECK(by_hash->inviter_id == g.user.user.id);
  CHECK(by_hash->email_norm == "bob@example.com");
  CHECK(by_hash->expires_at == i1.expires_at);
  auto pending = Got<std::vector<InvitationRecord>>(
      *store, [&](Tx& tx) { return tx.ListPendingInvitations(g.ws.id, "2026-11-27T00:00:00.000Z"); });
  REQUIRE(pending.size() == 2);
  CHECK(pending[0].id == "i2");
  CHECK(pending[1].id == "i1");
}

STORE_CASE("unique keys are named: email_taken, slug_taken, already_exists, token_collision") {
  auto store = backend.Open();
  Ground g = Lay(*store);
  auto reason = [&](const std::function<Status(Tx&)>& fn) { return store->Write(fn).reason(); };
  CHECK(reason([&](Tx& tx) {
          UserRecord again = NewUser("alice@example.com");
          return tx.InsertUser(again);
        }) == "email_taken");
  CHECK(reason([&](Tx& tx) { return tx.InsertWorkspace(NewWorkspace(g.user.user.id, "alpha")); }) == "slug_taken");
  Must(*store, [&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(tx.InsertMemory(NewMemory(g, "m1", "2026-11-25T10:00:00.000Z")));
    MG_RETURN_IF_ERROR(tx.InsertRelationship(NewRelationship(g, "r1", "m1", "m1", "2026-11-25T10:00:00.000Z")));
    return tx.InsertToken(TokenRecord{"t1", g.user.user.id, "n", "h", "mg_x", "2026-11-25T10:00:00.000Z",
                                      std::nullopt, std::nullopt, std::nullopt});
  });
  CHECK(reason([&](Tx& tx) { return tx.InsertMemory(NewMemory(g, "m1", "2026-11-25T10:00:00.000Z")); }) ==
        "already_exists");
  CHECK(reason([&](Tx& tx) {
          return tx.InsertRelationship(NewRelationship(g, "r1", "m1", "m1", "2026-11-25T10:00:00.000Z"));
        }) == "already_exists");
  CHECK(reason([&](Tx& tx) {
          return tx.InsertToken(TokenRecord{"t2", g.user.user.id, "n", "h", "mg_x", "2026-11-25T10:00:00.000Z",
                                            std::nullopt, std::nullopt, std::nullopt});
        }) == "token_collision");
  // The failed writes left nothing behind, and the store goes on.
  CHECK(Got<int64_t>(*store, [](Tx& tx) { return tx.CountUsers(); }) == 1);
}

STORE_CASE("a write that fails rolls back everything it did, its log appends included") {
  auto store = backend.Open();
  Ground g = Lay(*store);
  Status s = store->Write([&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(tx.InsertMemory(NewMemory(g, "doomed", "2026-11-25T10:00:00.000Z")));
    Event e;
    e.workspace_id = g.ws.id;
    e.type = "memory_created";
    e.actor = g.user.user.id;
    e.entity_type = "memory";
    e.entity_id = "doomed";
    e.at = "2026-11-25T10:00:00.000Z";
    MG_RETURN_IF_ERROR(tx.AppendEvent(e));
    return Status::Internal("simulated failure after the change");
  });
  CHECK(s.message() == "simulated failure after the change");
  CHECK_FALSE(Got<std::optional<Memory>>(*store, [&](Tx& tx) { return tx.FindMemory(g.ws.id, "doomed"); }));
  CHECK(Got<std::optional<Workspace>>(*store, [&](Tx& tx) { return tx.FindWorkspace(g.ws.id); })->head_seq == 0);
}

STORE_CASE("Lock is for writes: in a read transaction it is an error") {
  auto store = backend.Open();
  Status s = store->Read([](Tx& tx) { return tx.Lock(LockKey::Accounts()); });
  CHECK_FALSE(s.ok());
  CHECK(s.code() == Code::kInternal);
  CHECK(store->Ping().ok());
}

STORE_CASE("Describe names the database without its password, and migrations are recorded") {
  auto store = backend.Open();
  CHECK(store->schema_version() == 4);
  std::string url = backend.url();
  if (backend.postgres()) {
    // Trust authentication ignores the password; it must still not show.
    std::string with_password = url;
    with_password.insert(with_password.find('@'), ":s3cret");
    auto other = OpenStore(with_password);
    REQUIRE(other.ok());
    CHECK((*other)->Describe().find("s3cret") == std::string::npos);
    CHECK((*other)->Describe().find("***") != std::string::npos);
    CHECK((*other)->schema_version() == 4);
  } else {
    CHECK(store->Describe() == url);
  }
  // Opening again applies nothing new.
  CHECK(backend.Open()->schema_version() == 4);
}
