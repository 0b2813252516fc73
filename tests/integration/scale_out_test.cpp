// Several mgteam-server instances on one real PostgreSQL, with hints between
// them over LISTEN/NOTIFY or a real redis-server (docs/deploy.md): every
// stream gets every event in order, exactly once, whichever instance took
// the write, and killing Redis, an instance or PostgreSQL loses nothing that
// was acknowledged. And a SQLite server moved to PostgreSQL with `migrate`
// keeps its replicas.
#include "http.h"
#include "machine.h"
#include "peers.h"
#include "replica_check.h"
#include "process.h"
#include "sse_client.h"

#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <set>
#include <thread>

using namespace mgteam::test;
using namespace std::chrono_literals;

namespace {

std::string StreamPath(const std::string& ws) { return "/api/v1/sync/stream?workspace_id=" + ws; }
std::string Mem(const std::string& ws) { return "/api/v1/workspaces/" + ws + "/memories"; }

int64_t Head(Http& http, const TestUser& u, const std::string& ws) {
  return http.Get("/api/v1/workspaces/" + ws, u.token).body["head_seq"].get<int64_t>();
}

// A deployment: one database, `n` instances on it.
struct Cluster {
  std::unique_ptr<PostgresProcess> pg;
  std::unique_ptr<RedisProcess> redis;
  std::string db;
  std::vector<std::unique_ptr<ServerProcess>> servers;

  Cluster(int n, bool with_redis) {
    pg = PostgresProcess::Start();
    REQUIRE(pg);
    db = pg->CreateDatabase("scale_out");
    if (with_redis) {
      redis = RedisProcess::Start();
      REQUIRE(redis);
    }
    for (int i = 0; i < n; ++i) servers.push_back(StartInstance());
  }

  std::unique_ptr<ServerProcess> StartInstance() {
    ServerProcess::Options o;
    o.args = {"--db", db, "--heartbeat-interval", "2"};
    if (redis) {
      o.args.push_back("--redis");
      o.args.push_back(redis->url());
    }
    auto s = ServerProcess::Start(o);
    REQUIRE(s);
    return s;
  }
  int port(int i) const { return servers[static_cast<size_t>(i)]->port(); }
};

struct Team {
  TestUser alice, bob;
  std::string ws;
};

Team MakeTeam(Http& http) {
  Team t;
  t.alice = SignUp(http, "alice");
  t.bob = SignUp(http, "bob");
  t.ws = CreateTeam(http, t.alice, "Scale");
  AddToTeam(http, t.alice, t.ws, t.bob, "member");
  return t;
}

// Reads change frames until `last_seq`; the seqs in arrival order, and the
// ids of the memories created.
struct Seen {
  std::vector<int64_t> seqs;
  std::set<std::string> created;
};
void CollectUntil(SseClient& c, int64_t last_seq, Seen& seen, std::chrono::milliseconds timeout = 30s) {
  auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
  while (seen.seqs.empty() || seen.seqs.back() < last_seq) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto e = c.NextChange(left);
    if (!e) break;
    seen.seqs.push_back((*e)["seq"].get<int64_t>());
    if ((*e)["type"] == "memory_created") seen.created.insert((*e)["memory"]["id"].get<std::string>());
  }
}

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

// Writes `n` memories through the instance on `port`, as fast as it
// answers; the ids it acknowledged.
std::set<std::string> WriteMany(int port, const TestUser& u, const std::string& ws, int n, const std::string& tag) {
  Http http(port);
  std::set<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto r = http.Post(Mem(ws), {{"title", tag + " " + std::to_string(i)}, {"type", "solution"}}, u.token);
    if (r.status == 201) ids.insert(r.body["id"].get<std::string>());
  }
  return ids;
}

}  // namespace

