// The live stream and the polling route, against a real server, with our raw
// SSE client and with real third-party clients (curl, npm's eventsource).
#include "http.h"
#include "process.h"
#include "sse_client.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <csignal>
#include <filesystem>
#include <future>
#include <thread>

using namespace mgteam::test;
using namespace std::chrono_literals;

namespace {

std::string StreamPath(const std::string& ws, const std::string& extra = "") {
  return "/api/v1/sync/stream?workspace_id=" + ws + extra;
}

std::string Mem(const std::string& ws) { return "/api/v1/workspaces/" + ws + "/memories"; }

int64_t Head(Http& http, const TestUser& u, const std::string& ws) {
  return http.Get("/api/v1/workspaces/" + ws, u.token).body["head_seq"].get<int64_t>();
}

// Reads change frames until `last_seq`, returning their seqs in arrival order.
std::vector<int64_t> CollectUntil(SseClient& c, int64_t last_seq, std::chrono::milliseconds timeout = 10s) {
  std::vector<int64_t> seqs;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (seqs.empty() || seqs.back() < last_seq) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto e = c.NextChange(left);
    if (!e) break;
    seqs.push_back((*e)["seq"].get<int64_t>());
  }
  return seqs;
}

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

// `n` open streams of `u` on `ws`, each past its `connected` frame.
std::vector<std::unique_ptr<SseClient>> OpenStreams(int port, const TestUser& u, const std::string& ws, int n) {
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int i = 0; i < n; ++i) {
    streams.push_back(SseClient::Open(port, StreamPath(ws), u.token));
    REQUIRE(streams.back()->status() == 200);
  }
  for (auto& s : streams) REQUIRE(s->Next());
  return streams;
}

uint64_t MetricValue(Http& http, const std::string& name) {
  std::string text = http.Get("/metrics").raw;
  auto at = text.find("\n" + name + " ");
  REQUIRE_MESSAGE(at != std::string::npos, name);
  return std::stoull(text.substr(at + name.size() + 2));
}

}  // namespace

TEST_CASE("the stream opens with connected, then sends every change with its seq as id") {
  auto server = ServerProcess::Start();
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  auto c = SseClient::Open(server->port(), StreamPath(alice.personal_ws), alice.token);
  REQUIRE(c->status() == 200);
  CHECK(c->head().find("Content-Type: text/event-stream") != std::string::npos);
  CHECK(c->head().find("X-Accel-Buffering: no") != std::string::npos);
  CHECK(c->head().find("Cache-Control: no-cache") != std::string::npos);
  auto connected = c->Next();
  REQUIRE(connected);
  CHECK((*connected)["type"] == "connected");
  CHECK((*connected)["head_seq"] == 2);
  CHECK((*connected)["workspace_id"] == alice.personal_ws);
  CHECK((*connected)["epoch"].is_string());
  CHECK_FALSE(connected->contains("__id"));  // only change frames carry ids
  CHECK(c->retry_ms() > 0);

  json m = AddMemory(http, alice, alice.personal_ws, "live");
  auto e = c->NextChange();
  REQUIRE(e);
  CHECK((*e)["type"] == "memory_created");
  CHECK((*e)["seq"] == 3);
  CHECK((*e)["__id"] == "3");
  CHECK((*e)["memory"] == m);
  CHECK((*e)["actor"] == alice.id);
  CHECK_FALSE(e->contains("event"));
}

TEST_CASE("several clients get every event in order") {
  auto server = ServerProcess::Start();
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  std::string team = CreateTeam(http, alice, "Fanout");
  auto clients = OpenStreams(server->port(), alice, team, 5);
  int64_t start = Head(http, alice, team);
  // Concurrent writers: the log orders them; every client sees that order.
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w)
    writers.emplace_back([&, w] {
      Http mine(server->port());
      for (int i = 0; i < 20; ++i) AddMemory(mine, alice, team, fmt::format("w{}-{}", w, i));
    });
  for (auto& t : writers) t.join();
  int64_t end = Head(http, alice, team);
  CHECK(end == start + 60);
  for (auto& c : clients) CHECK(CollectUntil(*c, end) == Range(start + 1, end));
}

