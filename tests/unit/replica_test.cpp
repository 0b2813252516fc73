// The client replica against a real SQLite file: the local view, the outbox,
// events and cursors, snapshots, search.
#include "replica_fixture.h"

#include <doctest/doctest.h>

#include <filesystem>

using namespace mgteam;
using namespace mgteam::agent;
using namespace mgteam::test;


TEST_CASE("a local write is visible at once as pending and becomes synced when the server answers") {
  Fixture f;
  auto m = f.r->CreateMemory(kWs, Draft("offline thought"));
  REQUIRE(m.ok());
  CHECK(m->sync == SyncState::kPending);
  CHECK(m->memory.version == 0);
  CHECK(m->memory.created_by == kMe);
  auto ops = f.r->Ops(kWs);
  REQUIRE(ops->size() == 1);
  CHECK((*ops)[0].kind == agent::OpKind::kMemoryCreate);
  CHECK((*ops)[0].payload["id"] == m->memory.id);  // the server will use our id

  Memory answered = m->memory;
  answered.version = 1;
  REQUIRE(f.r->CompleteOp((*ops)[0], answered.ToJson()).ok());
  auto after = f.r->GetMemory(kWs, m->memory.id);
  CHECK((*after)->sync == SyncState::kSynced);
  CHECK((*after)->memory.version == 1);
  CHECK(f.r->Ops(kWs)->empty());
}

TEST_CASE("queued edits carry the version they were made on, and the next one is rebased on the previous result") {
  Fixture f;
  const std::string id = "01a2124c-a21f-739f-0000-0000000000c1";
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(3, ServerMemory(id, 4, "v4"), "memory_created")}).ok());
  MemoryPatch first, second;
  first.title = "mine";
  second.content = "more";
  REQUIRE(f.r->UpdateMemory(kWs, id, first).ok());
  REQUIRE(f.r->UpdateMemory(kWs, id, second).ok());
  auto ops = *f.r->Ops(kWs);
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].payload["base_version"] == 4);  // what we held from the server
  CHECK(ops[0].payload["edited_at"].is_string());
  CHECK_FALSE(ops[1].payload.contains("base_version"));  // made on top of the first
  // A teammate's change arriving meanwhile does not move the bases.
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(4, ServerMemory(id, 5, "theirs"))}).ok());
  // The server merged the first into version 6: the second is based on 6.
  Memory merged = ServerMemory(id, 6, "mine");
  REQUIRE(f.r->CompleteOp(ops[0], merged.ToJson()).ok());
  auto rest = *f.r->Ops(kWs);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].payload["base_version"] == 6);
  // A delete names its base too.
  REQUIRE(f.r->CompleteOp(rest[0], ServerMemory(id, 7, "mine").ToJson()).ok());
  REQUIRE(f.r->DeleteMemory(kWs, id).ok());
  CHECK((*f.r->Ops(kWs))[0].payload["base_version"] == 7);
}

TEST_CASE("conflict records from the log and from a write's answer mark the memory until resolved") {
  Fixture f;
  const std::string id = "01a2124c-a21f-739f-0000-0000000000c2";
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(3, ServerMemory(id, 1, "shared"), "memory_created")}).ok());
  Conflict c;
  c.id = "01a2124c-a21f-739f-0000-0000000000f1";
  c.workspace_id = kWs;
  c.memory_id = id;
  c.kind = "field";
  c.field = "title";
  c.lost = "my title";
  c.kept = "shared";
  c.seq = 4;
  Event created;
  created.workspace_id = kWs;
  created.seq = 4;
  created.type = "conflict_created";
  created.entity_type = "conflict";
  created.entity_id = c.id;
  created.entity = c.ToJson();
  REQUIRE(f.r->ApplyEvents(kWs, {created}).ok());
  auto m = f.r->GetMemory(kWs, id);
  REQUIRE((*m)->open_conflicts == std::vector<std::string>{c.id});
  CHECK((*m)->ToJson()["open_conflicts"].size() == 1);
  CHECK(f.r->ListConflicts(kWs, true)->size() == 1);
  c.status = "resolved";
  c.resolution = "current";
  Event resolved = created;
  resolved.seq = 5;
  resolved.type = "conflict_resolved";
  resolved.entity = c.ToJson();
  REQUIRE(f.r->ApplyEvents(kWs, {resolved}).ok());
  CHECK((*f.r->GetMemory(kWs, id))->open_conflicts.empty());
  CHECK(f.r->ListConflicts(kWs, true)->empty());
  CHECK(f.r->ListConflicts(kWs, false)->size() == 1);
  // A reload keeps only what the snapshot says is open.
  REQUIRE(f.r->BeginSnapshot(kWs).ok());
  CHECK(f.r->ListConflicts(kWs, false)->empty());
}