TEST_CASE("three instances on one PostgreSQL: streams on each see writes through the others, in order, gap-free, once") {
  Cluster c(3, /*with_redis=*/false);
  Http a(c.port(0));
  Team t = MakeTeam(a);
  const int64_t head0 = Head(a, t.alice, t.ws);
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(SseClient::Open(c.port(i), StreamPath(t.ws), i % 2 ? t.bob.token : t.alice.token));
    REQUIRE(streams.back()->status() == 200);
    REQUIRE(streams.back()->Next());  // connected
  }
  // Concurrent writers on two different instances: one log, dense seqs.
  constexpr int kEach = 60;
  std::set<std::string> via_b, via_c;
  std::thread wb([&] { via_b = WriteMany(c.port(1), t.alice, t.ws, kEach, "via B"); });
  std::thread wc([&] { via_c = WriteMany(c.port(2), t.bob, t.ws, kEach, "via C"); });
  wb.join();
  wc.join();
  REQUIRE(via_b.size() == kEach);
  REQUIRE(via_c.size() == kEach);
  const int64_t head = Head(a, t.alice, t.ws);
  CHECK(head == head0 + 2 * kEach);
  std::set<std::string> all = via_b;
  all.insert(via_c.begin(), via_c.end());
  for (int i = 0; i < 3; ++i) {
    Seen seen;
    CollectUntil(*streams[static_cast<size_t>(i)], head, seen);
    CHECK_MESSAGE(seen.seqs == Range(head0 + 1, head), "stream on instance " << i);
    CHECK(seen.created == all);
  }
}

TEST_CASE("kill -9 of redis-server under writes, restarted after 2 s: every stream still receives every event") {
  Cluster c(2, /*with_redis=*/true);
  Http a(c.port(0));
  Team t = MakeTeam(a);
  // Two teams: one workspace's writes are serial (its lock), so two keep
  // more writes in flight through the outage.
  const std::vector<std::string> spaces = {t.ws, CreateTeam(a, t.alice, "Scale two")};
  AddToTeam(a, t.alice, spaces[1], t.bob, "member");
  std::vector<int64_t> head0;
  std::vector<std::unique_ptr<SseClient>> streams;  // per workspace: one on A, one on B
  for (const auto& ws : spaces) {
    head0.push_back(Head(a, t.alice, ws));
    streams.push_back(SseClient::Open(c.port(0), StreamPath(ws), t.alice.token));
    streams.push_back(SseClient::Open(c.port(1), StreamPath(ws), t.bob.token));
  }
  for (auto& s : streams) REQUIRE(s->Next());
  std::atomic<bool> stop{false};
  std::vector<std::atomic<int>> written(spaces.size());
  // A writer per workspace and instance, as fast as they are answered,
  // through the whole outage.
  auto writer = [&](int port, const TestUser& u, size_t space) {
    Http http(port);
    while (!stop) {
      auto r = http.Post(Mem(spaces[space]), {{"title", "under outage"}, {"type", "solution"}}, u.token);
      if (r.status == 201) ++written[space];
    }
  };
  auto total = [&] { return written[0] + written[1]; };
  std::vector<std::thread> writers;
  for (size_t space = 0; space < spaces.size(); ++space) {
    writers.emplace_back(writer, c.port(0), t.alice, space);
    writers.emplace_back(writer, c.port(1), t.bob, space);
  }
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(Eventually([&] { return total() >= 200; }));
  c.redis->Kill9();
  const int at_kill = total();
  std::this_thread::sleep_for(2s);  // the outage itself, not a wait for an event
  REQUIRE(c.redis->Restart());
  const int at_restart = total();
  REQUIRE(Eventually([&] { return total() >= at_restart + 200; }));
  stop = true;
  for (auto& w : writers) w.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  MESSAGE("writes per second through the outage: " << static_cast<int>(total() / seconds));
  CHECK(at_restart > at_kill);  // writes went on while Redis was down
  for (size_t space = 0; space < spaces.size(); ++space) {
    const int64_t head = Head(a, t.alice, spaces[space]);
    CHECK(head == head0[space] + written[space]);
    for (size_t k = 0; k < 2; ++k) {
      Seen seen;
      CollectUntil(*streams[space * 2 + k], head, seen);
      CHECK_MESSAGE(seen.seqs == Range(head0[space] + 1, head), "workspace " << space << " stream " << k);
    }
  }
}

