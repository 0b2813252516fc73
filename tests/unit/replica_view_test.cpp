// The replica's view rule across every transition (docs/team-sync.md, "What a
// replica shows"): answers and events in either order, refusals, writes the
// replica refuses up front, the model check itself, and purging.
#include "replica_fixture.h"
#include "sync.h"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using namespace mgteam;
using namespace mgteam::agent;
using namespace mgteam::test;

namespace {

const std::string kId = "01a2124c-a21f-739f-0000-0000000000d1";

// The memory on the server, then my update of it queued (content + tag).
OutboxOp QueueMyUpdate(Fixture& f) {
  Memory v1 = ServerMemory(kId, 1, "shared");
  v1.content = "original";
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(3, v1, "memory_created")}).ok());
  MemoryPatch mine;
  mine.content = "alice's text";
  mine.tags = std::vector<std::string>{"alice"};
  REQUIRE(f.r->UpdateMemory(kWs, kId, mine).ok());
  auto ops = *f.r->Ops(kWs);
  REQUIRE(ops.size() == 1);
  return ops[0];
}

// What the server made of my update merged with bob's: bob's text won,
// both tags kept.
Memory Merged() {
  Memory m = ServerMemory(kId, 3, "shared");
  m.content = "bob's text";
  m.tags = {"alice", "bob"};
  return m;
}

void CheckRowIs(Fixture& f, const Memory& expected, SyncState sync) {
  auto row = *f.r->GetMemory(kWs, expected.id);
  REQUIRE(row);
  CHECK(row->memory.ToJson() == expected.ToJson());
  CHECK(row->sync == sync);
  Status check = f.r->CheckView();
  CHECK_MESSAGE(check.ok(), check.ToString());
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("the event of my own merged update arrives before the answer: the row ends as the server's") {
  Fixture f;
  OutboxOp op = QueueMyUpdate(f);
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(4, Merged())}).ok());
  // Still pending: my edit replayed on top of the merged state.
  CHECK((*f.r->GetMemory(kWs, kId))->memory.content == "alice's text");
  CHECK(f.r->CheckView().ok());
  REQUIRE(f.r->CompleteOp(op, Merged().ToJson()).ok());  // same version as the event
  CheckRowIs(f, Merged(), SyncState::kSynced);
  // The search index follows the row, not my overlay.
  CHECK(f.r->Search(kWs, "bob's", 10)->size() == 1);
  CHECK(f.r->Search(kWs, "alice's", 10)->empty());
}

TEST_CASE("the answer arrives before the event of the same change, or after a newer one") {
  Fixture f;
  OutboxOp op = QueueMyUpdate(f);
  SUBCASE("answer first, then its event, then the event again") {
    REQUIRE(f.r->CompleteOp(op, Merged().ToJson()).ok());
    CheckRowIs(f, Merged(), SyncState::kSynced);
    REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(4, Merged())}).ok());
    REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(4, Merged())}).ok());  // a duplicate
    CheckRowIs(f, Merged(), SyncState::kSynced);
  }
  SUBCASE("a teammate's later change arrived first: the older answer changes nothing") {
    Memory later = Merged();
    later.version = 4;
    later.title = "renamed by carol";
    REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(4, Merged()), MemoryEvent(5, later)}).ok());
    REQUIRE(f.r->CompleteOp(op, Merged().ToJson()).ok());
    CheckRowIs(f, later, SyncState::kSynced);
  }
}

TEST_CASE("a refused update leaves the server's state, with the event that came meanwhile") {
  Fixture f;
  OutboxOp op = QueueMyUpdate(f);
  Memory theirs = ServerMemory(kId, 2, "renamed");
  theirs.content = "original";
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(4, theirs)}).ok());
  REQUIRE(f.r->FailOp(op, Status::Forbidden("memory.write")).ok());
  CheckRowIs(f, theirs, SyncState::kFailed);  // failed: there is a refusal to read
  auto ops = *f.r->Ops(kWs);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].refusal.code() == Code::kPermissionDenied);  // kept for the exit code
  REQUIRE(f.r->DismissOp(op.op_id).ok());
  CheckRowIs(f, theirs, SyncState::kSynced);
}

