// agent_bench: the replica and agent benchmarks of docs/performance.md (not
// tests). Prints one JSON summary.
//
//   sync     initial sync of N memories by a fresh mgteam-agent (server pinned
//            to CPU 0, agent to CPU 1), then `search` latency over them
//   apply    event apply throughput of the replica, batches as the agent's
//            catch-up applies them
//   e2e      a write on machine A (local write + agent nudge, as the CLI does)
//            until it is in machine B's replica, through both agents
//
//   agent_bench --scenario sync --memories 100000
#include "auth.h"
#include "domain/accounts.h"
#include "domain/memories.h"
#include "domain/workspaces.h"
#include "local_api.h"
#include "replica.h"
#include "store/sqlite_store.h"

#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "mgteam/sql_rows.h"

#include <CLI/CLI.hpp>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

using namespace mgteam;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

// A step that fails makes every figure after it meaningless: stop there.
void Must(const Status& s, const std::string& what) {
  if (!s.ok()) throw std::runtime_error(what + ": " + s.ToString());
}
template <class T>
T Must(Result<T> r, const std::string& what) {
  Must(r.status(), what);
  return std::move(r).value();
}

void Pin(pid_t pid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(pid, sizeof set, &set);
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

json Percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double p) { return v.empty() ? 0.0 : v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))]; };
  return {{"count", v.size()}, {"p50", at(0.5)}, {"p90", at(0.9)}, {"p99", at(0.99)}, {"max", v.empty() ? 0.0 : v.back()}};
}

// Spawns `args` with `env` added, pinned to `cpu`; waits for a line on fd 3.
pid_t SpawnReady(std::vector<std::string> args, const std::map<std::string, std::string>& env, int cpu,
                 std::string* line) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  args.push_back("--ready-fd");
  args.push_back("3");
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) envs.emplace_back(*e);
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, ready[1], 3);
  pid_t pid;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data()) != 0) throw std::runtime_error("spawn " + args[0]);
  posix_spawn_file_actions_destroy(&fa);
  ::close(ready[1]);
  Pin(pid, cpu);
  char buf[64] = {0};
  pollfd p{ready[0], POLLIN, 0};
  ssize_t n = ::poll(&p, 1, 60000) > 0 ? ::read(ready[0], buf, sizeof buf - 1) : 0;
  ::close(ready[0]);
  if (n <= 0) throw std::runtime_error(args[0] + " did not start");
  if (line) *line = buf;
  return pid;
}

void Stop(pid_t pid) {
  ::kill(pid, SIGTERM);
  int st;
  ::waitpid(pid, &st, 0);
}

struct Home {
  std::string dir;
  std::map<std::string, std::string> env;
  explicit Home(const std::string& base, const std::string& token) : dir(base) {
    env = {{"XDG_CONFIG_HOME", dir + "/config"}, {"XDG_DATA_HOME", dir + "/data"}, {"XDG_STATE_HOME", dir + "/state"},
           {"XDG_RUNTIME_DIR", dir + "/run"},    {"MGTEAM_TOKEN", token}};
  }
  std::string Socket() const { return dir + "/run/mgteam/agent.sock"; }
  std::string Replica(int port) const { return dir + "/data/mgteam/127.0.0.1_" + std::to_string(port) + ".db"; }
};

