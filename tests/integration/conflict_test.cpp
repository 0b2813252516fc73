// Concurrent edits against a real server: merges, conflict records and their
// resolution over HTTP; the "two teammates, one offline" story through the
// real CLI; and a randomized run of three replicas editing across offline
// periods, checked for convergence and for values lost without a record.
#include "http.h"
#include "machine.h"
#include "process.h"

#include "mgteam/api_client.h"
#include "mgteam/merge.h"
#include "replica.h"
#include "sync.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <map>
#include <random>
#include <set>

using namespace mgteam;
using namespace mgteam::test;

namespace {

struct World : TeamServer {
  World() : TeamServer("Merge", "admin") {}
  std::string Mem(const std::string& id = "") {
    return "/api/v1/workspaces/" + team + "/memories" + (id.empty() ? "" : "/" + id);
  }
  std::string Conflicts(const std::string& rest = "") { return "/api/v1/workspaces/" + team + "/conflicts" + rest; }
  json NewMemory(const std::string& title) {
    auto r = http->Post(Mem(), {{"title", title}, {"content", "original text"}, {"tags", {"redis", "cache"}},
                                {"context", {{"language", "go"}, {"project_path", "/srv"}}}},
                        alice.token);
    REQUIRE(r.status == 201);
    return r.body;
  }
};

}  // namespace

TEST_CASE("edits to different fields from an old base merge, and tags and context merge too") {
  World w;
  std::string id = w.NewMemory("Redis timeout")["id"];
  auto a = w.http->Patch(w.Mem(id), {{"base_version", 1}, {"title", "Redis connect timeout"}, {"tags", {"redis", "prod"}},
                                     {"context", {{"language", "go"}, {"project_path", "/srv"}, {"branch", "main"}}}},
                         w.alice.token);
  REQUIRE(a.status == 200);
  auto b = w.http->Patch(w.Mem(id), {{"base_version", 1}, {"content", "retry for 5 s"}, {"tags", {"cache", "redis", "timeout"}},
                                     {"context", {{"language", "go"}, {"files_involved", {"pool.go"}}}}},
                         w.bob.token);
  REQUIRE(b.status == 200);
  CHECK(b.body["version"] == 3);
  CHECK(b.body["title"] == "Redis connect timeout");  // Alice's
  CHECK(b.body["content"] == "retry for 5 s");         // Bob's
  CHECK(b.body["tags"] == json{"prod", "redis", "timeout"});  // Alice removed cache, Bob added timeout
  CHECK(b.body["context"] == json{{"language", "go"}, {"branch", "main"}, {"files_involved", {"pool.go"}}});
  CHECK_FALSE(b.body.contains("conflicts"));
  auto events = w.http->Get("/api/v1/workspaces/" + w.team + "/events?limit=100", w.alice.token).body["events"];
  const json& last = events.back();
  CHECK(last["type"] == "memory_updated");
  CHECK(last["base_version"] == 1);
  CHECK(last["merge"]["mine"] == json{"content", "tags", "context"});
  CHECK(last["merge"]["theirs"] == json{"title", "tags", "context"});
  CHECK(w.http->Get(w.Conflicts(), w.alice.token).body["conflicts"].empty());
}