TEST_CASE("a refused delete brings the memory back, searchable") {
  Fixture f;
  Memory v1 = ServerMemory(kId, 1, "keep me");
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(3, v1, "memory_created")}).ok());
  REQUIRE(f.r->DeleteMemory(kWs, kId).ok());
  CHECK((*f.r->GetMemory(kWs, kId))->memory.deleted);
  CHECK(f.r->Search(kWs, "keep", 10)->empty());
  REQUIRE(f.r->FailOp((*f.r->Ops(kWs))[0], Status::Forbidden("memory.delete")).ok());
  CheckRowIs(f, v1, SyncState::kFailed);
  CHECK(f.r->Search(kWs, "keep", 10)->size() == 1);
}

TEST_CASE("a reset with ops pending keeps them on top of the reloaded state") {
  Fixture f;
  OutboxOp op = QueueMyUpdate(f);
  REQUIRE(f.r->BeginSnapshot(kWs).ok());
  REQUIRE(f.r->LoadSnapshot(kWs, {Merged()}, {}).ok());
  REQUIRE(f.r->FinishSnapshot(kWs, 9, "epoch-2").ok());
  CHECK((*f.r->GetMemory(kWs, kId))->memory.content == "alice's text");
  CHECK(f.r->CheckView().ok());
  REQUIRE(f.r->CompleteOp(op, Merged().ToJson()).ok());
  CheckRowIs(f, Merged(), SyncState::kSynced);
}

TEST_CASE("writes the server is known to refuse are refused up front and queue nothing") {
  SUBCASE("a viewer cannot write") {
    Fixture f("viewer");
    REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(3, ServerMemory(kId, 1, "x"), "memory_created")}).ok());
    CHECK(f.r->CreateMemory(kWs, Draft("nope")).status().code() == Code::kPermissionDenied);
    MemoryPatch p;
    p.tags = std::vector<std::string>{"x"};
    CHECK(f.r->UpdateMemory(kWs, kId, p).status().code() == Code::kPermissionDenied);
    CHECK(f.r->DeleteMemory(kWs, kId).status().code() == Code::kPermissionDenied);
    CHECK(f.r->Ops(kWs)->empty());
    CheckRowIs(f, ServerMemory(kId, 1, "x"), SyncState::kSynced);
  }
  SUBCASE("a member cannot delete what is on the server, but can drop an unsent memory of hers") {
    Fixture f("member");
    REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(3, ServerMemory(kId, 1, "x"), "memory_created")}).ok());
    Status s = f.r->DeleteMemory(kWs, kId).status();
    CHECK(s.code() == Code::kPermissionDenied);
    CHECK(s.details()["permission"] == "memory.delete");
    CHECK(f.r->Ops(kWs)->empty());
    auto mine = f.r->CreateMemory(kWs, Draft("draft"));
    REQUIRE(mine.ok());
    auto dropped = f.r->DeleteMemory(kWs, mine->memory.id);  // allowed: it never reached the server
    REQUIRE(dropped.ok());
    CHECK(dropped->memory.deleted);
    CHECK(f.r->CheckView().ok());
  }
  SUBCASE("an edit of a memory deleted on the server is a conflict") {
    Fixture f;
    Memory gone = ServerMemory(kId, 2, "x");
    gone.deleted = true;
    REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(3, gone, "memory_deleted")}).ok());
    MemoryPatch p;
    p.title = "too late";
    Status s = f.r->UpdateMemory(kWs, kId, p).status();
    CHECK(s.code() == Code::kConflict);
    CHECK(s.reason() == "memory_deleted");
    CHECK(f.r->Ops(kWs)->empty());
  }
  SUBCASE("a second relationship of the same type between the same memories is a conflict") {
    Fixture f;
    const std::string other = "01a2124c-a21f-739f-0000-0000000000d2";
    REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(3, ServerMemory(kId, 1, "a"), "memory_created"),
                                   MemoryEvent(4, ServerMemory(other, 1, "b"), "memory_created")})
                .ok());
    Relationship r;
    r.from_memory_id = kId;
    r.to_memory_id = other;
    r.type = "SOLVES";
    REQUIRE(f.r->CreateRelationship(kWs, r).ok());
    Status s = f.r->CreateRelationship(kWs, r).status();
    CHECK(s.code() == Code::kConflict);
    CHECK(s.reason() == "relationship_exists");
    CHECK(f.r->Ops(kWs)->size() == 1);
  }
}