// Builds a server database: one owner, one member, one team of `n` memories.
struct Seed {
  std::string team, owner_email = "owner@example.com", member_email = "member@example.com";
};
Seed BuildServerData(const std::string& dir, int n) {
  std::filesystem::create_directories(dir);
  if (!server::InitCrypto().ok()) throw std::runtime_error("crypto");
  auto store = server::SqliteStore::Open(dir + "/mgteam.db");
  if (!store.ok()) throw std::runtime_error(store.status().ToString());
  Seed seed;
  auto hash = server::HashPassword("bench-password");
  Status s = (*store)->Write([&](server::Tx& tx) -> Status {
    MG_ASSIGN_OR_RETURN(User owner, server::CreateAccount(tx, {seed.owner_email, seed.owner_email, "Owner", *hash}, true,
                                                          server::SignupGate::kFirstOrOpen));
    MG_ASSIGN_OR_RETURN(User member, server::CreateAccount(tx, {seed.member_email, seed.member_email, "Member", *hash},
                                                           true, server::SignupGate::kFirstOrOpen));
    server::Actor actor{owner.id, owner.name};
    MG_ASSIGN_OR_RETURN(Workspace team, server::CreateTeam(tx, actor, "Bench", std::nullopt));
    seed.team = team.id;
    MG_RETURN_IF_ERROR(tx.PutMember(Member{team.id, member.id, "member", NowRfc3339(), member.name, member.email}));
    static const char* kWords[] = {"redis", "timeout", "retry", "pool", "postgres", "index", "cache", "queue",
                                   "deploy", "docker", "kafka", "latency", "memory", "leak", "thread", "lock"};
    for (int i = 0; i < n; ++i) {
      Memory m;
      m.title = std::string(kWords[i % 16]) + " " + kWords[(i / 16) % 16] + " note " + std::to_string(i);
      m.content = "While working on service " + std::to_string(i % 97) + " we found that " + kWords[(i * 7) % 16] +
                  " and " + kWords[(i * 11) % 16] + " interact badly under load; the fix was to tune the " +
                  kWords[(i * 3) % 16] + ".";
      m.tags = {kWords[i % 16], kWords[(i / 3) % 16]};
      MG_RETURN_IF_ERROR(server::CreateMemory(tx, actor, team.id, m).status());
    }
    return Status::Ok();
  });
  if (!s.ok()) throw std::runtime_error(s.ToString());
  return seed;
}

std::string Login(int port, const std::string& email) {
  httplib::Client http("127.0.0.1", port);
  auto r = http.Post("/api/v1/auth/login", json{{"email", email}, {"password", "bench-password"}}.dump(), "application/json");
  if (!r || r->status != 200) throw std::runtime_error("login failed");
  return json::parse(r->body)["token"];
}

int64_t Head(int port, const std::string& token, const std::string& ws) {
  httplib::Client http("127.0.0.1", port);
  auto r = http.Get(("/api/v1/workspaces/" + ws).c_str(), {{"Authorization", "Bearer " + token}});
  return json::parse(r->body)["head_seq"];
}

json SyncScenario(const std::string& server_bin, const std::string& agent_bin, int n) {
  char tmpl[] = "/tmp/mgteam-agent-bench-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  auto seeded_at = Clock::now();
  Seed seed = BuildServerData(root + "/server", n);
  json out = {{"memories", n}, {"seed_seconds", Ms(Clock::now() - seeded_at) / 1000}};
  std::string port_line;
  pid_t server = SpawnReady({server_bin, "--listen", "127.0.0.1:0", "--data-dir", root + "/server", "--log-level", "warn"}, {},
                            0, &port_line);
  int port = std::atoi(port_line.c_str());
  std::string token = Login(port, seed.member_email);
  Home home(root + "/member", token);
  std::filesystem::create_directories(home.dir);
  auto t0 = Clock::now();
  pid_t agent = SpawnReady({agent_bin, "--server", "http://127.0.0.1:" + std::to_string(port), "--log-level", "warn"},
                           home.env, 1, nullptr);
  agent::LocalApiClient api(home.Socket());
  auto met = api.Wait(seed.team, "cursor", Head(port, token, seed.team), std::chrono::seconds(300));
  out["initial_sync_seconds"] = Ms(Clock::now() - t0) / 1000;
  out["synced"] = met.ok() && *met;
  Stop(agent);
  Stop(server);

  // Search over the synced replica, as `mgteam memory search` runs it.
  auto replica = agent::Replica::Open(home.Replica(port));
  if (!replica.ok()) throw std::runtime_error(replica.status().ToString());
  out["replica_memories"] = *(*replica)->CountMemories(seed.team);
  std::vector<std::string> queries = {"redis timeout", "pool", "docker lock", "kafka lat", "memory leak thread",
                                      "postgres index", "cache", "deploy queue", "retry", "note 4242"};
  std::vector<double> ms;
  for (int round = 0; round < 20; ++round)
    for (const auto& q : queries) {
      auto t = Clock::now();
      auto hits = (*replica)->Search(seed.team, q, 20);
      ms.push_back(Ms(Clock::now() - t));
      if (!hits.ok()) throw std::runtime_error(hits.status().ToString());
    }
  out["search_ms"] = Percentiles(ms);
  std::filesystem::remove_all(root);
  return out;
}