TEST_CASE("a client dropped mid-burst resumes by Last-Event-ID with no gap and no duplicate") {
  auto server = ServerProcess::Start();
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  std::string ws = alice.personal_ws;
  auto writer = std::async(std::launch::async, [&] {
    Http mine(server->port());
    for (int i = 0; i < 300; ++i) AddMemory(mine, alice, ws, "burst " + std::to_string(i));
  });
  std::vector<int64_t> seen;
  std::string last_id;
  {
    auto c = SseClient::Open(server->port(), StreamPath(ws, "&since=0"), alice.token);
    while (seen.size() < 40) {
      auto e = c->NextChange();
      REQUIRE(e);
      CHECK((*e)["__id"] == (*e)["seq"].dump());
      seen.push_back((*e)["seq"]);
    }
    // Resume from the last event processed (the parser may hold more).
    last_id = std::to_string(seen.back());
  }  // dropped mid-burst
  // Reconnect while writes keep landing; Last-Event-ID wins over ?since=.
  auto again = SseClient::Open(server->port(), StreamPath(ws, "&since=0"), alice.token, {{"Last-Event-ID", last_id}});
  REQUIRE(again->status() == 200);
  writer.get();
  int64_t end = Head(http, alice, ws);
  for (auto s : CollectUntil(*again, end)) seen.push_back(s);
  CHECK(seen == Range(1, end));
  CHECK(end == 302);
}

TEST_CASE("a cursor beyond the head or a wrong epoch gets a reset frame and the stream closes") {
  auto server = ServerProcess::Start();
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  for (const std::string& extra : {std::string("&since=999"), std::string("&since=1&epoch=not-this-one")}) {
    auto c = SseClient::Open(server->port(), StreamPath(alice.personal_ws, extra), alice.token);
    REQUIRE(c->status() == 200);
    CHECK((*c->Next())["type"] == "connected");
    auto reset = c->Next();
    REQUIRE(reset);
    CHECK((*reset)["type"] == "reset");
    CHECK((*reset)["head_seq"] == 2);
    CHECK_FALSE(c->Next(5s));
    CHECK(c->closed());
  }
  auto bad = SseClient::Open(server->port(), StreamPath(alice.personal_ws), alice.token, {{"Last-Event-ID", "x"}});
  CHECK(bad->status() == 400);
}

TEST_CASE("streams are scoped: 401 without a token, 404 outside the team, no event crosses teams") {
  auto server = ServerProcess::Start();
  Http http(server->port());
  TestUser alice = SignUp(http, "alice"), bob = SignUp(http, "bob"), vic = SignUp(http, "vic");
  std::string a = CreateTeam(http, alice, "A"), b = CreateTeam(http, bob, "B");
  AddToTeam(http, alice, a, vic, "viewer");
  CHECK(SseClient::Open(server->port(), StreamPath(a), "")->status() == 401);
  auto refused = SseClient::Open(server->port(), StreamPath(b), alice.token);
  CHECK(refused->status() == 404);
  CHECK(json::parse(refused->error_body())["error"]["code"] == "not_found");
  CHECK(SseClient::Open(server->port(), StreamPath("not-a-uuid"), alice.token)->status() == 404);
  auto viewer = SseClient::Open(server->port(), StreamPath(a), vic.token);  // memory.read suffices
  REQUIRE(viewer->status() == 200);
  auto mine = SseClient::Open(server->port(), StreamPath(a), alice.token);
  REQUIRE(mine->Next());
  REQUIRE(viewer->Next());
  for (int i = 0; i < 5; ++i) AddMemory(http, bob, b, "B only");
  AddMemory(http, alice, a, "A only");
  for (auto* c : {mine.get(), viewer.get()}) {
    auto e = c->NextChange();
    REQUIRE(e);
    CHECK((*e)["workspace_id"] == a);
    CHECK((*e)["memory"]["title"] == "A only");
  }
}

TEST_CASE("heartbeats break every silence within the interval") {
  ServerProcess::Options o;
  o.args = {"--heartbeat-interval", "1"};
  auto server = ServerProcess::Start(o);
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  auto c = SseClient::Open(server->port(), StreamPath(alice.personal_ws), alice.token);
  REQUIRE(c->Next());
  auto opened = std::chrono::steady_clock::now();
  REQUIRE(c->WaitForHeartbeats(4, 10s));
  // 1 s interval, checked four times per interval: every gap well under 2 s.
  auto previous = opened;
  for (auto at : c->heartbeat_times()) {
    CHECK(at - previous < Scaled(1600ms));
    CHECK(at - previous > 500ms);
    previous = at;
  }
  CHECK_FALSE(c->Next(10ms));  // heartbeats are comments, not events
}