TEST_CASE("the same field edited on both sides: the later edit wins, the other is a conflict that can be restored") {
  World w;
  std::string id = w.NewMemory("Redis timeout")["id"];
  REQUIRE(w.http->Patch(w.Mem(id), {{"base_version", 1}, {"content", "Alice's words"},
                                    {"edited_at", "2026-01-01T10:05:00.000Z"}}, w.alice.token).status == 200);
  // Bob's edit was made earlier (offline), so it loses, but is kept.
  auto b = w.http->Patch(w.Mem(id), {{"base_version", 1}, {"content", "Bob's words"}, {"edited_at", "2026-01-01T10:00:00.000Z"}},
                         w.bob.token);
  REQUIRE(b.status == 200);
  CHECK(b.body["content"] == "Alice's words");
  REQUIRE(b.body["conflicts"].size() == 1);
  const json c = b.body["conflicts"][0];
  CHECK(c["field"] == "content");
  CHECK(c["lost"] == "Bob's words");
  CHECK(c["lost_by"]["user_id"] == w.bob.id);
  CHECK(c["kept_by"]["user_id"] == w.alice.id);
  CHECK(c["status"] == "open");
  // Listed, shown, in the log.
  auto list = w.http->Get(w.Conflicts(), w.alice.token);
  REQUIRE(list.body["conflicts"].size() == 1);
  CHECK(w.http->Get(w.Conflicts("?memory_id=" + id), w.bob.token).body["conflicts"].size() == 1);
  CHECK(w.http->Get(w.Conflicts("/" + c["id"].get<std::string>()), w.bob.token).body["lost"] == "Bob's words");
  auto events = w.http->Get("/api/v1/workspaces/" + w.team + "/events?limit=100", w.alice.token).body["events"];
  CHECK(events.back()["type"] == "conflict_created");
  CHECK(events[events.size() - 2]["conflicts"][0]["id"] == c["id"]);
  // Snapshots carry open conflicts.
  auto snap = w.http->Get("/api/v1/workspaces/" + w.team + "/snapshot?kind=conflicts", w.bob.token);
  CHECK(snap.body["items"].size() == 1);
  // Bad resolutions change nothing.
  std::string path = w.Conflicts("/" + c["id"].get<std::string>());
  CHECK(w.http->Post(path, {{"keep", "both"}}, w.bob.token).status == 422);
  CHECK(w.http->Post(path, {{"keep", "value"}}, w.bob.token).status == 422);
  CHECK(w.http->Post(path, {{"keep", "lost"}, {"why", 1}}, w.bob.token).status == 422);
  // Restore Bob's words: an ordinary versioned update.
  auto r = w.http->Post(path, {{"keep", "lost"}}, w.bob.token);
  REQUIRE(r.status == 200);
  CHECK(r.body["memory"]["content"] == "Bob's words");
  CHECK(r.body["memory"]["version"] == 4);
  CHECK(r.body["conflict"]["status"] == "resolved");
  CHECK(r.body["conflict"]["resolution"] == "lost");
  CHECK(w.http->Post(path, {{"keep", "current"}}, w.bob.token).error_code() == "conflict_resolved");
  CHECK(w.http->Get(w.Conflicts(), w.alice.token).body["conflicts"].empty());
  CHECK(w.http->Get(w.Conflicts("?status=all"), w.alice.token).body["conflicts"].size() == 1);
}

TEST_CASE("resolving with an edited value validates it like any update") {
  World w;
  std::string id = w.NewMemory("Title")["id"];
  REQUIRE(w.http->Patch(w.Mem(id), {{"base_version", 1}, {"title", "A"}}, w.alice.token).status == 200);
  auto b = w.http->Patch(w.Mem(id), {{"base_version", 1}, {"title", "B"}}, w.bob.token);
  REQUIRE(b.body["conflicts"].size() == 1);
  std::string path = w.Conflicts("/" + b.body["conflicts"][0]["id"].get<std::string>());
  auto too_long = w.http->Post(path, {{"keep", "value"}, {"value", std::string(201, 'x')}}, w.alice.token);
  CHECK(too_long.status == 422);
  auto ok = w.http->Post(path, {{"keep", "value"}, {"value", "A and B"}}, w.alice.token);
  REQUIRE(ok.status == 200);
  CHECK(ok.body["memory"]["title"] == "A and B");
  CHECK(ok.body["conflict"]["resolution"] == "value");
}

