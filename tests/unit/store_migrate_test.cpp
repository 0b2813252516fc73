// `mgteam-server migrate --from sqlite:... --to postgres://...`
// (server/store/migrate.h): a server's data, made through the domain layer
// on SQLite, reads back the same from PostgreSQL after the copy.
#include "store_backends.h"

#include "domain/accounts.h"
#include "domain/memories.h"
#include "domain/workspaces.h"
#include "mgteam/sql_rows.h"
#include "store/migrate.h"

using namespace mgteam;
using namespace mgteam::server;
using namespace mgteam::server::testing;

namespace {

// Everything a store read returns, as one comparable text.
std::string Everything(Store& s, const std::string& user_id) {
  auto all = s.ReadValue<json>([&](Tx& tx) -> Result<json> {
    json out = json::object();
    MG_ASSIGN_OR_RETURN(auto tokens, tx.ListTokens(user_id));
    for (const auto& t : tokens) out["tokens"].push_back({t.ToJson(), t.hash, t.user_id});
    MG_ASSIGN_OR_RETURN(auto spaces, tx.ListWorkspacesOf(user_id));
    for (const auto& [w, role] : spaces) {
      json& ws = out["workspaces"][w.id];
      ws["workspace"] = {w.ToJson(role), w.epoch, w.head_seq};
      MG_ASSIGN_OR_RETURN(auto members, tx.ListMembers(w.id));
      for (const auto& m : members) ws["members"].push_back(m.ToJson());
      MG_ASSIGN_OR_RETURN(auto events, tx.ListEventRows(w.id, 0, 100000));
      for (const auto& e : events) ws["events"].push_back({e.seq, e.type, e.entity_id, e.data});
      MemoryQuery mq;
      mq.workspace_id = w.id;
      mq.include_deleted = true;
      mq.limit = 1000;
      MG_ASSIGN_OR_RETURN(auto memories, tx.ListMemories(mq));
      for (const auto& m : memories) ws["memories"].push_back({m.ToJson(), m.importance, m.confidence});
      RelationshipQuery rq;
      rq.workspace_id = w.id;
      rq.include_deleted = true;
      MG_ASSIGN_OR_RETURN(auto rels, tx.ListRelationships(rq));
      for (const auto& r : rels) ws["relationships"].push_back(r.ToJson());
      ConflictQuery cq;
      cq.workspace_id = w.id;
      cq.open_only = false;
      MG_ASSIGN_OR_RETURN(auto conflicts, tx.ListConflicts(cq));
      for (const auto& c : conflicts) ws["conflicts"].push_back(c.ToJson());
      MG_ASSIGN_OR_RETURN(auto invitations, tx.ListPendingInvitations(w.id, "2000-01-01T00:00:00.000Z"));
      for (const auto& i : invitations) ws["invitations"].push_back({i.id, i.token_hash, i.expires_at});
    }
    MG_ASSIGN_OR_RETURN(auto idem, tx.FindIdempotency("key"));
    if (idem) out["idempotency"] = {idem->request_hash, idem->status, json::binary({idem->sealed_body.begin(), idem->sealed_body.end()})};
    return out;
  });
  REQUIRE_MESSAGE(all.ok(), all.status().ToString());
  return all->dump();
}

}  // namespace