TEST_CASE("kill -9 of one instance: its stream resumes on another with Last-Event-ID and misses nothing") {
  Cluster c(2, /*with_redis=*/false);
  Http b(c.port(1));
  Team t = MakeTeam(b);
  const int64_t head0 = Head(b, t.alice, t.ws);
  auto on_a = SseClient::Open(c.port(0), StreamPath(t.ws), t.alice.token);
  REQUIRE(on_a->Next());
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread w([&] {
    Http http(c.port(1));
    while (!stop)
      if (http.Post(Mem(t.ws), {{"title", "while A dies"}, {"type", "solution"}}, t.bob.token).status == 201) ++written;
  });
  Seen seen;
  REQUIRE(Eventually([&] { return written >= 50; }));
  CollectUntil(*on_a, head0 + 20, seen);
  REQUIRE(seen.seqs.size() >= 20);
  ::kill(c.servers[0]->pid(), SIGKILL);
  // The client drains what reached it, then resumes on B from its last id.
  while (auto e = on_a->NextChange(Scaled(2000ms))) seen.seqs.push_back((*e)["seq"].get<int64_t>());
  CHECK(on_a->closed());
  const std::string last = std::to_string(seen.seqs.back());
  auto on_b = SseClient::Open(c.port(1), StreamPath(t.ws), t.alice.token, {{"Last-Event-ID", last}});
  REQUIRE(on_b->status() == 200);
  REQUIRE(Eventually([&] { return written >= 150; }));
  stop = true;
  w.join();
  const int64_t head = Head(b, t.alice, t.ws);
  CollectUntil(*on_b, head, seen);
  CHECK(seen.seqs == Range(head0 + 1, head));
}

TEST_CASE("PostgreSQL restarted under writes: 503 while it is down, nothing acknowledged is lost") {
  Cluster c(2, /*with_redis=*/false);
  Http a(c.port(0));
  Team t = MakeTeam(a);
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<std::string> acked;
  std::map<int, int> statuses;  // status -> count, for the writes that failed
  std::set<std::string> codes;
  std::atomic<int> after_resume{0};
  std::atomic<bool> resumed{false};
  auto writer = [&](int port, const TestUser& u) {
    Http http(port);
    while (!stop) {
      auto r = http.Post(Mem(t.ws), {{"title", "across a database restart"}, {"type", "solution"}}, u.token);
      std::lock_guard<std::mutex> lock(mu);
      if (r.status == 201) {
        acked.insert(r.body["id"].get<std::string>());
        if (resumed) ++after_resume;
      } else {
        ++statuses[r.status];
        codes.insert(r.error_code());
      }
    }
  };
  std::thread w1(writer, c.port(0), t.alice), w2(writer, c.port(1), t.bob);
  REQUIRE(Eventually([&] { std::lock_guard<std::mutex> l(mu); return acked.size() >= 50; }));
  REQUIRE(c.pg->Halt());
  std::this_thread::sleep_for(1s);  // the outage itself
  REQUIRE(c.pg->Resume());
  resumed = true;
  REQUIRE(Eventually([&] { return after_resume >= 50; }, 30s));
  stop = true;
  w1.join();
  w2.join();
  // While it was down: 503 with the documented code, never a 500 or a hang.
  CHECK(statuses.count(500) == 0);
  CHECK(statuses[503] > 0);
  for (const auto& code : codes) CHECK_MESSAGE((code == "database_unavailable" || code == "database_busy"), code);
  // Every acknowledged write is there, read through either instance.
  for (int i = 0; i < 2; ++i) {
    Http http(c.port(i));
    std::set<std::string> listed;
    std::string cursor;
    for (;;) {
      auto r = http.Get(Mem(t.ws) + "?limit=200" + (cursor.empty() ? "" : "&cursor=" + cursor), t.alice.token);
      REQUIRE(r.status == 200);
      for (const auto& m : r.body["memories"]) listed.insert(m["id"].get<std::string>());
      if (!r.body.contains("next_cursor") || r.body["next_cursor"].is_null()) break;
      cursor = r.body["next_cursor"].get<std::string>();
    }
    for (const auto& id : acked) CHECK_MESSAGE(listed.count(id) == 1, "acknowledged " << id << " is missing on instance " << i);
  }
}