TEST_CASE("a slow consumer is cut off with a reason while others keep up") {
  ServerProcess::Options o;
  o.args = {"--stream-max-backlog", "65536"};
  auto server = ServerProcess::Start(o);
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  std::string ws = alice.personal_ws;
  auto slow = SseClient::Open(server->port(), StreamPath(ws), alice.token, {}, 4096);
  auto fast = SseClient::Open(server->port(), StreamPath(ws), alice.token);
  REQUIRE(slow->status() == 200);
  REQUIRE(fast->Next());
  int64_t start = Head(http, alice, ws);
  std::string big(16000, 'x');
  auto writer = std::async(std::launch::async, [&] {
    Http mine(server->port());
    for (int i = 0; i < 150; ++i)
      REQUIRE(mine.Post(Mem(ws), {{"title", "big " + std::to_string(i)}, {"content", big}}, alice.token).status == 201);
  });
  // The slow one reads nothing until it is cut off, then drains at once
  // (the server gives a closing stream a few seconds to take its last frames):
  // whole frames in order, then the reason, then EOF.
  std::vector<int64_t> got;
  std::optional<json> last;
  auto drained = std::async(std::launch::async, [&] {
    Http probe(server->port());
    REQUIRE(Eventually([&] { return MetricValue(probe, "mgteam_slow_consumer_disconnects_total") == 1; },
                       std::chrono::seconds(30)));
    while (auto e = slow->Next(10s)) {
      if (e->contains("seq")) got.push_back((*e)["seq"]);
      last = e;
    }
  });
  // The fast reader gets everything, in order, meanwhile.
  auto seqs = CollectUntil(*fast, start + 150, 30s);
  writer.get();
  drained.get();
  CHECK(seqs == Range(start + 1, start + 150));
  CHECK(MetricValue(http, "mgteam_slow_consumer_disconnects_total") == 1);
  CHECK(slow->closed());
  REQUIRE(last);
  CHECK((*last)["type"] == "closed");
  CHECK((*last)["reason"] == "slow_consumer");
  REQUIRE_FALSE(got.empty());
  CHECK(got == Range(start + 1, got.back()));
  CHECK(got.back() < start + 150);
}

TEST_CASE("200 open streams do not hold up REST calls") {
  // Many streams from one account on purpose: lift the per-account cap.
  ServerProcess::Options o;
  o.args = {"--max-streams-per-user", "0"};
  auto server = ServerProcess::Start(o);
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  auto streams = OpenStreams(server->port(), alice, alice.personal_ws, 200);
  CHECK(MetricValue(http, "mgteam_streams_open") == 200);
  for (int i = 0; i < 20; ++i) CHECK(http.Get(Mem(alice.personal_ws), alice.token).status == 200);
  json m = AddMemory(http, alice, alice.personal_ws, "to all 200");
  for (auto& s : streams) {
    auto e = s->NextChange();
    REQUIRE(e);
    CHECK((*e)["memory"]["id"] == m["id"]);
  }
  CHECK(MetricValue(http, "mgteam_frames_delivered_total") == 200);
  streams.clear();  // clients leave; the hub notices
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (MetricValue(http, "mgteam_streams_open") != 0 && std::chrono::steady_clock::now() < deadline) {
    // A write gives the hub's loop something to do; closed sockets are seen on it.
    http.Get("/healthz");
  }
  CHECK(MetricValue(http, "mgteam_streams_open") == 0);
}