TEST_CASE("update after delete: the delete wins, the update is kept and can restore the memory") {
  World w;
  std::string id = w.NewMemory("Doomed")["id"];
  REQUIRE(w.http->Delete(w.Mem(id), w.alice.token).status == 200);
  auto b = w.http->Patch(w.Mem(id), {{"base_version", 1}, {"content", "but I had more to say"}}, w.bob.token);
  CHECK(b.status == 409);
  CHECK(b.error_code() == "memory_deleted");
  std::string cid = b.body["error"]["conflict_id"];
  auto c = w.http->Get(w.Conflicts("/" + cid), w.bob.token).body;
  CHECK(c["kind"] == "update_after_delete");
  CHECK(c["lost"] == json{{"content", "but I had more to say"}});
  auto r = w.http->Post(w.Conflicts("/" + cid), {{"keep", "lost"}}, w.bob.token);
  REQUIRE(r.status == 200);
  CHECK(r.body["memory"]["deleted"] == false);
  CHECK(r.body["memory"]["content"] == "but I had more to say");
  CHECK(w.http->Get(w.Mem(id), w.alice.token).status == 200);
  auto events = w.http->Get("/api/v1/workspaces/" + w.team + "/events?limit=100", w.alice.token).body["events"];
  CHECK(events[events.size() - 2]["type"] == "memory_restored");
}

TEST_CASE("a delete based on an older version still deletes, and keeps the changes it never saw") {
  World w;
  std::string id = w.NewMemory("Shared")["id"];
  REQUIRE(w.http->Patch(w.Mem(id), {{"base_version", 1}, {"content", "Bob's later addition"}}, w.bob.token).status == 200);
  auto d = w.http->Delete(w.Mem(id) + "?base_version=1", w.alice.token);
  REQUIRE(d.status == 200);
  CHECK(d.body["deleted"] == true);
  REQUIRE(d.body["conflicts"].size() == 1);
  CHECK(d.body["conflicts"][0]["kind"] == "delete_over_update");
  CHECK(d.body["conflicts"][0]["lost"]["content"] == "Bob's later addition");
  // A delete based on the current version keeps nothing extra.
  std::string other = w.NewMemory("Other")["id"];
  auto plain = w.http->Delete(w.Mem(other) + "?base_version=1", w.alice.token);
  CHECK_FALSE(plain.body.contains("conflicts"));
  // Keeping the delete resolves it and leaves the memory deleted.
  std::string cid = d.body["conflicts"][0]["id"];
  auto keep = w.http->Post(w.Conflicts("/" + cid), {{"keep", "current"}}, w.alice.token);
  REQUIRE(keep.status == 200);
  CHECK(keep.body["memory"]["deleted"] == true);
  CHECK(w.http->Get(w.Mem(id), w.alice.token).status == 404);
}

