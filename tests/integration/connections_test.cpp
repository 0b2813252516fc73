// The connection layer under abuse (docs/security.md, "Connections"): idle
// connections and slow senders hold no worker, so a normal client stays
// served while they last; heads and bodies that take too long get 408,
// header floods 431, ambiguous framing 400, oversized chunked bodies 413,
// and one address cannot hold more than its share of connections. Each case
// runs against a real server with few workers, where the old design (a
// worker per connection from accept on) fell over.
#include "http.h"
#include "process.h"
#include "sse_client.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <set>
#include <thread>

using namespace mgteam;
using namespace mgteam::test;
using Clock = std::chrono::steady_clock;

namespace {

// A raw TCP client: what an attacker (or a broken client) sends.
class RawConn {
 public:
  explicit RawConn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawConn() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Everything the server sends until it closes or `timeout` passes.
  std::string ReadAll(std::chrono::milliseconds timeout) {
    std::string out;
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      if (::poll(&p, 1, std::max(1, left)) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::unique_ptr<ServerProcess> Server(std::vector<std::string> args) {
  ServerProcess::Options o;
  o.args = std::move(args);
  return ServerProcess::Start(o);
}

// How long a normal client waits for /healthz.
double HealthzMs(Http& http) {
  auto t = Clock::now();
  auto r = http.Get("/healthz");
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  REQUIRE(r.status == 200);
  return ms;
}

bool SameHeader(const std::string& a, const std::string& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

}  // namespace

TEST_CASE("idle connections and slow heads hold no worker: a normal client stays served") {
  auto server = Server({"--threads", "8", "--head-timeout", "30"});
  Http http(server->port());
  TestUser u = SignUp(http, "alice");
  std::vector<std::unique_ptr<RawConn>> attackers;
  for (int i = 0; i < 150; ++i) {  // idle: not a byte
    attackers.push_back(std::make_unique<RawConn>(server->port()));
    REQUIRE(attackers.back()->connected());
  }
  for (int i = 0; i < 50; ++i) {  // a head that never ends
    attackers.push_back(std::make_unique<RawConn>(server->port()));
    REQUIRE(attackers.back()->Send("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"));
  }
  // 200 held connections against 8 workers: every one of these is served.
  Http other(server->port());
  for (int i = 0; i < 20; ++i) {
    CHECK(HealthzMs(other) < 1000 * Slowdown());
    auto r = other.Post("/api/v1/workspaces/" + u.personal_ws + "/memories", {{"title", "still served"}}, u.token);
    CHECK(r.status == 201);
  }
}

TEST_CASE("a head or a body that takes too long gets 408 and frees the connection") {
  auto server = Server({"--head-timeout", "1", "--body-grace", "1"});
  SUBCASE("slow head") {
    RawConn c(server->port());
    REQUIRE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    auto t = Clock::now();
    std::string answer = c.ReadAll(Scaled(std::chrono::seconds(5)));
    CHECK(answer.rfind("HTTP/1.1 408", 0) == 0);
    CHECK(answer.find("request_timeout") != std::string::npos);
    CHECK(Clock::now() - t < Scaled(std::chrono::milliseconds(2500)));
  }
  SUBCASE("slow body: a byte now and then") {
    RawConn c(server->port());
    REQUIRE(c.Send("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Content-Length: 1000\r\n\r\n{"));
    std::string answer = c.ReadAll(std::chrono::seconds(5));
    CHECK(answer.rfind("HTTP/1.1 408", 0) == 0);
  }
  SUBCASE("an idle connection is closed quietly") {
    RawConn c(server->port());
    CHECK(c.ReadAll(std::chrono::seconds(8)).empty());  // closed after the keep-alive time, no answer
  }
}

TEST_CASE("header floods get 431, ambiguous framing 400, oversized chunked bodies 413") {
  auto server = Server({"--max-body", "4096"});
  Http http(server->port());
  SUBCASE("too many headers") {
    RawConn c(server->port());
    std::string head = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 150; ++i) head += "X-Flood-" + std::to_string(i) + ": y\r\n";
    REQUIRE(c.Send(head + "\r\n"));
    std::string answer = c.ReadAll(std::chrono::seconds(5));
    CHECK(answer.rfind("HTTP/1.1 431", 0) == 0);
    CHECK(answer.find("headers_too_large") != std::string::npos);
  }
  SUBCASE("a head that never ends, byte after byte, is cut off at the size limit") {
    RawConn c(server->port());
    long before = ProcStatusKb(server->pid(), "VmRSS");
    std::string line = "X-Big: " + std::string(1000, 'a') + "\r\n";
    std::string head = "GET /healthz HTTP/1.1\r\n";
    for (int i = 0; i < 60; ++i) head += line;  // 60 KB, under the 64 KiB limit
    REQUIRE(c.Send(head));
    bool refused = false;
    for (int i = 0; i < 2000 && !refused; ++i) refused = !c.Send(line);  // the server closes on us
    std::string answer = c.ReadAll(std::chrono::seconds(2));
    CHECK((refused || answer.rfind("HTTP/1.1 431", 0) == 0));
    CHECK(ProcStatusKb(server->pid(), "VmRSS") - before < 20 * 1024 * MemoryOverhead());
  }
  SUBCASE("Content-Length twice, or with Transfer-Encoding") {
    for (std::string framing : {"Content-Length: 2\r\nContent-Length: 2\r\n",
                                "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n"}) {
      RawConn c(server->port());
      REQUIRE(c.Send("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n{}"));
      std::string answer = c.ReadAll(std::chrono::seconds(5));
      CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
      CHECK(answer.find("ambiguous_framing") != std::string::npos);
    }
  }
  SUBCASE("a chunked body past --max-body") {
    RawConn c(server->port());
    long before = ProcStatusKb(server->pid(), "VmRSS");
    REQUIRE(c.Send("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n"));
    std::string chunk = "1000\r\n" + std::string(4096, ' ') + "\r\n";
    int sent = 0;
    while (sent < 4096 && c.Send(chunk)) ++sent;  // up to 16 MiB, unless the server stops reading
    std::string answer = c.ReadAll(std::chrono::seconds(3));
    CHECK(sent < 4096);  // refused long before the end
    CHECK((answer.empty() || answer.rfind("HTTP/1.1 413", 0) == 0));
    CHECK(ProcStatusKb(server->pid(), "VmRSS") - before < 20 * 1024 * MemoryOverhead());
  }
  CHECK(http.Get("/healthz").status == 200);  // and everyone else is still served
}

TEST_CASE("one address cannot hold more than its share of connections") {
  auto server = Server({"--max-connections-per-address", "20"});
  // 25 at once: which five are refused depends on the order the server
  // admits them in, but exactly five are, at once, with 429.
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 25; ++i) {
    conns.push_back(std::make_unique<RawConn>(server->port()));
    REQUIRE(conns.back()->connected());
  }
  std::vector<bool> refused(conns.size(), false);
  int n = 0;
  auto deadline = Clock::now() + std::chrono::seconds(4);  // before the 5 s idle close of the others
  while (n < 5 && Clock::now() < deadline)
    for (size_t i = 0; i < conns.size(); ++i) {
      if (refused[i]) continue;
      std::string answer = conns[i]->ReadAll(std::chrono::milliseconds(10));
      if (answer.empty()) continue;
      CHECK(answer.rfind("HTTP/1.1 429", 0) == 0);
      CHECK(answer.find("too_many_connections") != std::string::npos);
      refused[i] = true;
      ++n;
    }
  CHECK(n == 5);
  conns.clear();  // closing them gives the slots back
  Http http(server->port());
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) served = http.Get("/healthz").status == 200;
  CHECK(served);
}

TEST_CASE("one account cannot hold every stream: per-account and server caps, slots given back on close") {
  auto server = Server({"--max-streams-per-user", "3", "--max-streams", "5"});
  Http http(server->port());
  TestUser alice = SignUp(http, "alice"), bob = SignUp(http, "bob");
  auto open = [&](const TestUser& u) {
    return SseClient::Open(server->port(), "/api/v1/sync/stream?workspace_id=" + u.personal_ws, u.token);
  };
  std::vector<std::unique_ptr<SseClient>> alices;
  for (int i = 0; i < 3; ++i) {
    alices.push_back(open(alice));
    REQUIRE(alices.back()->status() == 200);
  }
  auto fourth = open(alice);
  CHECK(fourth->status() == 429);
  CHECK(fourth->error_body().find("too_many_streams") != std::string::npos);
  // Another account is not locked out by alice...
  auto b1 = open(bob), b2 = open(bob);
  CHECK(b1->status() == 200);
  CHECK(b2->status() == 200);
  // ...until the server's own cap.
  auto b3 = open(bob);
  CHECK(b3->status() == 503);
  CHECK(b3->error_body().find("stream_capacity") != std::string::npos);
  // REST stays served, and a closed stream gives its slot back.
  CHECK(http.Get("/api/v1/me", alice.token).status == 200);
  alices.front()->Close();
  alices.erase(alices.begin());
  bool reopened = false;
  for (int i = 0; i < 100 && !reopened; ++i) {  // the hub notices the close on its next loop
    auto again = open(bob);
    reopened = again->status() == 200;
    if (!reopened) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the slot, bounded
  }
  CHECK(reopened);
}

TEST_CASE("long-polls: a few per account, and a revoked token gets 401 when the wait ends, not data") {
  auto server = Server({});
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  // How many polls have started waiting, from /metrics.
  auto polls = [&] {
    std::string text = http.Get("/metrics").raw;
    auto at = text.find("\nmgteam_long_polls_total ");
    return at == std::string::npos ? -1L : std::stol(text.substr(at + 25));
  };
  // Four waiting long-polls are allowed; the fifth is refused at once.
  const std::string ws_path = "/api/v1/workspaces/" + alice.personal_ws;
  const int64_t now = http.Get(ws_path, alice.token).body["head_seq"].get<int64_t>();
  const std::string wait = ws_path + "/events?wait=20&since=" + std::to_string(now);
  const long start = polls();
  std::vector<std::future<HttpResponse>> four;
  for (int i = 0; i < 4; ++i)
    four.push_back(std::async(std::launch::async, [&] { return Http(server->port()).Get(wait, alice.token); }));
  REQUIRE(Eventually([&] { return polls() >= start + 4; }));
  auto fifth = http.Get(wait, alice.token);
  CHECK(fifth.status == 429);
  CHECK(fifth.error_code() == "too_many_long_polls");
  AddMemory(http, alice, alice.personal_ws, "wakes them");
  for (auto& f : four) CHECK(f.get().status == 200);

  // A long-poll whose token is revoked while it waits: woken by a teammate's
  // write, it answers 401 instead of handing over the write.
  TestUser bob = SignUp(http, "bob");
  std::string team = CreateTeam(http, alice, "Team");
  AddToTeam(http, alice, team, bob, "member");
  int64_t head = http.Get("/api/v1/workspaces/" + team, alice.token).body["head_seq"].get<int64_t>();
  const long before = polls();
  REQUIRE(before >= 0);
  auto answer = std::async(std::launch::async, [&] {
    Http mine(server->port());
    return mine.Get("/api/v1/workspaces/" + team + "/events?wait=20&since=" + std::to_string(head), bob.token);
  });
  REQUIRE(Eventually([&] { return polls() > before; }));  // the poll has started waiting
  REQUIRE(http.Post("/api/v1/auth/logout", json::object(), bob.token).status == 200);
  AddMemory(http, alice, team, "a secret plan bob must not see");
  HttpResponse got = answer.get();
  CHECK(got.status == 401);
  CHECK(got.raw.find("secret plan") == std::string::npos);
}

TEST_CASE("waiting long-polls hold no worker: twice --threads of them wait and REST stays served") {
  auto server = Server({"--threads", "8"});
  Http http(server->port());
  auto waiting = [&] {
    std::string text = http.Get("/metrics").raw;
    const std::string name = "\nmgteam_long_polls_waiting ";
    auto at = text.find(name);
    return at == std::string::npos ? -1L : std::stol(text.substr(at + name.size()));
  };
  // Four accounts, four polls each (the per-account cap): 16 waiting, 8 workers.
  std::vector<TestUser> users;
  for (const char* name : {"ann", "ben", "cy", "dee"}) users.push_back(SignUp(http, name));
  std::vector<std::vector<std::future<HttpResponse>>> polls(users.size());
  for (size_t u = 0; u < users.size(); ++u) {
    const std::string ws_path = "/api/v1/workspaces/" + users[u].personal_ws;
    const int64_t head = http.Get(ws_path, users[u].token).body["head_seq"].get<int64_t>();
    const std::string wait = ws_path + "/events?wait=30&since=" + std::to_string(head);
    for (int i = 0; i < 4; ++i)
      polls[u].push_back(std::async(std::launch::async, [&, wait, u] {
        return Http(server->port()).Get(wait, users[u].token);
      }));
  }
  REQUIRE(Eventually([&] { return waiting() == 16; }));

  // Every worker would be held if polls held them; these must not queue.
  Http other(server->port());
  for (int i = 0; i < 10; ++i) {
    CHECK(HealthzMs(other) < 1000 * Slowdown());
    auto r = other.Get("/api/v1/me", users[0].token);
    CHECK(r.status == 200);
  }
  // A write wakes exactly the polls on its workspace, with the write in them.
  AddMemory(http, users[0], users[0].personal_ws, "for ann's polls");
  for (auto& f : polls[0]) {
    HttpResponse r = f.get();
    CHECK(r.status == 200);
    REQUIRE(r.body["events"].size() == 1);
    CHECK(r.body["events"][0]["memory"]["title"] == "for ann's polls");
  }
  CHECK(Eventually([&] { return waiting() == 12; }));
  for (size_t u = 1; u < users.size(); ++u) AddMemory(http, users[u], users[u].personal_ws, "wake " + users[u].name);
  for (size_t u = 1; u < users.size(); ++u)
    for (auto& f : polls[u]) {
      HttpResponse r = f.get();
      CHECK(r.status == 200);
      REQUIRE(r.body["events"].size() == 1);
      CHECK(r.body["events"][0]["memory"]["title"] == "wake " + users[u].name);
    }
  CHECK(waiting() == 0);
  // The slots came back: four more may wait again.
  const int64_t head = http.Get("/api/v1/workspaces/" + users[0].personal_ws, users[0].token)
                           .body["head_seq"]
                           .get<int64_t>();
  auto again = http.Get("/api/v1/workspaces/" + users[0].personal_ws + "/events?wait=1&since=" + std::to_string(head),
                        users[0].token);
  CHECK(again.status == 200);
  CHECK(again.body["events"].empty());
}

TEST_CASE("a long-poll whose client hangs up is dropped at once and gives its slot back") {
  auto server = Server({});
  Http http(server->port());
  TestUser u = SignUp(http, "alice");
  const std::string ws_path = "/api/v1/workspaces/" + u.personal_ws;
  const int64_t head = http.Get(ws_path, u.token).body["head_seq"].get<int64_t>();
  const std::string poll = "GET " + ws_path + "/events?wait=60&since=" + std::to_string(head) +
                           " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + u.token + "\r\n\r\n";
  auto waiting_is = [&](int n) {
    return http.Get("/metrics").raw.find("\nmgteam_long_polls_waiting " + std::to_string(n) + "\n") !=
           std::string::npos;
  };
  // Connect, ask, hang up: four times, the account's whole allowance.
  for (int round = 0; round < 2; ++round) {
    {
      std::vector<std::unique_ptr<RawConn>> conns;
      for (int i = 0; i < 4; ++i) {
        conns.push_back(std::make_unique<RawConn>(server->port()));
        REQUIRE(conns.back()->Send(poll));
      }
      REQUIRE(Eventually([&] { return waiting_is(4); }));
    }  // closed
    // Dropped long before their 60 s, so the account may poll again.
    REQUIRE(Eventually([&] { return waiting_is(0); }));
  }
  auto again = http.Get(ws_path + "/events?wait=1&since=" + std::to_string(head), u.token);
  CHECK(again.status == 200);
  CHECK(server->log().find("dropped: the client hung up") != std::string::npos);
}

TEST_CASE("a server stopping answers its waiting long-polls instead of leaving them hanging") {
  auto server = Server({});
  Http http(server->port());
  TestUser u = SignUp(http, "alice");
  const std::string ws_path = "/api/v1/workspaces/" + u.personal_ws;
  const int64_t head = http.Get(ws_path, u.token).body["head_seq"].get<int64_t>();
  auto poll = std::async(std::launch::async, [&] {
    return Http(server->port()).Get(ws_path + "/events?wait=60&since=" + std::to_string(head), u.token);
  });
  REQUIRE(Eventually([&] { return http.Get("/metrics").raw.find("\nmgteam_long_polls_waiting 1\n") != std::string::npos; }));
  const auto t = Clock::now();
  CHECK(server->Stop() == 0);
  HttpResponse r = poll.get();
  CHECK(r.status == 200);
  CHECK(r.body["events"].empty());
  CHECK(r.body["head_seq"] == head);
  CHECK(Clock::now() - t < Scaled(std::chrono::seconds(10)));  // not the 60 s wait
}

TEST_CASE("every answer has a request id, nosniff and no-store, and the data files are private") {
  TempDir dir;  // exists already, with its own mode: the server must leave it be
  ::chmod(dir.path().c_str(), 0755);
  ServerProcess::Options o;
  o.data_dir = dir.path();
  auto server = ServerProcess::Start(o);
  Http http(server->port());
  TestUser u = SignUp(http, "alice");
  std::set<std::string> ids;
  for (const auto& r : {http.Get("/healthz"), http.Get("/api/v1/nowhere"), http.Get("/api/v1/me", u.token),
                        http.Post("/api/v1/auth/login", {{"email", u.email}, {"password", "wrong password"}})}) {
    auto header = [&](const std::string& name) {
      for (const auto& [k, v] : r.headers)
        if (SameHeader(k, name)) return v;
      return std::string();
    };
    CHECK(header("X-Content-Type-Options") == "nosniff");
    CHECK(header("Cache-Control") == "no-store");
    CHECK(header("X-Request-Id").size() == 16);
    ids.insert(header("X-Request-Id"));
  }
  CHECK(ids.size() == 4);  // one id per request
  struct stat st {};
  REQUIRE(::stat(dir.path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0755);
  for (const char* f : {"/mgteam.db", "/mgteam.db-wal"}) {
    REQUIRE(::stat((dir.path() + f).c_str(), &st) == 0);
    CHECK_MESSAGE((st.st_mode & 0777) == 0600, f);
  }
}

TEST_CASE("streams that never read cannot add up past the server's backlog budget, and a reader is unaffected") {
  // Each stream may queue 1 MiB; all of them together 300 KB.
  auto server = Server({"--stream-backlog-budget", "300000", "--max-streams-per-user", "0"});
  Http http(server->port());
  TestUser u = SignUp(http, "alice");
  const std::string path = "/api/v1/sync/stream?workspace_id=" + u.personal_ws;
  auto reader = SseClient::Open(server->port(), path, u.token);
  REQUIRE(reader->status() == 200);
  // Six streams that ask and never read, with a tiny receive window so the
  // kernel cannot absorb what the server queues.
  std::vector<int> stalled;
  for (int i = 0; i < 6; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(server->port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + u.token + "\r\n\r\n";
    REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    stalled.push_back(fd);
  }
  // Wait until the hub holds all seven (six stalled, one reader).
  auto metric = [&](const std::string& name) -> int64_t {
    std::string text = http.Get("/metrics").raw;
    auto at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + name.size() + 2));
  };
  for (auto deadline = Clock::now() + std::chrono::seconds(10);
       metric("mgteam_streams_open") < 7 && Clock::now() < deadline;)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(metric("mgteam_streams_open") == 7);

  // The reader keeps up (it reads each change as it comes); the stalled
  // streams fall behind, and are cut off for the budget.
  const std::string big(90000, 'x');
  for (int i = 0; i < 12; ++i) {
    auto r = http.Post("/api/v1/workspaces/" + u.personal_ws + "/memories",
                       {{"title", "big " + std::to_string(i)}, {"content", big}}, u.token);
    REQUIRE(r.status == 201);
    auto e = reader->NextChange(std::chrono::seconds(10));
    REQUIRE(e.has_value());
    CHECK((*e)["memory"]["id"] == r.body["id"]);
    // Within the budget (plus this frame) once the hub has handled it: the
    // reader may see the frame a moment before the hub drops a stalled stream.
    int64_t backlog = metric("mgteam_stream_backlog_bytes");
    for (auto until = Clock::now() + std::chrono::seconds(2); backlog > 400000 && Clock::now() < until;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      backlog = metric("mgteam_stream_backlog_bytes");
    }
    CHECK(backlog <= 300000 + 100000);
  }
  CHECK(metric("mgteam_slow_consumer_disconnects_total") >= 1);
  CHECK(server->log().find("the server's backlog budget") != std::string::npos);
  for (int fd : stalled) ::close(fd);
}