TEST_CASE("CheckView catches a row that does not follow from its server state and outbox") {
  Fixture f;
  QueueMyUpdate(f);
  REQUIRE(f.r->CheckView().ok());
  auto db = sql::Db::Open(f.dir + "/replica.db");
  REQUIRE(db.ok());
  SUBCASE("a column changed behind the replica's back") {
    REQUIRE(db->Exec("UPDATE memories SET content = 'tampered'").ok());
    Status s = f.r->CheckView();
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("'content'") != std::string::npos);
  }
  SUBCASE("a row labelled as the server's while an op is pending") {
    REQUIRE(db->Exec("UPDATE memories SET server = '='").ok());
    CHECK_FALSE(f.r->CheckView().ok());
  }
}

TEST_CASE("forgetting a workspace leaves none of its text in the file or its journal") {
  Fixture f;
  const std::string secret = "zanzibarquokka";
  for (int i = 0; i < 50; ++i) {
    Memory m = ServerMemory("01a2124c-a21f-739f-0000-0000000001" + std::to_string(10 + i), 1,
                            "note " + secret + " " + std::to_string(i));
    m.content = "the " + secret + " plan, part " + std::to_string(i);
    REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(3 + i, m, "memory_created")}).ok());
  }
  // Earlier versions leave bytes in free space too: overwrite some.
  for (int i = 0; i < 10; ++i) {
    Memory m = ServerMemory("01a2124c-a21f-739f-0000-0000000001" + std::to_string(10 + i), 2, "renamed");
    REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(53 + i, m)}).ok());
  }
  REQUIRE(f.r->CreateMemory(kWs, Draft("queued " + secret)).ok());
  const std::string file = f.dir + "/replica.db";
  REQUIRE(ReadAll(file + "-wal").find(secret) != std::string::npos);  // the check can see it
  REQUIRE(f.r->ForgetWorkspace(kWs).ok());
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    CHECK_MESSAGE(ReadAll(file + suffix).find(secret) == std::string::npos, "found in " << file << suffix);
  CHECK(f.r->CheckView().ok());
}

TEST_CASE("a resent create the server already has (its answer lost, its key purged) completes the op") {
  Fixture f;
  auto mine = f.r->CreateMemory(kWs, Draft("sent twice"));
  REQUIRE(mine.ok());
  auto ops = f.r->Ops(kWs);
  REQUIRE(ops.ok());
  REQUIRE(ops->size() == 1);
  Result<json> answer = Status::Conflict("already_exists", "a memory with id " + mine->memory.id + " already exists");
  auto outcome = agent::SettleOp(*f.r, ops->front(), answer);
  REQUIRE(outcome.ok());
  CHECK(*outcome == agent::OpOutcome::kAccepted);
  CHECK(f.r->Ops(kWs)->empty());
  // The log then brings the server's copy, and the row is the server's.
  Memory server = ServerMemory(mine->memory.id, 1, "sent twice");
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(3, server, "memory_created")}).ok());
  CheckRowIs(f, server, SyncState::kSynced);
  CHECK(f.r->CheckView().ok());

  // Any other conflict on a create is still a refusal.
  auto other = f.r->CreateMemory(kWs, Draft("refused"));
  REQUIRE(other.ok());
  auto op = f.r->Ops(kWs)->front();
  auto refused = agent::SettleOp(*f.r, op, Result<json>(Status::Conflict("version_conflict", "no")));
  REQUIRE(refused.ok());
  CHECK(*refused == agent::OpOutcome::kRefused);
}