TEST_CASE("two teammates, one offline, edit the same memory: different fields both kept, the lost text restorable") {
  World w;
  Machine alice(w.url(), w.alice), bob(w.url(), w.bob);
  alice.StartAgent();
  std::string id = w.NewMemory("Redis timeout under load")["id"];
  REQUIRE(alice.WaitCursor(w.team, w.http->Get("/api/v1/workspaces/" + w.team, w.alice.token).body["head_seq"]));
  REQUIRE(bob.Cli({"-w", w.team, "memory", "get", id}).exit_code == 0);  // Bob has a copy (no agent)

  // Bob is offline: the server is down for him. His edit is queued (exit 7).
  w.StopServer();
  auto queued = bob.Cli({"-w", w.team, "memory", "update", id, "--content", "Bob: cap the pool at 50", "--summary",
                         "pool exhaustion"});
  CHECK(queued.exit_code == 7);
  w.StartServer();

  // Alice, online, edits the title and the same content, after Bob did.
  REQUIRE(alice.Cli({"-w", w.team, "memory", "update", id, "--title", "Redis timeout: pool too small", "--content",
                     "Alice: raise the connect timeout", "--wait"})
              .exit_code == 0);
  // Bob comes back.
  auto back = bob.Cli({"-w", w.team, "sync", "now"});
  CHECK(back.exit_code == 0);
  CHECK(back.err.find("1 of your edits lost to someone else's") != std::string::npos);
  json m = bob.CliJson({"-w", w.team, "memory", "get", id});
  CHECK(m["title"] == "Redis timeout: pool too small");  // Alice's field
  CHECK(m["summary"] == "pool exhaustion");              // Bob's field
  CHECK(m["content"] == "Alice: raise the connect timeout");  // the later edit
  REQUIRE(m["open_conflicts"].size() == 1);
  auto shown = bob.Cli({"-w", w.team, "memory", "get", id});
  CHECK(shown.out.find("1 open conflict") != std::string::npos);

  // `conflicts list` shows Bob's losing text; `resolve --keep mine` restores it.
  auto list = bob.Cli({"-w", w.team, "conflicts", "list"});
  REQUIRE(list.exit_code == 0);
  CHECK(list.out.find("Bob: cap the pool at 50") != std::string::npos);
  CHECK(list.out.find("content") != std::string::npos);
  json conflicts = bob.CliJson({"-w", w.team, "conflicts", "list"});
  REQUIRE(conflicts.size() == 1);
  std::string cid = conflicts[0]["id"];
  auto show = bob.Cli({"-w", w.team, "conflicts", "show", cid.substr(0, 13)});
  CHECK(show.out.find("Bob: cap the pool at 50") != std::string::npos);
  CHECK(show.out.find("Alice: raise the connect timeout") != std::string::npos);
  auto resolved = bob.Cli({"-w", w.team, "conflicts", "resolve", cid.substr(0, 13), "--keep", "mine"});
  REQUIRE_MESSAGE(resolved.exit_code == 0, resolved.err);
  CHECK(resolved.out.find("Bob: cap the pool at 50") != std::string::npos);
  CHECK(bob.CliJson({"-w", w.team, "memory", "get", id})["content"] == "Bob: cap the pool at 50");
  CHECK(bob.CliJson({"-w", w.team, "conflicts", "list"}).empty());
  // Alice's agent brings the restored text and the resolution to her replica.
  REQUIRE(alice.WaitCursor(w.team, w.http->Get("/api/v1/workspaces/" + w.team, w.alice.token).body["head_seq"]));
  json seen = alice.CliJson({"-w", w.team, "memory", "get", id});
  CHECK(seen["content"] == "Bob: cap the pool at 50");
  CHECK(seen["open_conflicts"].empty());
  // Resolved once is resolved.
  CHECK(alice.Cli({"-w", w.team, "conflicts", "resolve", cid, "--keep", "current"}).exit_code == 6);
}

TEST_CASE("conflicts resolve --edit opens the editor on both values and keeps what is saved") {
  World w;
  Machine alice(w.url(), w.alice);
  std::string id = w.NewMemory("Edit me")["id"];
  REQUIRE(w.http->Patch(w.Mem(id), {{"base_version", 1}, {"title", "Bob's title"}}, w.bob.token).status == 200);
  auto a = w.http->Patch(w.Mem(id), {{"base_version", 1}, {"title", "Alice's title"}, {"edited_at", "2020-01-01T00:00:00.000Z"}},
                         w.alice.token);
  REQUIRE(a.body["conflicts"].size() == 1);
  std::string cid = a.body["conflicts"][0]["id"];
  // The "editor" keeps the lost line and drops the markers, as a person would.
  TempDir tools;
  std::string editor = tools.path() + "/editor";
  {
    std::ofstream f(editor);
    f << "#!/bin/sh\nsed -i -e '/^<<<<<<< /,/^=======$/d' -e '/^>>>>>>> /d' \"$1\"\n";
  }
  std::filesystem::permissions(editor, std::filesystem::perms::owner_all);
  auto env = alice.Env();
  env["EDITOR"] = editor;
  env["VISUAL"] = "";
  auto r = Run({CliBinary(), "-w", w.team, "conflicts", "resolve", cid, "--edit"}, env);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(w.http->Get(w.Mem(id), w.alice.token).body["title"] == "Alice's title");
  // An editor that leaves the markers in changes nothing.
  REQUIRE(w.http->Patch(w.Mem(id), {{"base_version", 3}, {"title", "Third"}}, w.bob.token).status == 200);
  auto again = w.http->Patch(w.Mem(id), {{"base_version", 3}, {"title", "Fourth"}, {"edited_at", "2020-01-01T00:00:00.000Z"}},
                             w.alice.token);
  REQUIRE(again.body["conflicts"].size() == 1);
  env["EDITOR"] = "true";
  auto markers = Run({CliBinary(), "-w", w.team, "conflicts", "resolve",
                      again.body["conflicts"][0]["id"].get<std::string>(), "--edit"}, env);
  CHECK(markers.exit_code == 1);
  CHECK(markers.err.find("<<<<<<<") != std::string::npos);
  CHECK(w.http->Get(w.Mem(id), w.alice.token).body["title"] == "Third");
}