TEST_CASE("postgres only: migrate copies a SQLite server's data, head seqs and epochs included, and refuses a non-empty target") {
  REQUIRE(InitCrypto().ok());
  SqliteBackend from;
  PostgresBackend to;
  User alice;
  {
    auto s = from.Open();
    auto made = s->WriteValue<User>([&](Tx& tx) -> Result<User> {
      MG_ASSIGN_OR_RETURN(User a, CreateAccount(tx, {"alice@example.com", "alice@example.com", "Älice", "x"},
                                                true, SignupGate::kFirstOrOpen));
      MG_ASSIGN_OR_RETURN(User b, CreateAccount(tx, {"bob@example.com", "bob@example.com", "Bob", "x"}, true,
                                                SignupGate::kFirstOrOpen));
      const Actor actor{a.id, a.name};
      MG_ASSIGN_OR_RETURN(Workspace team, CreateTeam(tx, actor, "Team 🌍", std::nullopt));
      MG_RETURN_IF_ERROR(tx.PutMember(Member{team.id, b.id, "member", "2026-11-25T10:00:00.000Z", "", ""}));
      Memory draft;
      draft.title = "first \"quoted\"";
      draft.tags = {"a", "b"};
      draft.importance = 0.1 + 0.2;
      draft.context = {{"k", {1, 2.5, nullptr}}};
      MG_ASSIGN_OR_RETURN(Memory m1, CreateMemory(tx, actor, team.id, draft));
      draft.title = "second";
      MG_ASSIGN_OR_RETURN(Memory m2, CreateMemory(tx, actor, team.id, draft));
      Relationship r;
      r.from_memory_id = m1.id;
      r.to_memory_id = m2.id;
      r.type = "SOLVES";
      MG_RETURN_IF_ERROR(CreateRelationship(tx, actor, team.id, r).status());
      MemoryPatch p;
      p.title = "edited";
      MG_RETURN_IF_ERROR(UpdateMemory(tx, actor, team.id, m1.id, p).status());
      p.title = "edited concurrently";
      p.base_version = 1;  // an older base: a merge, and a conflict record
      MG_RETURN_IF_ERROR(UpdateMemory(tx, actor, team.id, m1.id, p).status());
      MG_RETURN_IF_ERROR(DeleteMemory(tx, actor, team.id, m2.id).status());
      MG_RETURN_IF_ERROR(IssueToken(tx, a.id, "ci", std::chrono::hours(1)).status());
      MG_RETURN_IF_ERROR(
          CreateInvitation(tx, actor, Role::kOwner, team.id, "carol@example.com", Role::kMember, std::chrono::hours(24))
              .status());
      std::string sealed;
      for (int i = 0; i < 256; ++i) sealed.push_back(static_cast<char>(i));
      MG_RETURN_IF_ERROR(tx.InsertIdempotency(IdempotencyRecord{"key", "req", 201, sealed, "2026-11-25T10:00:00.000Z"}));
      return a;
    });
    REQUIRE_MESSAGE(made.ok(), made.status().ToString());
    alice = *made;
  }
  auto copied = CopySqliteToPostgres(from.url(), to.url(), {});
  REQUIRE_MESSAGE(copied.ok(), copied.status().ToString());
  REQUIRE(copied->size() == 10);
  for (const auto& t : *copied) {
    CHECK(t.digest.size() == 64);
    if (t.name == "users") CHECK(t.rows == 2);
    if (t.name == "conflicts") CHECK(t.rows == 1);
    if (t.name == "events") CHECK(t.rows > 10);
  }

  auto sqlite = from.Open();
  auto postgres = to.Open();
  const std::string before = Everything(*sqlite, alice.id);
  CHECK(before.find("edited concurrently") != std::string::npos);  // the data is there to compare
  CHECK(Everything(*postgres, alice.id) == before);

  // The log goes on where it stopped.
  auto spaces = postgres->ReadValue<std::vector<std::pair<Workspace, std::string>>>(
      [&](Tx& tx) { return tx.ListWorkspacesOf(alice.id); });
  REQUIRE(spaces.ok());
  const Workspace team = spaces->back().first;
  Memory draft;
  draft.title = "after the move";
  REQUIRE(postgres->Write([&](Tx& tx) { return CreateMemory(tx, Actor{alice.id, alice.name}, team.id, draft).status(); }).ok());
  auto last = postgres->ReadValue<std::vector<EventRow>>([&](Tx& tx) { return tx.ListEventRows(team.id, team.head_seq, 10); });
  REQUIRE(last.ok());
  REQUIRE(last->size() == 1);
  CHECK((*last)[0].seq == team.head_seq + 1);

  auto again = CopySqliteToPostgres(from.url(), to.url(), {});
  CHECK(again.status().reason() == "target_not_empty");
}