TEST_CASE("revoking membership, the token or the team ends the stream with a final frame") {
  auto server = ServerProcess::Start();
  Http http(server->port());
  TestUser alice = SignUp(http, "alice"), bob = SignUp(http, "bob");
  std::string team = CreateTeam(http, alice, "Ends");
  AddToTeam(http, alice, team, bob, "member");

  auto bobs = SseClient::Open(server->port(), StreamPath(team), bob.token);
  REQUIRE(bobs->Next());
  REQUIRE(http.Delete("/api/v1/teams/" + team + "/members/" + bob.id, alice.token).status == 200);
  auto removed = bobs->NextChange();
  REQUIRE(removed);
  CHECK((*removed)["type"] == "member_removed");
  auto closed = bobs->Next();
  REQUIRE(closed);
  CHECK((*closed)["type"] == "closed");
  CHECK((*closed)["reason"] == "membership_revoked");
  CHECK_FALSE(bobs->Next(5s));
  CHECK(bobs->closed());
  CHECK(SseClient::Open(server->port(), StreamPath(team), bob.token)->status() == 404);

  auto token = http.Post("/api/v1/tokens", {{"name", "short-lived"}}, alice.token);
  auto with_token = SseClient::Open(server->port(), StreamPath(team), token.body["token"]);
  REQUIRE(with_token->Next());
  auto del = http.Delete("/api/v1/tokens/" + token.body["id"].get<std::string>(), alice.token);
  if (del.status != 200) MESSAGE(server->log());
  REQUIRE(del.status == 200);
  auto t = with_token->Next();
  REQUIRE(t);
  CHECK((*t)["reason"] == "token_revoked");

  auto owners = SseClient::Open(server->port(), StreamPath(team), alice.token);
  REQUIRE(owners->Next());
  REQUIRE(http.Delete("/api/v1/teams/" + team, alice.token).status == 200);
  auto d = owners->Next();
  REQUIRE(d);
  CHECK((*d)["reason"] == "workspace_deleted");
}

TEST_CASE("long-polling returns as soon as an event lands, or empty at the deadline") {
  auto server = ServerProcess::Start();
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  std::string events = "/api/v1/workspaces/" + alice.personal_ws + "/events";
  auto started = std::chrono::steady_clock::now();
  auto empty = http.Get(events + "?since=2&wait=1", alice.token);
  CHECK(std::chrono::steady_clock::now() - started >= 900ms);
  CHECK(empty.body["events"].empty());
  CHECK(empty.body["head_seq"] == 2);

  auto waiting = std::async(std::launch::async, [&] {
    Http mine(server->port());
    return mine.Get(events + "?since=2&wait=30", alice.token);
  });
  // The poll is parked on the server when the metric says so.
  while (MetricValue(http, "mgteam_long_polls_total") < 2) http.Get("/healthz");
  started = std::chrono::steady_clock::now();
  AddMemory(http, alice, alice.personal_ws, "wake up");
  auto page = waiting.get();
  CHECK(std::chrono::steady_clock::now() - started < Scaled(5s));
  REQUIRE(page.body["events"].size() == 1);
  CHECK(page.body["events"][0]["memory"]["title"] == "wake up");
  CHECK(http.Get(events + "?wait=61", alice.token).status == 400);
}

TEST_CASE("SIGTERM ends every stream with a closing frame and the server exits promptly") {
  // Many streams from one account on purpose: lift the per-account cap.
  ServerProcess::Options o;
  o.args = {"--max-streams-per-user", "0"};
  auto server = ServerProcess::Start(o);
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  auto streams = OpenStreams(server->port(), alice, alice.personal_ws, 100);
  auto started = std::chrono::steady_clock::now();
  CHECK(server->Stop() == 0);
  CHECK(std::chrono::steady_clock::now() - started < Scaled(5s));
  for (auto& s : streams) {
    auto e = s->Next(5s);
    REQUIRE(e);
    CHECK((*e)["type"] == "closed");
    CHECK((*e)["reason"] == "server_shutdown");
  }
}

TEST_CASE("after a server restart a client resumes where it stopped") {
  TempDir data;
  ServerProcess::Options o;
  o.data_dir = data.path() + "/data";
  auto first = ServerProcess::Start(o);
  Http http(first->port());
  TestUser alice = SignUp(http, "alice");
  for (int i = 0; i < 5; ++i) AddMemory(http, alice, alice.personal_ws, "before");
  auto c = SseClient::Open(first->port(), StreamPath(alice.personal_ws, "&since=0"), alice.token);
  std::vector<int64_t> seen = CollectUntil(*c, 7);
  first->Stop();
  while (c->Next(5s)) {
  }
  o.listen = "127.0.0.1:" + std::to_string(first->port());
  auto second = ServerProcess::Start(o);
  Http http2(second->port());
  for (int i = 0; i < 5; ++i) AddMemory(http2, alice, alice.personal_ws, "after");
  auto resumed = SseClient::Open(second->port(), StreamPath(alice.personal_ws), alice.token,
                                 {{"Last-Event-ID", c->last_event_id()}});
  for (auto s : CollectUntil(*resumed, 12)) seen.push_back(s);
  CHECK(seen == Range(1, 12));
}

