// The StreamHub over socket pairs, on a real SqliteStore in a temp dir: what
// a client reads when the database is slow to give the hub its rows, the 503
// a stream gets once the hub has stopped, and the LogReader's queue.
#include "socket_pair.h"

#include "auth.h"
#include "domain/accounts.h"
#include "domain/memories.h"
#include "metrics.h"
#include "mgteam/sse.h"
#include "store/sqlite_store.h"
#include "sync/log_reader.h"
#include "sync/stream_hub.h"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

using namespace mgteam;
using namespace mgteam::server;
using namespace std::chrono_literals;
using mgteam::test::Scaled;
using mgteam::test::SocketPair;

namespace {

using Clock = std::chrono::steady_clock;

struct Hub {
  std::string dir;
  std::unique_ptr<SqliteStore> store;
  User alice;
  Workspace ws;
  std::string token_id;
  Metrics metrics;
  std::unique_ptr<StreamHub> hub;

  explicit Hub(StreamHubOptions options) {
    char tmpl[] = "/tmp/mgteam-hub-XXXXXX";
    dir = ::mkdtemp(tmpl);
    REQUIRE(InitCrypto().ok());
    auto s = SqliteStore::Open(dir + "/t.db");
    REQUIRE(s.ok());
    store = std::move(s).value();
    REQUIRE(store->Write([&](Tx& tx) -> Status {
      MG_ASSIGN_OR_RETURN(alice, CreateAccount(tx, {"alice@example.com", "alice@example.com", "Alice", "x"}, false,
                                               SignupGate::kFirstOrOpen));
      MG_ASSIGN_OR_RETURN(auto token, IssueToken(tx, alice.id, "test"));
      token_id = token.record.id;
      MG_ASSIGN_OR_RETURN(auto list, tx.ListWorkspacesOf(alice.id));
      ws = list.at(0).first;
      return Status::Ok();
    }).ok());
    hub = std::make_unique<StreamHub>(*store, metrics, options);
    // As the server wires it: every commit rings the hub's doorbell.
    store->SetCommitListener([this](const std::vector<LogAdvance>& advances) {
      for (const auto& a : advances) hub->OnAdvance(a.workspace_id, a.head_seq);
    });
    REQUIRE(hub->Start().ok());
  }
  ~Hub() {
    hub.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }

  int64_t Head() {
    auto w = store->ReadValue<std::optional<Workspace>>([&](Tx& tx) { return tx.FindWorkspace(ws.id); });
    REQUIRE(w.ok());
    REQUIRE(w->has_value());
    return (*w)->head_seq;
  }
  void AddMemory(const std::string& title) {
    Memory m;
    m.title = title;
    REQUIRE(store->Write([&](Tx& tx) -> Status {
      return CreateMemory(tx, Actor{alice.id, alice.name}, ws.id, m).status();
    }).ok());
  }
  StreamRequest Request(int fd) {
    StreamRequest r;
    r.transport = std::make_unique<Transport>(fd, nullptr);
    r.workspace_id = ws.id;
    r.user_id = alice.id;
    r.token_id = token_id;
    return r;
  }
};

// One stream as its client sees it: Serve() runs on a thread of its own, as
// on a request thread; the test reads the client end.
struct Client {
  SocketPair pair;
  std::thread serving;
  std::string head;  // the HTTP response head, then the SSE body is parsed
  bool in_body = false;
  std::vector<int64_t> changes;  // seqs of change frames, in arrival order
  std::vector<json> controls;    // frames without an id
  int heartbeats = 0;
  SseParser parser{[this](const SseEvent& e) {
                     if (e.has_id) changes.push_back(std::stoll(e.last_event_id));
                     else controls.push_back(json::parse(e.data));
                   },
                   [this](std::string_view c) {
                     if (c.find("heartbeat") != std::string_view::npos) ++heartbeats;
                   }};

  explicit Client(Hub& h) {
    serving = std::thread([&h, r = h.Request(pair.server)]() mutable { h.hub->Serve(std::move(r)); });
  }
  ~Client() {
    if (serving.joinable()) serving.join();
  }

  // Reads until `done` holds; false at the deadline or EOF.
  bool Until(const std::function<bool()>& done, std::chrono::milliseconds within = 5000ms) {
    const auto deadline = Clock::now() + Scaled(within);
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      std::string chunk;
      if (!pair.Read(chunk, std::min(deadline, Clock::now() + 100ms))) return done();
      if (!in_body) {
        head += chunk;
        auto end = head.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        chunk = head.substr(end + 4);
        head.resize(end + 4);
        in_body = true;
      }
      parser.Feed(chunk);
    }
    return true;
  }
};

std::vector<int64_t> Range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

}  // namespace