namespace {

// docs/deploy.md's nginx configuration, as written there, with the ports of
// this test's instances and nginx.
std::string DeployDocNginx(int a, int b, int listen) {
  std::ifstream in(std::string(MGTEAM_DOCS_DIR) + "/deploy.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), {});
  size_t start = doc.find("```nginx\n");
  REQUIRE(start != std::string::npos);
  start += 9;
  std::string conf = doc.substr(start, doc.find("```", start) - start);
  auto replace = [&conf](const std::string& from, const std::string& to) {
    size_t at = conf.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, from);
    conf.replace(at, from.size(), to);
  };
  replace("127.0.0.1:8474", "127.0.0.1:" + std::to_string(a));
  replace("127.0.0.1:8475", "127.0.0.1:" + std::to_string(b));
  replace("listen 80;", "listen 127.0.0.1:" + std::to_string(listen) + ";");
  return conf;
}

}  // namespace

TEST_CASE("nginx: two instances behind docs/deploy.md's nginx with Redis: live whichever instance, through a Redis and an instance kill") {
  Cluster c(2, /*with_redis=*/true);
  const int port = FreePort();
  auto nginx = NginxProcess::Start(DeployDocNginx(c.port(0), c.port(1), port), port);
  REQUIRE(nginx);
  Http front(port);
  Team t = MakeTeam(front);
  const int64_t head0 = Head(front, t.alice, t.ws);
  // Streams through nginx (round-robin over both instances) and one straight
  // to each instance, so both surely carry some.
  std::vector<std::unique_ptr<SseClient>> streams;
  std::vector<Seen> seen(6);
  for (int i = 0; i < 4; ++i) streams.push_back(SseClient::Open(port, StreamPath(t.ws), t.bob.token));
  streams.push_back(SseClient::Open(c.port(0), StreamPath(t.ws), t.bob.token));
  streams.push_back(SseClient::Open(c.port(1), StreamPath(t.ws), t.bob.token));
  for (auto& s : streams) {
    REQUIRE(s->status() == 200);
    REQUIRE(s->Next());
  }
  // As mgteam's clients write: with an Idempotency-Key, retrying a 502
  // (nginx reached an instance that died under it) with the same key.
  int key = 0;
  auto write = [&](const std::string& title) {
    const std::string idem = "scale-out-" + std::to_string(++key);
    HttpResponse r;
    for (int attempt = 0; attempt < 5; ++attempt) {
      r = front.Post(Mem(t.ws), {{"title", title}, {"type", "solution"}}, t.alice.token, {{"Idempotency-Key", idem}});
      if (r.status != 502) break;
    }
    REQUIRE(r.status == 201);
  };
  auto all_reach = [&](int64_t head) {
    for (size_t i = 0; i < streams.size(); ++i) {
      CollectUntil(*streams[i], head, seen[i]);
      CHECK_MESSAGE(seen[i].seqs == Range(head0 + 1, head), "stream " << i);
    }
  };
  write("a teammate's memory");
  all_reach(head0 + 1);
  // Redis dies: the instances' head checks still deliver.
  c.redis->Kill9();
  write("written while Redis is down");
  all_reach(head0 + 2);
  REQUIRE(c.redis->Restart());
  // Instance A dies: the streams it held end; the clients come back through
  // nginx, which now sends them to B, with Last-Event-ID.
  ::kill(c.servers[0]->pid(), SIGKILL);
  write("written after instance A died");
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i == 4) continue;  // straight to the dead instance: no one to reconnect to
    CollectUntil(*streams[i], head0 + 3, seen[i], 5s);
    if (!seen[i].seqs.empty() && seen[i].seqs.back() == head0 + 3) continue;  // it was on B
    const std::string last = std::to_string(seen[i].seqs.back());
    streams[i] = SseClient::Open(i == 5 ? c.port(1) : port, StreamPath(t.ws), t.bob.token, {{"Last-Event-ID", last}});
    REQUIRE(streams[i]->status() == 200);
  }
  write("and one more");
  for (size_t i = 0; i < streams.size(); ++i) {
    if (i == 4) continue;
    CollectUntil(*streams[i], head0 + 4, seen[i]);
    CHECK_MESSAGE(seen[i].seqs == Range(head0 + 1, head0 + 4), "stream " << i);
  }
}