TEST_CASE("events and the cursor advance together, duplicates and stale states are skipped") {
  Fixture f;
  std::string id = "5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9d01";
  auto first = f.r->ApplyEvents(kWs, {MemoryEvent(3, ServerMemory(id, 1, "v1"), "memory_created"),
                                      MemoryEvent(4, ServerMemory(id, 2, "v2"))});
  REQUIRE(first.ok());
  CHECK(first->applied == 2);
  CHECK((*f.r->FindWorkspace(kWs))->cursor == 4);
  // A replay of seq 4 and an out-of-date state change nothing.
  auto again = f.r->ApplyEvents(kWs, {MemoryEvent(4, ServerMemory(id, 2, "v2")), MemoryEvent(5, ServerMemory(id, 1, "stale"))});
  CHECK(again->skipped == 1);
  CHECK(again->applied == 1);
  CHECK((*f.r->GetMemory(kWs, id))->memory.title == "v2");
  CHECK((*f.r->FindWorkspace(kWs))->cursor == 5);
}

TEST_CASE("a teammate's change never hides my pending edit: view = server state + pending ops") {
  Fixture f;
  std::string id = "5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9d01";
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(3, ServerMemory(id, 1, "original"), "memory_created")}).ok());
  MemoryPatch mine;
  mine.tags = std::vector<std::string>{"mine"};
  REQUIRE(f.r->UpdateMemory(kWs, id, mine).ok());
  Memory theirs = ServerMemory(id, 2, "their title");
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(4, theirs)}).ok());
  auto view = *f.r->GetMemory(kWs, id);
  CHECK(view->memory.title == "their title");
  CHECK(view->memory.tags == std::vector<std::string>{"mine"});
  CHECK(view->sync == SyncState::kPending);
}

TEST_CASE("a refused op drops out of the view, is reported, and can be retried") {
  Fixture f;
  auto m = f.r->CreateMemory(kWs, Draft("will be refused"));
  auto op = (*f.r->Ops(kWs))[0];
  REQUIRE(f.r->FailOp(op, Status::Forbidden("memory.write")).ok());
  CHECK_FALSE(*f.r->GetMemory(kWs, m->memory.id));
  auto ops = *f.r->Ops(kWs);
  REQUIRE(ops.size() == 1);
  CHECK(ops[0].state == agent::OpState::kFailed);
  CHECK(ops[0].last_error.find("memory.write") != std::string::npos);
  CHECK_FALSE(*f.r->NextOp(kWs));  // failed ops are not resent on their own
  CHECK(*f.r->RetryFailed(kWs) == 1);
  CHECK((*f.r->GetMemory(kWs, m->memory.id))->sync == SyncState::kPending);
  CHECK(*f.r->NextOp(kWs));
}

TEST_CASE("ops leave in creation order and a backed-off op keeps its place") {
  Fixture f;
  auto a = f.r->CreateMemory(kWs, Draft("a"));
  auto b = f.r->CreateMemory(kWs, Draft("b"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  auto first = *f.r->NextOp(kWs);
  CHECK(first->entity_id == a->memory.id);
  REQUIRE(f.r->DeferOp(*first, "offline", "2999-01-01T00:00:00.000Z").ok());
  auto still = *f.r->NextOp(kWs);
  CHECK(still->entity_id == a->memory.id);
  CHECK(still->attempts == 1);
}

TEST_CASE("a snapshot reload keeps writes that were not sent yet") {
  Fixture f;
  std::string id = "5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9d01";
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(3, ServerMemory(id, 1, "old"), "memory_created")}).ok());
  auto local = f.r->CreateMemory(kWs, Draft("not sent yet"));
  MemoryPatch edit;
  edit.title = "edited offline";
  REQUIRE(f.r->UpdateMemory(kWs, id, edit).ok());
  // The server was restored: reload from a snapshot with a newer version.
  REQUIRE(f.r->BeginSnapshot(kWs).ok());
  REQUIRE(f.r->LoadSnapshot(kWs, {ServerMemory(id, 7, "restored")}, {}).ok());
  REQUIRE(f.r->FinishSnapshot(kWs, 40, "epoch-2").ok());
  auto w = *f.r->FindWorkspace(kWs);
  CHECK(w->cursor == 40);
  CHECK(w->epoch == "epoch-2");
  CHECK((*f.r->GetMemory(kWs, local->memory.id))->memory.title == "not sent yet");
  auto merged = *f.r->GetMemory(kWs, id);
  CHECK(merged->memory.title == "edited offline");
  CHECK(merged->memory.version == 7);
  CHECK(f.r->Ops(kWs)->size() == 2);
}