TEST_CASE("hub: rows the database is slow to give arrive later in order and once, and heartbeats go on meanwhile") {
  StreamHubOptions options;
  options.heartbeat = 50ms;
  options.head_check = 200ms;
  Hub h(options);
  Client c(h);
  REQUIRE(c.Until([&] { return !c.controls.empty(); }));
  CHECK(c.head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(c.controls[0]["type"] == "connected");
  c.serving.join();  // the hub owns the stream now
  const int64_t start = h.Head();
  h.AddMemory("before");
  REQUIRE(c.Until([&] { return !c.changes.empty(); }));
  CHECK(c.changes == Range(start + 1, start + 1));

  // Every reader connection of the store held: the hub's reads of the new
  // rows (and of heads) wait for one.
  std::atomic<size_t> holding{0};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<size_t> held_ok{0};
  std::vector<std::thread> holders;
  for (size_t i = 0; i < SqliteStore::kMaxReaders; ++i)
    holders.emplace_back([&] {
      Status s = h.store->Read([&](Tx&) {
        holding++;
        (void)released.wait_for(Scaled(8000ms));
        return Status::Ok();
      });
      if (s.ok()) held_ok++;
    });
  const auto held_by = Clock::now() + Scaled(5000ms);
  while (holding.load() < SqliteStore::kMaxReaders && Clock::now() < held_by) std::this_thread::yield();
  REQUIRE(holding.load() == SqliteStore::kMaxReaders);

  // Five commits, five doorbells; none of their rows can be read yet.
  for (int i = 0; i < 5; ++i) h.AddMemory("late " + std::to_string(i));
  // The epoll thread is not waiting for the database: the stream still gets
  // its heartbeats, and nothing out of order slips through.
  const int beats = c.heartbeats;
  CHECK(c.Until([&] { return c.heartbeats >= beats + 3; }, 3000ms));
  CHECK(c.changes == Range(start + 1, start + 1));

  release.set_value();
  for (auto& t : holders) t.join();
  CHECK(held_ok.load() == SqliteStore::kMaxReaders);
  REQUIRE(c.Until([&] { return !c.changes.empty() && c.changes.back() >= start + 6; }, 10000ms));
  CHECK(c.changes == Range(start + 1, start + 6));
  // Nothing sent twice in the meantime: the next event is the next frame.
  h.AddMemory("after");
  REQUIRE(c.Until([&] { return c.changes.back() >= start + 7; }));
  CHECK(c.changes == Range(start + 1, start + 7));
}

TEST_CASE("hub: a stream asked for once the hub has stopped gets a 503 whose Content-Length is its body's size") {
  Hub h(StreamHubOptions{});
  h.hub->Shutdown();
  SocketPair pair;
  h.hub->Serve(h.Request(pair.server));  // returns at once: nothing to hand over
  std::string raw;
  const auto deadline = Clock::now() + Scaled(5000ms);
  while (pair.Read(raw, deadline) && Clock::now() < deadline) {
  }
  auto end = raw.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  const std::string head = raw.substr(0, end + 2);
  const std::string body = raw.substr(end + 4);
  CHECK(head.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0) == 0);
  const std::string field = "\r\nContent-Length: ";
  auto at = head.find(field);
  REQUIRE(at != std::string::npos);
  const size_t length = std::stoul(head.substr(at + field.size(), head.find("\r\n", at + 2) - at - field.size()));
  CHECK(length == body.size());
  json error = json::parse(body);
  CHECK(error["error"]["code"] == "shutting_down");
}

TEST_CASE("log reader: requests for one workspace asked before it reads are folded into the last, heads say which are gone") {
  Hub h(StreamHubOptions{});
  const int64_t start = h.Head();
  for (int i = 0; i < 3; ++i) h.AddMemory("m" + std::to_string(i));

  std::mutex mu;
  std::condition_variable arrived;
  std::vector<LogReader::Rows> rows;
  std::vector<LogReader::Heads> heads;
  LogReader reader(*h.store, 2,
                   {[&](LogReader::Rows r) {
                      std::lock_guard<std::mutex> lock(mu);
                      rows.push_back(std::move(r));
                      arrived.notify_all();
                    },
                    [&](LogReader::Heads hd) {
                      std::lock_guard<std::mutex> lock(mu);
                      heads.push_back(std::move(hd));
                      arrived.notify_all();
                    }});
  // Asked before its thread runs, so none of these is read yet.
  reader.WantRows(h.ws.id, start, 1);
  reader.WantRows("other-workspace", 0, 2);
  reader.WantRows(h.ws.id, start + 1, 3);
  reader.WantHeads({h.ws.id, "gone-workspace"});
  reader.Start();
  {
    std::unique_lock<std::mutex> lock(mu);
    REQUIRE(arrived.wait_for(lock, Scaled(5000ms), [&] { return rows.size() == 2 && heads.size() == 1; }));
  }
  reader.Stop();
  // The first workspace keeps its place in the queue with its newest request.
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].workspace == h.ws.id);
  CHECK(rows[0].ticket == 3);
  CHECK(rows[0].after == start + 1);
  REQUIRE(rows[0].status.ok());
  REQUIRE(rows[0].rows.size() == 2);  // one page
  CHECK(rows[0].rows[0].seq == start + 2);
  CHECK(rows[0].rows[1].seq == start + 3);
  CHECK(rows[1].workspace == "other-workspace");
  CHECK(rows[1].ticket == 2);
  CHECK(rows[1].rows.empty());
  REQUIRE(heads[0].status.ok());
  CHECK(heads[0].heads.at(h.ws.id) == std::optional<int64_t>(start + 3));
  CHECK_FALSE(heads[0].heads.at("gone-workspace").has_value());
}