TEST_CASE("curl -N receives the stream as a real client would") {
  auto server = ServerProcess::Start();
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  auto curl = ChildProcess::Spawn({"curl", "-sN", "-H", "Authorization: Bearer " + alice.token,
                                   server->url() + StreamPath(alice.personal_ws)});
  std::optional<std::string> line;
  while ((line = curl->ReadLine(10s)) && line->find("\"connected\"") == std::string::npos) {
  }
  REQUIRE(line);
  AddMemory(http, alice, alice.personal_ws, "seen by curl");
  std::vector<std::string> lines;
  while ((line = curl->ReadLine(10s))) {
    lines.push_back(*line);
    if (line->find("seen by curl") != std::string::npos) break;
  }
  REQUIRE(lines.size() >= 2);
  CHECK(lines[lines.size() - 2] == "id: 3");
  CHECK(lines.back().rfind("data: {", 0) == 0);
}

TEST_CASE("npm eventsource receives events and resumes with Last-Event-ID across a restart") {
  std::string js = MGTEAM_TESTS_JS_DIR;
  REQUIRE_MESSAGE(std::filesystem::exists(js + "/node_modules/eventsource"),
                  "run scripts/test (it installs tests/js with npm ci)");
  TempDir data;
  ServerProcess::Options o;
  o.data_dir = data.path() + "/data";
  auto first = ServerProcess::Start(o);
  Http http(first->port());
  TestUser alice = SignUp(http, "alice");
  for (int i = 0; i < 3; ++i) AddMemory(http, alice, alice.personal_ws, "first " + std::to_string(i));
  auto node = ChildProcess::Spawn({"node", js + "/eventsource_client.mjs"},
                                  {{"STREAM_URL", first->url() + StreamPath(alice.personal_ws, "&since=0")},
                                   {"TOKEN", alice.token},
                                   {"UNTIL_SEQ", "8"},
                                   {"TIMEOUT_MS", "60000"}});
  std::vector<int64_t> seqs;
  bool saw_closed = false;
  auto read_until = [&](int64_t seq) {
    while (seqs.empty() || seqs.back() < seq) {
      auto line = node->ReadLine(20s);
      REQUIRE_MESSAGE(line, "eventsource client stalled; stderr: ", node->Stderr());
      json j = json::parse(*line);
      if (!j.contains("data")) continue;
      if (j["data"].contains("seq")) {
        seqs.push_back(j["data"]["seq"]);
        CHECK(j["lastEventId"] == std::to_string(seqs.back()));
      }
      if (j["data"]["type"] == "closed") saw_closed = true;
    }
  };
  read_until(5);
  first->Stop();  // EventSource reconnects by itself
  o.listen = "127.0.0.1:" + std::to_string(first->port());
  auto second = ServerProcess::Start(o);
  Http http2(second->port());
  for (int i = 0; i < 3; ++i) AddMemory(http2, alice, alice.personal_ws, "second " + std::to_string(i));
  read_until(8);
  CHECK(node->Wait(10s) == 0);
  CHECK(saw_closed);
  // Had it not sent Last-Event-ID, ?since=0 would have replayed 1..5 again.
  CHECK(seqs == Range(1, 8));
}