// ---- randomized: three replicas, concurrent edits, offline periods ------------------

namespace {

// One client: its own replica file and API client, online or not.
struct Client {
  TestUser user;
  TempDir dir;
  std::unique_ptr<agent::Replica> replica;
  std::unique_ptr<ApiClient> api;
  bool online = true;

  Client(const std::string& url, const TestUser& u) : user(u) {
    auto r = agent::Replica::Open(dir.path() + "/replica.db");
    REQUIRE(r.ok());
    replica = std::move(r).value();
    REQUIRE(replica->Bind(url, u.id).ok());
    api = std::make_unique<ApiClient>(*ParseServerUrl(url));
    api->set_token(u.token);
  }
  void Sync(const std::string& ws) {
    if (!online) return;
    agent::FlushResult f = agent::Flush(*api, *replica, ws, false);
    REQUIRE_MESSAGE(f.blocked.ok(), f.blocked.ToString());
    REQUIRE_MESSAGE(f.failed == 0, f.refused.ToString());
    Status s = agent::CatchUp(*api, *replica, ws);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
};

// A value a client typed: memory, field (or "tag:<t>", "context.<k>"), value.
struct Written {
  std::string memory, field;
  json value;
};

}  // namespace

TEST_CASE("randomized: three replicas editing across offline periods converge, and nothing typed is lost") {
  const unsigned seed = 20261125;
  INFO("seed ", seed, " (rerun with the same seed to reproduce)");
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  World w;
  TestUser carol = SignUp(*w.http, "carol");
  AddToTeam(*w.http, w.alice, w.team, carol, "admin");
  std::vector<std::unique_ptr<Client>> clients;
  for (const TestUser* u : {&w.alice, &w.bob, &carol}) clients.push_back(std::make_unique<Client>(w.url(), *u));
  for (auto& c : clients) {
    Workspace ws;
    ws.id = w.team;
    ws.kind = "team";
    ws.name = "Merge";
    ws.slug = "merge";
    REQUIRE(c->replica->RememberWorkspace(ws, "admin").ok());
    c->Sync(w.team);
  }
  std::vector<Written> written;
  // Few memories, so edits collide.
  auto live_count = [&](Client& c) {
    agent::MemoryFilter f;
    f.workspace_id = w.team;
    f.limit = 1000;
    return static_cast<int>(c.replica->ListMemories(f)->size());
  };
  int step = 0;
  for (; step < 400; ++step) {
    Client& c = *clients[static_cast<size_t>(pick(3))];
    int action = pick(100);
    if (action < 12) {
      c.online = !c.online;
    } else if (action < 27) {
      c.Sync(w.team);
    } else if (action < 38 && live_count(c) < 5) {
      Memory m;
      m.title = "memory " + std::to_string(step);
      m.content = "created by " + c.user.name;
      auto made = c.replica->CreateMemory(w.team, m);
      REQUIRE(made.ok());
      written.push_back({made->memory.id, "title", m.title});
    } else {
      agent::MemoryFilter f;
      f.workspace_id = w.team;
      f.limit = 1000;
      auto live = c.replica->ListMemories(f);
      REQUIRE(live.ok());
      if (live->empty()) continue;
      const Memory& m = (*live)[static_cast<size_t>(pick(static_cast<int>(live->size())))].memory;
      if (action < 41) {
        REQUIRE(c.replica->DeleteMemory(w.team, m.id).ok());
        continue;
      }
      MemoryPatch p;
      std::string tag = "s" + std::to_string(step);
      switch (pick(5)) {
        case 0: p.title = c.user.name + " title " + std::to_string(step); break;
        case 1: p.content = c.user.name + " content " + std::to_string(step); break;
        case 2: p.summary = std::optional<std::string>(c.user.name + " summary " + std::to_string(step)); break;
        case 3: {
          std::vector<std::string> tags = m.tags;
          if (!tags.empty() && pick(2)) tags.erase(tags.begin() + pick(static_cast<int>(tags.size())));
          else tags.push_back(tag);
          std::sort(tags.begin(), tags.end());
          p.tags = tags;
          break;
        }
        default: {
          json ctx = m.context;
          ctx["k" + std::to_string(pick(3))] = c.user.name + " " + std::to_string(step);
          p.context = ctx;
        }
      }
      Memory want = m;
      ApplyPatch(want, p);
      for (const std::string& field : MergeableFields()) {
        if (FieldValue(want, field) == FieldValue(m, field)) continue;
        if (field == "tags") {
          for (const auto& t : want.tags)
            if (std::find(m.tags.begin(), m.tags.end(), t) == m.tags.end()) written.push_back({m.id, "tag:" + t, t});
        } else if (field == "context") {
          for (auto it = want.context.begin(); it != want.context.end(); ++it)
            if (!m.context.contains(it.key()) || m.context[it.key()] != it.value())
              written.push_back({m.id, "context." + it.key(), it.value()});
        } else {
          written.push_back({m.id, field, FieldValue(want, field)});
        }
      }
      REQUIRE(c.replica->UpdateMemory(w.team, m.id, p).ok());
    }
  }
  // Everyone comes back; two rounds bring every write everywhere.
  for (int round = 0; round < 2; ++round)
    for (auto& c : clients) {
      c->online = true;
      c->Sync(w.team);
    }

  // 1. Every replica equals the server, memory for memory (tombstones too).
  std::map<std::string, json> server;
  for (std::string after;;) {
    auto page = w.http->Get(w.Mem() + "?include_deleted=true&limit=500" + (after.empty() ? "" : "&cursor=" + after),
                            w.alice.token).body;
    for (const auto& m : page["memories"]) server[m["id"]] = m;
    if (!page["next_cursor"].is_string()) break;
    after = page["next_cursor"];
  }
  for (auto& c : clients) {
    agent::MemoryFilter f;
    f.workspace_id = w.team;
    f.include_deleted = true;
    f.limit = 100000;
    auto mine = c->replica->ListMemories(f);
    REQUIRE(mine.ok());
    CHECK(mine->size() == server.size());
    for (const auto& lm : *mine) {
      REQUIRE(server.count(lm.memory.id));
      CHECK_MESSAGE(lm.memory.ToJson() == server[lm.memory.id], c->user.name, " ", lm.memory.id);
      CHECK(lm.sync == agent::SyncState::kSynced);
    }
    CHECK(c->replica->Ops(w.team)->empty());
  }

  // 2. Every value typed is in some state of the memory's history (the log)
  //    or in a conflict record.
  std::map<std::string, std::vector<json>> history;  // memory id -> states
  json events = json::array();
  for (int64_t since = 0;;) {
    auto page = w.http->Get("/api/v1/workspaces/" + w.team + "/events?limit=1000&since=" + std::to_string(since),
                            w.alice.token).body;
    for (const auto& e : page["events"]) events.push_back(e);
    if (page["events"].empty()) break;
    since = page["events"].back()["seq"];
  }
  for (const auto& e : events)
    if (e.contains("memory")) history[e["memory"]["id"]].push_back(e["memory"]);
  std::vector<Conflict> conflicts;
  auto listed = w.http->Get(w.Conflicts("?status=all&limit=500"), w.alice.token);
  REQUIRE_MESSAGE(listed.status == 200, listed.raw);
  for (const auto& j : listed.body["conflicts"])
    conflicts.push_back(*Conflict::FromJson(j));
  int kept_in_conflicts = 0;
  for (const auto& v : written) {
    bool in_history = false;
    for (const auto& s : history[v.memory]) {
      Memory m = *Memory::FromJson(s);
      if (v.field.rfind("tag:", 0) == 0) in_history |= std::find(m.tags.begin(), m.tags.end(), v.value) != m.tags.end();
      else in_history |= FieldValue(m, v.field) == v.value;
    }
    bool in_conflict = false;
    for (const auto& c : conflicts) {
      if (c.memory_id != v.memory) continue;
      if (c.kind == "field" && c.field == v.field && c.lost == v.value) in_conflict = true;
      if (c.kind == "update_after_delete") {
        std::string key = v.field.rfind("tag:", 0) == 0 ? "tags" : v.field.rfind("context.", 0) == 0 ? "context" : v.field;
        if (c.lost.contains(key)) in_conflict = true;
      }
    }
    kept_in_conflicts += !in_history && in_conflict;
    if (!in_history && !in_conflict) {
      std::string trail;
      for (const auto& e : events)
        if (e.contains("memory") && e["memory"]["id"] == v.memory)
          trail += "\n  #" + std::to_string(e["seq"].get<int64_t>()) + " " + e["type"].get<std::string>() + " v" +
                   std::to_string(e["memory"]["version"].get<int64_t>()) + " base " + e.value("base_version", json()).dump() +
                   " title " + e["memory"]["title"].dump() + " by " + e.value("actor_name", "") + " changed " + e.value("changed", json()).dump() + " merge " + e.value("merge", json()).dump() + " at " + e.value("edited_at", json()).dump();
      FAIL_CHECK("lost without a record: " << v.memory << " " << v.field << " = " << v.value.dump() << trail);
    }
  }
  // 3. No value was replaced by an edit that never saw it without a record:
  //    walking each memory's log, a field set at version w and replaced by an
  //    update based on an older version must have a conflict naming it.
  for (const auto& e : events) {
    if (e["type"] != "memory_updated") continue;
    const std::string id = e["memory"]["id"];
    const auto& states = history[id];
    int64_t version = e["memory"]["version"], base = e.value("base_version", version - 1);
    json before;
    for (const auto& s : states)
      if (s["version"] == version - 1) before = s;
    if (before.is_null() || base >= version - 1) continue;  // based on the latest: nothing unseen
    Memory prev = *Memory::FromJson(before), next = *Memory::FromJson(e["memory"]);
    for (const std::string field : {"type", "title", "content", "summary", "importance", "confidence"}) {
      if (FieldValue(prev, field) == FieldValue(next, field)) continue;
      // When was the replaced value set?
      int64_t set_at = 1;
      for (const auto& s : states)
        if (s["version"] <= version - 1 && FieldValue(*Memory::FromJson(s), field) != FieldValue(prev, field))
          set_at = s["version"].get<int64_t>() + 1;
      if (set_at <= base) continue;  // the editor saw it
      bool recorded = false;
      for (const auto& c : conflicts)
        recorded |= c.memory_id == id && c.field == field && c.seq == e["seq"] && c.lost == FieldValue(prev, field);
      CHECK_MESSAGE(recorded, "seq ", e["seq"].get<int64_t>(), ": ", field, " of ", id, " replaced unseen, no record");
    }
    for (const auto& t : prev.tags)  // set merge: only removals of seen tags
      if (std::find(next.tags.begin(), next.tags.end(), t) == next.tags.end()) {
        int64_t added_at = 1;
        for (const auto& s : states) {
          Memory m = *Memory::FromJson(s);
          if (m.version <= version - 1 && std::find(m.tags.begin(), m.tags.end(), t) == m.tags.end())
            added_at = m.version + 1;
        }
        CHECK_MESSAGE(added_at <= base, "seq ", e["seq"].get<int64_t>(), ": tag ", t, " removed unseen");
      }
  }
  MESSAGE(written.size(), " values typed, ", conflicts.size(), " conflict records, ", kept_in_conflicts,
          " values only in conflicts, ", events.size(), " events");
  CHECK(written.size() > 100);
  CHECK(conflicts.size() > 0);  // the run exercised the merge
}