json ApplyScenario(int n) {
  char tmpl[] = "/tmp/mgteam-apply-bench-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  auto replica = agent::Replica::Open(root + "/replica.db");
  std::string ws = NewUuidV7(), user = NewUuidV7();
  Must((*replica)->Bind("http://bench", user), "bind the replica");
  Workspace w;
  w.id = ws;
  w.name = "bench";
  w.slug = "bench";
  w.kind = "team";
  Must((*replica)->RememberWorkspace(w, "member"), "add the workspace");
  Must((*replica)->BeginSnapshot(ws), "begin the snapshot");
  Must((*replica)->FinishSnapshot(ws, 0, "e"), "finish the snapshot");
  // n events: 80% creates, 20% updates of earlier memories, in log order,
  // as pages of 1000 the way GET .../events sends them. Built page by page so
  // the setup leaves no fragmented heap behind to slow the timed part.
  struct Made {
    std::string id;
    int64_t version;
  };
  std::vector<Made> made;
  std::vector<std::string> pages;
  const std::string now = NowRfc3339();
  for (int first = 1; first <= n; first += 1000) {
    json page = {{"events", json::array()}};
    for (int i = first; i < first + 1000 && i <= n; ++i) {
      Memory m;
      m.workspace_id = ws;
      m.content = "body of memory " + std::to_string(i) + " with some words about redis and timeouts";
      m.tags = {"bench"};
      m.created_by = m.updated_by = user;
      m.created_at = m.updated_at = now;
      Event e;
      e.workspace_id = ws;
      e.seq = i;
      if (i % 5 != 0 || made.empty()) {
        made.push_back({NewUuidV7(), 1});
        m.id = made.back().id;
        m.version = 1;
        m.title = "event memory " + std::to_string(i);
        e.type = "memory_created";
      } else {
        Made& earlier = made[static_cast<size_t>(i) % made.size()];
        m.id = earlier.id;
        m.version = ++earlier.version;
        m.title = "event memory edited at " + std::to_string(i);
        e.type = "memory_updated";
      }
      e.entity_type = "memory";
      e.entity_id = m.id;
      e.entity = m.ToJson();
      page["events"].push_back(e.ToJson());
    }
    pages.push_back(page.dump());
  }
  made.clear();
  made.shrink_to_fit();
  auto t0 = Clock::now();
  Clock::duration parsing{};
  for (const auto& text : pages) {
    auto p0 = Clock::now();
    json page = json::parse(text);
    std::vector<Event> batch;
    batch.reserve(1000);
    for (auto& e : page["events"])
      if (auto ev = Event::FromJson(std::move(e))) batch.push_back(std::move(*ev));
    parsing += Clock::now() - p0;
    auto r = (*replica)->ApplyEvents(ws, batch);
    if (!r.ok()) throw std::runtime_error(r.status().ToString());
  }
  double secs = Ms(Clock::now() - t0) / 1000;
  json out = {{"events", n}, {"seconds", secs}, {"events_per_second", n / secs}, {"batch", 1000},
              {"parse_seconds", Ms(parsing) / 1000}};
  std::filesystem::remove_all(root);
  return out;
}