TEST_CASE("migrate: a populated SQLite server moved to PostgreSQL, and agents keep syncing without a reset") {
  TeamServer w("Migrating");
  Machine a(w.url(), w.alice), b(w.url(), w.bob);
  a.StartAgent();
  b.StartAgent();
  for (int i = 0; i < 20; ++i) AddMemory(*w.http, w.alice, w.team, "before the move " + std::to_string(i));
  const int64_t before = w.Head();
  REQUIRE(a.WaitCursor(w.team, before));
  REQUIRE(b.WaitCursor(w.team, before));

  // The documented move (docs/deploy.md): stop, migrate, start on PostgreSQL.
  w.StopServer();
  auto pg = PostgresProcess::Start();
  REQUIRE(pg);
  const std::string db = pg->CreateDatabase("moved");
  ProcessResult moved = Run({ServerBinary(), "migrate", "--from", "sqlite:" + w.options.data_dir + "/mgteam.db", "--to", db});
  REQUIRE_MESSAGE(moved.exit_code == 0, moved.err);
  w.options.args = {"--db", db};
  w.StartServer();
  CHECK(w.Head() == before);  // the log, seqs and all, came along

  // Writes on both sides of the move reach both replicas, with no reload.
  AddMemory(*w.http, w.bob, w.team, "after the move");
  const int64_t after = w.Head();
  CHECK(after == before + 1);
  REQUIRE(a.WaitCursor(w.team, after));
  REQUIRE(b.WaitCursor(w.team, after));
  for (auto* m : {&a, &b}) {
    CHECK(m->AgentLog().find("the server reset") == std::string::npos);
    auto diffs = DiffRows(ReplicaRows(m->ReplicaFile(), w.team), ServerRows(*w.http, w.team, w.alice.token));
    CHECK_MESSAGE(diffs.empty(), Describe("replica", diffs));
  }
}

TEST_CASE("a token revoked through another instance while Redis is down still ends the stream, once Redis is back") {
  Cluster c(2, /*with_redis=*/true);
  Http a(c.port(0)), b(c.port(1));
  Team t = MakeTeam(a);
  // A second token of Bob's holds a stream on A; Bob revokes it through B
  // while the hint cannot travel.
  auto made = b.Post("/api/v1/tokens", {{"name", "laptop"}}, t.bob.token);
  REQUIRE(made.status == 201);
  const std::string token = made.body["token"].get<std::string>();
  const std::string token_id = made.body["id"].get<std::string>();
  auto stream = SseClient::Open(c.port(0), StreamPath(t.ws), token);
  REQUIRE(stream->status() == 200);
  REQUIRE(stream->Next());
  c.redis->Kill9();
  REQUIRE(b.Delete("/api/v1/tokens/" + token_id, t.bob.token).status == 200);
  REQUIRE(c.redis->Restart());
  std::optional<json> last;
  while (auto e = stream->Next(Scaled(20000ms))) last = e;
  REQUIRE(last);
  CHECK((*last)["type"] == "closed");
  CHECK((*last)["reason"] == "token_revoked");
}