TEST_CASE("two mgteam events --follow see new memories at once and lose nothing across a server restart") {
  TempDir data, home;
  ServerProcess::Options o;
  o.data_dir = data.path() + "/data";
  auto first = ServerProcess::Start(o);
  Http http(first->port());
  TestUser alice = SignUp(http, "alice");
  std::string team = CreateTeam(http, alice, "Followers");
  std::map<std::string, std::string> env = {{"XDG_CONFIG_HOME", home.path()},
                                            {"XDG_DATA_HOME", home.path() + "/data"},
                                            {"XDG_STATE_HOME", home.path() + "/state"},
                                            {"XDG_RUNTIME_DIR", home.path() + "/run"},
                                            {"MGTEAM_SERVER", first->url()},
                                            {"MGTEAM_TOKEN", alice.token},
                                            {"MGTEAM_WORKSPACE", team}};
  std::vector<std::unique_ptr<ChildProcess>> followers;
  for (int i = 0; i < 2; ++i) followers.push_back(ChildProcess::Spawn({CliBinary(), "events", "--follow", "--json"}, env));
  // Each first prints the log so far (workspace_created, member_joined).
  for (auto& f : followers)
    for (int seq = 1; seq <= 2; ++seq) {
      auto line = f->ReadLine(10s);
      REQUIRE_MESSAGE(line, f->Stderr());
      CHECK(json::parse(*line)["seq"] == seq);
    }
  auto added = std::chrono::steady_clock::now();
  AddMemory(http, alice, team, "seen live");
  for (auto& f : followers) {
    auto line = f->ReadLine(10s);
    REQUIRE(line);
    CHECK(json::parse(*line)["memory"]["title"] == "seen live");
  }
  CHECK(std::chrono::steady_clock::now() - added < Scaled(2s));

  first->Stop();
  o.listen = "127.0.0.1:" + std::to_string(first->port());
  auto second = ServerProcess::Start(o);
  Http http2(second->port());
  for (int i = 0; i < 3; ++i) AddMemory(http2, alice, team, "after restart " + std::to_string(i));
  for (auto& f : followers) {
    for (int seq = 4; seq <= 6; ++seq) {
      auto line = f->ReadLine(20s);
      REQUIRE_MESSAGE(line, f->Stderr());
      CHECK(json::parse(*line)["seq"] == seq);  // resumed after #3: no gap, no repeat
    }
    f->Kill(SIGINT);
    CHECK(f->Wait(10s) == 0);
    CHECK(f->Stderr().find("restarting") != std::string::npos);
  }
}

TEST_CASE("presence: who has a stream open, announced on the stream without touching Last-Event-ID") {
  auto server = ServerProcess::Start();
  Http http(server->port());
  TestUser alice = SignUp(http, "alice"), bob = SignUp(http, "bob");
  std::string team = CreateTeam(http, alice, "Present");
  AddToTeam(http, alice, team, bob, "viewer");
  const std::string path = "/api/v1/workspaces/" + team + "/presence";
  auto who = [&](const std::string& user) -> json {
    auto r = http.Get(path, bob.token);  // kept alive while iterating
    for (const auto& p : r.body["presence"])
      if (p["user_id"] == user) return p;
    return json();
  };
  CHECK(who(bob.id)["online"] == false);
  CHECK(who(bob.id)["last_seen"].is_null());  // not seen since the server started

  auto a = SseClient::Open(server->port(), StreamPath(team), alice.token);
  REQUIRE(a->Next());  // connected; her own arrival is not told to her

  AddMemory(http, alice, team, "before bob");
  auto change = a->NextChange();
  REQUIRE(change);
  const std::string id_before = a->last_event_id();

  auto b = SseClient::Open(server->port(), StreamPath(team), bob.token);
  REQUIRE(b->Next());
  auto joined = a->Next();
  REQUIRE(joined);
  CHECK((*joined)["type"] == "presence_changed");
  CHECK((*joined)["user_id"] == bob.id);
  CHECK((*joined)["online"] == true);
  CHECK_FALSE(joined->contains("__id"));
  CHECK(a->last_event_id() == id_before);
  CHECK(http.Get(path, alice.token).body["online"] == 2);
  CHECK(who(alice.id)["online"] == true);
  // A second stream of Bob's (an agent and a follow) is no news.
  auto b2 = SseClient::Open(server->port(), StreamPath(team), bob.token);
  REQUIRE(b2->Next());
  // It is counted once the hub takes it over, just after `connected`.
  json twice;
  for (auto until = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < until;)
    if ((twice = who(bob.id))["streams"] == 2) break;
  CHECK(twice["streams"] == 2);
  b2->Close();
  b->Close();
  auto left = a->Next();
  REQUIRE(left);
  CHECK((*left)["type"] == "presence_changed");
  CHECK((*left)["user_id"] == bob.id);
  CHECK((*left)["online"] == false);
  json after = who(bob.id);
  CHECK(after["online"] == false);
  CHECK(after["last_seen"].is_string());
  // Not a member: 404, like every workspace route.
  TestUser eve = SignUp(http, "eve");
  CHECK(http.Get(path, eve.token).status == 404);
}