json EndToEndScenario(const std::string& server_bin, const std::string& agent_bin, int writes) {
  char tmpl[] = "/tmp/mgteam-e2e-bench-XXXXXX";
  std::string root = ::mkdtemp(tmpl);
  Seed seed = BuildServerData(root + "/server", 0);
  std::string port_line;
  pid_t server = SpawnReady({server_bin, "--listen", "127.0.0.1:0", "--data-dir", root + "/server", "--log-level", "warn"}, {},
                            0, &port_line);
  int port = std::atoi(port_line.c_str());
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  Home a(root + "/a", Login(port, seed.owner_email)), b(root + "/b", Login(port, seed.member_email));
  pid_t agent_a = SpawnReady({agent_bin, "--server", url, "--log-level", "warn"}, a.env, 1, nullptr);
  pid_t agent_b = SpawnReady({agent_bin, "--server", url, "--log-level", "warn"}, b.env, 1, nullptr);
  agent::LocalApiClient api_a(a.Socket()), api_b(b.Socket());
  int64_t head = Head(port, Login(port, seed.owner_email), seed.team);
  for (auto* api : {&api_a, &api_b})
    if (!Must(api->Wait(seed.team, "cursor", head, std::chrono::seconds(30)), "wait for the agent"))
      throw std::runtime_error("an agent did not catch up within 30 s");
  auto replica_a = agent::Replica::Open(a.Replica(port));
  auto replica_b = sql::Db::Open(b.Replica(port), false, 15000);
  if (!replica_a.ok() || !replica_b.ok()) throw std::runtime_error("replicas");
  std::vector<double> ms;
  int lost = 0;
  for (int i = 0; i < writes; ++i) {
    Memory m;
    m.title = "e2e " + std::to_string(i);
    auto t0 = Clock::now();
    auto local = Must((*replica_a)->CreateMemory(seed.team, m), "create");  // what `mgteam memory add` does...
    Must(api_a.Flush(), "nudge the agent");                                  // ...then it nudges the agent
    bool seen = false;
    while (!seen && Clock::now() - t0 < std::chrono::seconds(5)) {
      // Polling B's replica file is how this benchmark observes it; 0.2 ms steps.
      auto q = replica_b->Prepared("SELECT 1 FROM memories WHERE id = ? AND server IS NOT NULL");
      q.value()->BindAll(local.memory.id);
      seen = q.value()->Step();
      if (!seen) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (seen) ms.push_back(Ms(Clock::now() - t0));
    else ++lost;
  }
  json out = {{"writes", writes}, {"not_seen_within_5s", lost}, {"write_to_visible_in_b_ms", Percentiles(ms)}};
  Stop(agent_a);
  Stop(agent_b);
  Stop(server);
  std::filesystem::remove_all(root);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string scenario = "all", server_bin = "build/server/mgteam-server", agent_bin = "build/agent/mgteam-agent";
  int memories = 100000, events = 100000, writes = 300;
  CLI::App app{"mgteam replica and agent benchmark"};
  app.add_option("--scenario", scenario)->check(CLI::IsMember({"all", "sync", "apply", "e2e"}));
  app.add_option("--server", server_bin);
  app.add_option("--agent", agent_bin);
  app.add_option("--memories", memories, "sync: memories in the workspace");
  app.add_option("--events", events, "apply: events to apply");
  app.add_option("--writes", writes, "e2e: writes to time");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  json out;
  try {
    if (scenario == "all" || scenario == "sync") out["sync"] = SyncScenario(server_bin, agent_bin, memories);
    if (scenario == "all" || scenario == "apply") out["apply"] = ApplyScenario(events);
    if (scenario == "all" || scenario == "e2e") out["e2e"] = EndToEndScenario(server_bin, agent_bin, writes);
  } catch (const std::exception& e) {
    out["error"] = e.what();
  }
  std::cout << out.dump(2) << std::endl;
  return out.contains("error") ? 1 : 0;
}