TEST_CASE("presence across instances: a teammate streaming on another instance shows online, and offline once gone") {
  Cluster c(2, /*with_redis=*/false);
  Http a(c.port(0)), b(c.port(1));
  Team t = MakeTeam(a);
  auto alice = SseClient::Open(c.port(0), StreamPath(t.ws), t.alice.token);
  REQUIRE(alice->Next());
  auto bob = SseClient::Open(c.port(1), StreamPath(t.ws), t.bob.token);
  REQUIRE(bob->Next());
  // Alice, on A, hears that Bob, on B, came online; and each instance's
  // presence route counts both.
  auto next_presence = [&](SseClient& s) -> std::optional<json> {
    while (auto e = s.Next(Scaled(10000ms)))
      if ((*e)["type"] == "presence_changed") return e;
    return std::nullopt;
  };
  auto came = next_presence(*alice);
  REQUIRE(came);
  CHECK((*came)["user_id"] == t.bob.id);
  CHECK((*came)["online"] == true);
  // GET .../presence on either instance: both online (the other
  // instance's count arrives over the bus, so it is awaited).
  auto online = [&](Http& http, const std::string& user) {
    auto p = http.Get("/api/v1/workspaces/" + t.ws + "/presence", t.alice.token);
    for (const auto& m : p.body["presence"])
      if (m["user_id"] == user) return m["online"].get<bool>();
    return false;
  };
  for (Http* http : {&a, &b}) {
    CHECK(Eventually([&] { return online(*http, t.alice.id); }));
    CHECK(Eventually([&] { return online(*http, t.bob.id); }));
  }
  bob->Close();
  auto left = next_presence(*alice);
  REQUIRE(left);
  CHECK((*left)["user_id"] == t.bob.id);
  CHECK((*left)["online"] == false);
  CHECK_FALSE(online(a, t.bob.id));
}

TEST_CASE("a write queued behind a demotion is checked against the role as it is once the workspace is free") {
  // One instance is enough: the order is made by holding the workspace's
  // lock from outside (a psql session) while both requests queue behind it.
  Cluster c(1, /*with_redis=*/false);
  Http a(c.port(0));
  Team t = MakeTeam(a);
  REQUIRE(a.Patch("/api/v1/teams/" + t.ws + "/members/" + t.bob.id, {{"role", "admin"}}, t.alice.token).status == 200);
  const std::string db = c.db;
  auto psql = ChildProcess::Spawn({"/usr/bin/psql", db, "-qtA"}, {}, /*with_stdin=*/true);
  REQUIRE(psql);
  REQUIRE(psql->WriteLine("SELECT 'locked', pg_advisory_lock(hashtextextended('workspace:" + t.ws + "', 0));"));
  REQUIRE(psql->ReadLine(Scaled(10000ms)) == std::optional<std::string>("locked|"));
  auto waiting = [&] {
    ProcessResult r = Run({"/usr/bin/psql", db, "-qtAc", "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"});
    return std::atoi(r.out.c_str());
  };
  // First in the queue: Alice demotes Bob to viewer. Second: Bob, still an
  // admin when his request was checked on arrival, invites someone.
  HttpResponse demoted, invited;
  std::thread first([&] {
    Http http(c.port(0));
    demoted = http.Patch("/api/v1/teams/" + t.ws + "/members/" + t.bob.id, {{"role", "viewer"}}, t.alice.token);
  });
  REQUIRE(Eventually([&] { return waiting() == 1; }));
  std::thread second([&] {
    Http http(c.port(0));
    invited = http.Post("/api/v1/teams/" + t.ws + "/invite", {{"email", "carol@example.com"}, {"role", "admin"}}, t.bob.token);
  });
  REQUIRE(Eventually([&] { return waiting() == 2; }));
  psql->CloseStdin();  // the session ends, and its lock with it
  first.join();
  second.join();
  CHECK(demoted.status == 200);
  CHECK(invited.status == 403);
  CHECK(invited.error_code() == "forbidden");
  psql->Wait(Scaled(10000ms));
}