TEST_CASE("search ranks title matches first, matches prefixes and skips deleted memories") {
  Fixture f;
  Memory in_title = Draft("Redis connection timeout");
  Memory in_content = Draft("Worker pool tuning");
  in_content.content = "we saw a redis timeout once";
  Memory gone = Draft("Redis cluster notes");
  auto a = f.r->CreateMemory(kWs, in_title);
  auto b = f.r->CreateMemory(kWs, in_content);
  auto c = f.r->CreateMemory(kWs, gone);
  auto deleted = f.r->DeleteMemory(kWs, c->memory.id);
  REQUIRE(deleted.ok());
  CHECK(deleted->memory.deleted);  // create and delete both queued, in order
  auto hits = f.r->Search(kWs, "redis time", 10);
  REQUIRE(hits.ok());
  REQUIRE(hits->size() == 2);
  CHECK((*hits)[0].memory.id == a->memory.id);
  CHECK((*hits)[1].memory.id == b->memory.id);
  CHECK(f.r->Search(kWs, "café", 10)->empty());
  CHECK(f.r->Search(kWs, "\"unbalanced", 10).ok());
  CHECK(FtsQuery("a \"b\" c") == "\"a\" \"\"\"b\"\"\" \"c\"*");
}

TEST_CASE("the search index follows rows changed many times within one batch and across batches") {
  Fixture f;
  const std::string a = "01a2124c-a21f-739f-0000-00000000000a", b = "01a2124c-a21f-739f-0000-00000000000b";
  std::vector<Event> batch = {MemoryEvent(3, ServerMemory(a, 1, "alpha"), "memory_created"),
                              MemoryEvent(4, ServerMemory(a, 2, "bravo")),
                              MemoryEvent(5, ServerMemory(b, 1, "charlie"), "memory_created")};
  REQUIRE(f.r->ApplyEvents(kWs, batch).ok());
  MemoryPatch retitle;
  retitle.title = "echo";
  REQUIRE(f.r->UpdateMemory(kWs, b, retitle).ok());  // pending
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(6, ServerMemory(b, 2, "delta"))}).ok());
  Memory gone = ServerMemory(a, 4, "foxtrot");
  gone.deleted = true;
  REQUIRE(f.r->ApplyEvents(kWs, {MemoryEvent(7, ServerMemory(a, 3, "foxtrot")), MemoryEvent(8, gone)}).ok());
  for (const char* word : {"alpha", "bravo", "charlie", "delta", "foxtrot"})
    CHECK_MESSAGE(f.r->Search(kWs, word, 10)->empty(), std::string(word));
  auto hits = f.r->Search(kWs, "echo", 10);
  REQUIRE(hits->size() == 1);
  CHECK((*hits)[0].memory.id == b);
  // The index holds exactly what the rows say.
  auto db = sql::Db::Open(f.dir + "/replica.db", false, 5000);
  REQUIRE(db.ok());
  CHECK(db->Exec("INSERT INTO memories_fts(memories_fts) VALUES('integrity-check')").ok());
  REQUIRE(f.r->BeginSnapshot(kWs).ok());
  REQUIRE(f.r->LoadSnapshot(kWs, {ServerMemory(b, 2, "delta")}, {}).ok());
  REQUIRE(f.r->FinishSnapshot(kWs, 8, "epoch-1").ok());
  CHECK(db->Exec("INSERT INTO memories_fts(memories_fts) VALUES('integrity-check')").ok());
  CHECK(f.r->Search(kWs, "echo", 10)->size() == 1);  // the pending edit survives a reload
  CHECK(f.r->Search(kWs, "delta", 10)->empty());
}

TEST_CASE("binding to another user wipes the replica, and a member_removed for me is reported") {
  Fixture f;
  REQUIRE(f.r->CreateMemory(kWs, Draft("x")).ok());
  Event removed;
  removed.workspace_id = kWs;
  removed.seq = 3;
  removed.type = "member_removed";
  removed.entity_type = "member";
  removed.entity = {{"user_id", kMe}, {"role", "member"}};
  auto res = f.r->ApplyEvents(kWs, {removed});
  CHECK(res->removed_from_workspace);
  REQUIRE(f.r->Bind("http://127.0.0.1:8474", kTeammate).ok());
  CHECK(f.r->Workspaces()->empty());
  CHECK(f.r->Ops()->empty());
}

TEST_CASE("a workspace listing fetched before a removal does not bring the removed team back") {
  Fixture f;
  auto before = f.r->Forgotten();
  REQUIRE(before.ok());
  Workspace team;
  team.id = kWs;
  team.name = "Team";
  team.slug = "team";
  team.kind = "team";
  // The listing is on its way while the removal is applied.
  REQUIRE(f.r->ForgetWorkspace(kWs).ok());
  auto applied = f.r->RememberWorkspaces({{team, "member"}}, *before);
  REQUIRE(applied.ok());
  CHECK_FALSE(*applied);
  CHECK_FALSE(*f.r->FindWorkspace(kWs));
  // A listing fetched after it applies (a re-invited member comes back).
  applied = f.r->RememberWorkspaces({{team, "member"}}, *f.r->Forgotten());
  CHECK(*applied);
  CHECK(*f.r->FindWorkspace(kWs));
}
