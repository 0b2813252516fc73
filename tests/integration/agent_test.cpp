// mgteam-agent and the local-first CLI: real server, real agents with
// separate homes ("machines") on loopback.
#include "auth.h"
#include "domain/accounts.h"
#include "domain/memories.h"
#include "domain/workspaces.h"
#include "http.h"
#include "machine.h"
#include "process.h"
#include "replica.h"
#include "store/sqlite_store.h"

#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

using namespace mgteam;
using namespace mgteam::test;
using namespace std::chrono_literals;

namespace {

struct World : TeamServer {
  World() : TeamServer("Sync") {}
  // Titles of the team's live memories on the server, with repeats.
  std::multiset<std::string> ServerTitles() {
    std::multiset<std::string> out;
    std::string after;
    while (true) {
      auto page = http->Get("/api/v1/workspaces/" + team + "/snapshot?limit=5000&after=" + after, alice.token).body;
      for (const auto& m : page["items"]) out.insert(m["title"].get<std::string>());
      if (!page["next_after"].is_string()) break;
      after = page["next_after"];
    }
    return out;
  }
  // How many memory_created events the log holds for `title`.
  int CreatedEvents(const std::string& title) {
    int n = 0;
    int64_t since = 0;
    while (true) {
      auto page = http->Get("/api/v1/workspaces/" + team + "/events?limit=1000&since=" + std::to_string(since),
                            alice.token).body;
      if (page["events"].empty()) break;
      for (const auto& e : page["events"]) {
        if (e["type"] == "memory_created" && e["memory"]["title"] == title) ++n;
        since = e["seq"];
      }
    }
    return n;
  }
};

std::set<std::string> Titles(const json& list) {
  std::set<std::string> out;
  for (const auto& m : list) out.insert(m["title"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("a memory written on one machine appears in a teammate's replica without any sync command") {
  World w;
  Machine a(w.url(), w.alice), b(w.url(), w.bob);
  a.StartAgent();
  b.StartAgent();
  auto added = a.Cli({"-w", w.team, "memory", "add", "Fixed Redis timeout", "--type", "solution", "--wait", "-q"});
  REQUIRE_MESSAGE(added.exit_code == 0, added.err);
  REQUIRE(b.WaitCursor(w.team, w.Head()));
  json seen = b.CliJson({"-w", w.team, "memory", "list"});
  REQUIRE(seen.size() == 1);
  CHECK(seen[0]["title"] == "Fixed Redis timeout");
  CHECK(seen[0]["sync_state"] == "synced");
  CHECK(seen[0]["id"].get<std::string>() + "\n" == added.out);  // the id minted on machine a
  json status = b.CliJson({"sync", "status"});
  CHECK(status["agent"]["running"] == true);
  bool live = false;
  for (const auto& ws : status["workspaces"])
    if (ws["id"] == w.team) live = ws["connected"].get<bool>() && ws["cursor"] == ws["head_seq"];
  CHECK(live);
}

TEST_CASE("offline writes stay readable and searchable, then arrive exactly once when the server returns") {
  World w;
  Machine a(w.url(), w.alice), b(w.url(), w.bob);
  a.StartAgent();
  b.StartAgent();
  REQUIRE(a.WaitCursor(w.team, w.Head()));
  w.StopServer();
  for (const char* title : {"Offline fix one", "Offline fix two"}) {
    auto r = a.Cli({"-w", w.team, "memory", "add", title, "--content", "connection pool tuning"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out.find("not yet on the server") != std::string::npos);
  }
  json local = a.CliJson({"-w", w.team, "memory", "list"});
  CHECK(Titles(local) == std::set<std::string>{"Offline fix one", "Offline fix two"});
  for (const auto& m : local) CHECK(m["sync_state"] == "pending");
  json found = a.CliJson({"-w", w.team, "memory", "search", "pool tun"});
  CHECK(found.size() == 2);
  json status = a.CliJson({"sync", "status"});
  int pending = 0;
  for (const auto& ws : status["workspaces"])
    if (ws["id"] == w.team) pending = ws["pending"];
  CHECK(pending == 2);

  w.StartServer();
  REQUIRE(a.WaitSettled(w.team));
  REQUIRE(b.WaitCursor(w.team, w.Head()));
  CHECK(Titles(b.CliJson({"-w", w.team, "memory", "list"})) == std::set<std::string>{"Offline fix one", "Offline fix two"});
  CHECK(w.CreatedEvents("Offline fix one") == 1);
  CHECK(w.CreatedEvents("Offline fix two") == 1);
  for (const auto& m : a.CliJson({"-w", w.team, "memory", "list"})) CHECK(m["sync_state"] == "synced");
}

TEST_CASE("offline, online, offline again: every write arrives once and in order") {
  World w;
  Machine a(w.url(), w.alice);
  a.StartAgent();
  REQUIRE(a.WaitCursor(w.team, w.Head()));  // a local copy before going offline
  std::vector<std::string> written;
  for (int cycle = 0; cycle < 3; ++cycle) {
    w.StopServer();
    for (int i = 0; i < 3; ++i) {
      written.push_back("cycle " + std::to_string(cycle) + " note " + std::to_string(i));
      REQUIRE(a.Cli({"-w", w.team, "memory", "add", written.back()}).exit_code == 0);
    }
    w.StartServer();
    REQUIRE(a.WaitSettled(w.team));
  }
  auto titles = w.ServerTitles();
  CHECK(titles.size() == written.size());
  for (const auto& t : written) CHECK(titles.count(t) == 1);
  // The log saw them in the order they were written on the machine.
  auto events = w.http->Get("/api/v1/workspaces/" + w.team + "/events?limit=1000", w.alice.token).body["events"];
  std::vector<std::string> order;
  for (const auto& e : events)
    if (e["type"] == "memory_created") order.push_back(e["memory"]["title"]);
  CHECK(order == written);
}

// Carol, a member, writes `title` while the server is down (queued, exit 7);
// the owner lowers her to viewer before her agent delivers it, so the server
// refuses it when it arrives. (A write the replica already knows a viewer
// cannot make is refused up front: exit 4, nothing queued.)
void QueueThenLowerToViewer(World& w, Machine& c, const TestUser& carol, const std::string& title) {
  c.StartAgent();
  REQUIRE(c.WaitCursor(w.team, w.Head()));
  c.StopAgent();
  w.StopServer();
  REQUIRE(c.Cli({"-w", w.team, "memory", "add", title}).exit_code == 7);
  w.StartServer();
  REQUIRE(w.http->Patch("/api/v1/teams/" + w.team + "/members/" + carol.id, {{"role", "viewer"}}, w.alice.token)
              .status == 200);
  c.StartAgent();
  REQUIRE(c.WaitSettled(w.team));
}

TEST_CASE("a write refused by the server is reported and not retried forever") {
  World w;
  TestUser carol = SignUp(*w.http, "carol");
  AddToTeam(*w.http, w.alice, w.team, carol, "member");
  Machine c(w.url(), carol);
  QueueThenLowerToViewer(w, c, carol, "viewers cannot write");
  // Now that the replica knows she is a viewer, it refuses up front.
  auto again = c.Cli({"-w", w.team, "memory", "add", "still a viewer"});
  CHECK(again.exit_code == 4);
  CHECK(again.err.find("viewer") != std::string::npos);
  json status = c.CliJson({"sync", "status"});
  REQUIRE(status["ops_with_problems"].size() == 1);
  CHECK(status["ops_with_problems"][0]["state"] == "failed");
  CHECK(status["ops_with_problems"][0]["last_error"].get<std::string>().find("memory.write") != std::string::npos);
  CHECK(c.CliJson({"-w", w.team, "memory", "list"}).empty());  // out of the local view
  // Nudged again, it is not resent: still one attempt.
  REQUIRE(c.Cli({"sync", "now"}).exit_code == 0);
  REQUIRE(c.WaitSettled(w.team));
  CHECK(c.CliJson({"sync", "status"})["ops_with_problems"][0]["attempts"] == 1);
  CHECK(w.ServerTitles().empty());
  // Promoted, the user retries it and it goes through.
  REQUIRE(w.http->Patch("/api/v1/teams/" + w.team + "/members/" + carol.id, {{"role", "member"}}, w.alice.token).status == 200);
  REQUIRE(c.Cli({"sync", "retry"}).exit_code == 0);
  REQUIRE(c.WaitSettled(w.team));
  CHECK(w.ServerTitles().count("viewers cannot write") == 1);
}

TEST_CASE("a refused write can be discarded, and only refused writes can") {
  World w;
  TestUser carol = SignUp(*w.http, "carol");
  AddToTeam(*w.http, w.alice, w.team, carol, "member");
  Machine c(w.url(), carol);
  QueueThenLowerToViewer(w, c, carol, "never mind");
  json status = c.CliJson({"sync", "status"});
  REQUIRE(status["ops_with_problems"].size() == 1);
  auto unknown = c.Cli({"sync", "discard", "01a2124c-a21f-739f-0000-000000000000"});
  CHECK(unknown.exit_code == 5);
  CHECK(c.CliJson({"sync", "status"})["ops_with_problems"].size() == 1);
  auto r = c.Cli({"sync", "discard", status["ops_with_problems"][0]["op_id"].get<std::string>()});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("1 refused write(s) discarded") != std::string::npos);
  status = c.CliJson({"sync", "status"});
  CHECK(status["ops_with_problems"].empty());
  for (const auto& ws : status["workspaces"]) CHECK(ws["failed"] == 0);
  CHECK(c.CliJson({"-w", w.team, "memory", "list"}).empty());
}

TEST_CASE("kill -9 of the agent while it applies events loses nothing and applies nothing twice") {
  World w;
  Machine b(w.url(), w.bob);
  b.StartAgent();
  REQUIRE(b.WaitCursor(w.team, w.Head()));
  int64_t start = w.Head();
  auto writer = std::async(std::launch::async, [&] {
    Http mine(w.server->port());
    for (int i = 0; i < 1500; ++i) AddMemory(mine, w.alice, w.team, "burst " + std::to_string(i));
  });
  REQUIRE(b.WaitCursor(w.team, start + 300, 60s));
  b.StopAgent(/*kill9=*/true);
  writer.get();
  b.StartAgent();
  int64_t head = w.Head();
  REQUIRE(b.WaitCursor(w.team, head, 60s));
  auto replica = agent::Replica::Open(b.ReplicaFile());
  REQUIRE(replica.ok());
  CHECK((*replica)->FindWorkspace(w.team).value()->cursor == head);
  CHECK(*(*replica)->CountMemories(w.team) == 1500);
  agent::MemoryFilter f;
  f.workspace_id = w.team;
  f.limit = 100000;
  auto rows = (*replica)->ListMemories(f);
  REQUIRE(rows.ok());
  std::multiset<std::string> local;
  for (const auto& m : *rows) local.insert(m.memory.title);
  CHECK(local == w.ServerTitles());
}

TEST_CASE("kill -9 of the agent while it flushes sends every queued write exactly once") {
  World w;
  Machine a(w.url(), w.alice);
  REQUIRE(a.CliJson({"-w", w.team, "memory", "list"}).empty());  // a local copy exists
  int64_t before = w.Head();
  w.StopServer();
  for (int i = 0; i < 150; ++i)
    REQUIRE(a.Cli({"-w", w.team, "memory", "add", "queued " + std::to_string(i)}).exit_code == 7);
  w.StartServer();
  a.StartAgent();
  // Kill it as soon as the server's log shows the flush under way
  // (long-polling the log forward, event by event).
  int64_t seen = before;
  while (seen < before + 20) {
    auto page = w.http->Get("/api/v1/workspaces/" + w.team + "/events?wait=30&since=" + std::to_string(seen),
                            w.alice.token);
    REQUIRE_FALSE(page.body["events"].empty());
    seen = page.body["events"].back()["seq"];
  }
  a.StopAgent(/*kill9=*/true);
  CHECK(w.Head() < before + 150);  // it really was mid-flush
  a.StartAgent();
  REQUIRE(a.WaitSettled(w.team, 60s));
  auto titles = w.ServerTitles();
  CHECK(titles.size() == 150);
  for (int i = 0; i < 150; ++i) CHECK(titles.count("queued " + std::to_string(i)) == 1);
  CHECK(w.Head() == before + 150);  // no event for a duplicate either
}

TEST_CASE("the same user on two machines sees one machine's writes on the other") {
  World w;
  Machine laptop(w.url(), w.alice), desktop(w.url(), w.alice);
  laptop.StartAgent();
  desktop.StartAgent();
  REQUIRE(laptop.Cli({"-w", w.team, "memory", "add", "from the laptop", "--wait"}).exit_code == 0);
  REQUIRE(laptop.Cli({"memory", "add", "personal note", "--wait"}).exit_code == 0);
  REQUIRE(desktop.WaitCursor(w.team, w.Head()));
  CHECK(Titles(desktop.CliJson({"-w", w.team, "memory", "list"})) == std::set<std::string>{"from the laptop"});
  std::string personal = w.alice.personal_ws;
  int64_t head = w.http->Get("/api/v1/workspaces/" + personal, w.alice.token).body["head_seq"];
  REQUIRE(desktop.WaitCursor(personal, head));
  CHECK(Titles(desktop.CliJson({"memory", "list"})) == std::set<std::string>{"personal note"});
}

TEST_CASE("removal from a team purges that workspace from the member's disk") {
  World w;
  Machine b(w.url(), w.bob);
  b.StartAgent();
  REQUIRE(w.http->Post("/api/v1/workspaces/" + w.team + "/memories", {{"title", "team secret"}}, w.alice.token).status == 201);
  REQUIRE(b.WaitCursor(w.team, w.Head()));
  REQUIRE(b.CliJson({"-w", w.team, "memory", "list"}).size() == 1);
  REQUIRE(w.http->Delete("/api/v1/teams/" + w.team + "/members/" + w.bob.id, w.alice.token).status == 200);
  REQUIRE(b.WaitGone(w.team));
  auto replica = agent::Replica::Open(b.ReplicaFile());
  REQUIRE(replica.ok());
  CHECK_FALSE(*(*replica)->FindWorkspace(w.team));
  CHECK(*(*replica)->CountMemories(w.team) == 0);
  CHECK((*replica)->Search(w.team, "secret", 10)->empty());
  CHECK(b.Cli({"-w", w.team, "memory", "list"}).exit_code == 5);
}

TEST_CASE("one agent per user: a second refuses, a stale socket from a crash is replaced") {
  World w;
  Machine a(w.url(), w.alice);
  a.StartAgent();
  auto second = Run({AgentBinary(), "--server", w.url()}, a.Env());
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("already running") != std::string::npos);
  a.StopAgent(/*kill9=*/true);
  CHECK(std::filesystem::exists(a.home() + "/run/mgteam/agent.sock"));  // left behind
  a.StartAgent();
  CHECK(a.Agent().Running());
  auto status = a.CliJson({"agent", "status"});
  CHECK(status["agent"]["pid"] == a.agent_pid());
}

TEST_CASE("mgteam agent start, stop and install manage the agent process") {
  World w;
  Machine a(w.url(), w.alice);
  auto env = a.Env();
  env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent";  // no user service manager here
  auto start = Run({CliBinary(), "agent", "start"}, env);
  REQUIRE_MESSAGE(start.exit_code == 0, start.err);
  CHECK(a.Agent().Running());
  CHECK(Run({CliBinary(), "agent", "start"}, env).out.find("already running") != std::string::npos);
  REQUIRE(Run({CliBinary(), "agent", "stop"}, env).exit_code == 0);
  CHECK_FALSE(a.Agent().Running());

  auto install = Run({CliBinary(), "agent", "install"}, env);
  REQUIRE_MESSAGE(install.exit_code == 0, install.err);
  std::string unit_path = a.home() + "/config/systemd/user/mgteam-agent.service";
  std::ifstream unit(unit_path);
  std::string text((std::istreambuf_iterator<char>(unit)), {});
  CHECK(text.find("ExecStart=" + std::filesystem::weakly_canonical(AgentBinary()).string()) != std::string::npos);
  CHECK(text.find("@AGENT@") == std::string::npos);
  CHECK(a.Agent().Running());  // started directly: no systemd user session here
  auto logs = Run({CliBinary(), "agent", "logs", "-n", "5"}, env);
  CHECK(logs.out.find("syncing") != std::string::npos);
  REQUIRE(Run({CliBinary(), "agent", "uninstall"}, env).exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(unit_path));
  CHECK_FALSE(a.Agent().Running());
}

TEST_CASE("mgteam agent install copies the unit of an install prefix systemd does not read, and uninstall keeps it") {
  World w;
  Machine a(w.url(), w.alice);
  auto env = a.Env();
  env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent";  // no user service manager here
  // What `cmake --install build --prefix ~/.local` leaves: the CLI in bin/
  // and the agent's unit in lib/systemd/user/, where systemd does not look.
  TempDir temp;
  std::string prefix = std::filesystem::weakly_canonical(temp.path()).string();
  std::filesystem::create_directories(prefix + "/bin");
  std::filesystem::create_directories(prefix + "/lib/systemd/user");
  std::string cli = prefix + "/bin/mgteam";
  std::filesystem::copy_file(CliBinary(), cli);
  std::string installed = prefix + "/lib/systemd/user/mgteam-agent.service";
  std::string installed_text = "# the prefix's unit\n[Service]\nExecStart=" + AgentBinary() + "\n";
  std::ofstream(installed) << installed_text;

  auto install = Run({cli, "agent", "install"}, env);
  REQUIRE_MESSAGE(install.exit_code == 0, install.err);
  std::string copy = a.home() + "/config/systemd/user/mgteam-agent.service";
  std::ifstream in(copy);
  CHECK(std::string((std::istreambuf_iterator<char>(in)), {}) == installed_text);  // not the built-in template
  CHECK_MESSAGE(install.out.find("Wrote " + copy + " (a copy of " + installed + ")") != std::string::npos, install.out);
  CHECK(a.Agent().Running());  // started directly: no systemd user session here

  auto uninstall = Run({cli, "agent", "uninstall"}, env);
  REQUIRE_MESSAGE(uninstall.exit_code == 0, uninstall.err);
  CHECK_FALSE(std::filesystem::exists(copy));
  CHECK(std::filesystem::exists(installed));  // the install's own file stays
  CHECK_FALSE(a.Agent().Running());
}

TEST_CASE("a workspace of 50,000 memories syncs from scratch") {
  TempDir data;
  ServerProcess::Options options;
  options.data_dir = data.path() + "/server";
  std::string team;
  {
    // Build the server's database with the server's own domain code.
    std::filesystem::create_directories(options.data_dir);
    REQUIRE(server::InitCrypto().ok());
    auto store = server::SqliteStore::Open(options.data_dir + "/mgteam.db");
    REQUIRE(store.ok());
    auto hash = server::HashPassword("password-owner");
    REQUIRE((*store)->Write([&](server::Tx& tx) -> Status {
      MG_ASSIGN_OR_RETURN(User u, server::CreateAccount(tx, {"owner@example.com", "owner@example.com", "Owner", *hash},
                                                        false, server::SignupGate::kFirstOrOpen));
      server::Actor actor{u.id, u.name};
      MG_ASSIGN_OR_RETURN(Workspace t, server::CreateTeam(tx, actor, "Big", std::nullopt));
      team = t.id;
      for (int i = 0; i < 50000; ++i) {
        Memory m;
        m.title = "memory " + std::to_string(i);
        m.content = "content of memory number " + std::to_string(i);
        m.tags = {"bulk"};
        MG_RETURN_IF_ERROR(server::CreateMemory(tx, actor, t.id, m).status());
      }
      return Status::Ok();
    }).ok());
  }
  auto server = ServerProcess::Start(options);
  Http http(server->port());
  auto login = http.Post("/api/v1/auth/login", {{"email", "owner@example.com"}, {"password", "password-owner"}});
  REQUIRE(login.status == 200);
  TestUser owner;
  owner.token = login.body["token"];
  Machine m(server->url(), owner);
  auto started = std::chrono::steady_clock::now();
  m.StartAgent();
  int64_t head = http.Get("/api/v1/workspaces/" + team, owner.token).body["head_seq"];
  REQUIRE(m.WaitCursor(team, head, Scaled(std::chrono::seconds(180))));
  MESSAGE("50,000 memories synced in ",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), " s");
  auto replica = agent::Replica::Open(m.ReplicaFile());
  REQUIRE(replica.ok());
  CHECK(*(*replica)->CountMemories(team) == 50000);
  auto hits = (*replica)->Search(team, "memory 4242", 5);
  REQUIRE(hits.ok());
  REQUIRE_FALSE(hits->empty());
  CHECK((*hits)[0].memory.title == "memory 4242");
}

TEST_CASE("writes the replica knows will be refused exit 4 or 6 and queue nothing, with or without --wait") {
  World w;
  TestUser carol = SignUp(*w.http, "carol");
  AddToTeam(*w.http, w.alice, w.team, carol, "viewer");
  json mem = AddMemory(*w.http, w.alice, w.team, "shared note");
  json other = AddMemory(*w.http, w.alice, w.team, "other note");
  const std::string id = mem["id"], id2 = other["id"];
  Machine c(w.url(), carol), b(w.url(), w.bob);  // a viewer and a member
  c.StartAgent();
  b.StartAgent();
  REQUIRE(c.WaitCursor(w.team, w.Head()));
  REQUIRE(b.WaitCursor(w.team, w.Head()));
  auto no_ops = [&](Machine& m) { return m.CliJson({"sync", "status"})["ops_with_problems"].empty(); };
  for (bool wait : {false, true}) {
    std::vector<std::string> extra = wait ? std::vector<std::string>{"--wait"} : std::vector<std::string>{};
    auto with = [&](std::vector<std::string> args) {
      args.insert(args.end(), extra.begin(), extra.end());
      return args;
    };
    CHECK(c.Cli(with({"-w", w.team, "memory", "update", id, "--add-tag", "x"})).exit_code == 4);
    CHECK(c.Cli(with({"-w", w.team, "memory", "add", "viewer's note"})).exit_code == 4);
    auto del = b.Cli(with({"-w", w.team, "memory", "delete", id}));
    CHECK(del.exit_code == 4);
    CHECK(del.err.find("memory.delete") != std::string::npos);
  }
  // The memory is still there for the member, and nothing was queued anywhere.
  CHECK(b.CliJson({"-w", w.team, "memory", "get", id})["deleted"] == false);
  CHECK(no_ops(c));
  CHECK(no_ops(b));
  json status = b.CliJson({"sync", "status"});  // kept: a range-for over a temporary's member dangles
  for (const auto& ws : status["workspaces"]) CHECK(ws["pending"] == 0);
  // A duplicate relationship and an edit of a deleted memory are conflicts.
  REQUIRE(b.Cli({"-w", w.team, "relate", id, id2, "--type", "SOLVES", "--wait"}).exit_code == 0);
  CHECK(b.Cli({"-w", w.team, "relate", id, id2, "--type", "SOLVES", "--wait"}).exit_code == 6);
  REQUIRE(w.http->Delete("/api/v1/workspaces/" + w.team + "/memories/" + id2, w.alice.token).status == 200);
  REQUIRE(b.WaitCursor(w.team, w.Head()));
  CHECK(b.Cli({"-w", w.team, "memory", "update", id2, "--title", "too late"}).exit_code == 6);
  CHECK(no_ops(b));
  CHECK(w.ServerTitles() == std::multiset<std::string>{"shared note"});
}

TEST_CASE("removed from a team, none of its text is left in the replica file or its journal, and logout removes the file") {
  World w;
  Machine b(w.url(), w.bob);
  b.StartAgent();
  const std::string secret = "quokkazanzibar";
  for (int i = 0; i < 20; ++i) AddMemory(*w.http, w.alice, w.team, "the " + secret + " plan " + std::to_string(i));
  REQUIRE(b.WaitCursor(w.team, w.Head()));
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string file = b.ReplicaFile();
  REQUIRE((read(file) + read(file + "-wal")).find(secret) != std::string::npos);
  REQUIRE(w.http->Delete("/api/v1/teams/" + w.team + "/members/" + w.bob.id, w.alice.token).status == 200);
  REQUIRE(b.WaitGone(w.team));
  for (const char* suffix : {"", "-wal", "-shm"})
    CHECK_MESSAGE(read(file + suffix).find(secret) == std::string::npos, "found in " << file << suffix);
  // Logout refuses while a write is pending, then --force stops the agent and removes the file.
  b.StopAgent();
  w.StopServer();
  REQUIRE(b.Cli({"memory", "add", "unsent"}).exit_code == 7);
  w.StartServer();
  auto refused = b.Cli({"logout"});
  CHECK(refused.exit_code == 6);
  CHECK(std::filesystem::exists(file));
  REQUIRE(b.Cli({"logout", "--force"}).exit_code == 0);
  CHECK_FALSE(std::filesystem::exists(file));
  CHECK_FALSE(std::filesystem::exists(file + "-wal"));
}
