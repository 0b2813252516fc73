// The Store contract under real concurrency (server/store/store.h, top
// comment): threads, each on its own connection and often on its own Store
// instance (a second server), racing through the domain layer the way
// request handlers do. The same cases run over SqliteStore and PostgresStore
// (store_backends.h); the "postgres only:" cases cover what only a database
// server has (advisory lock waits, timeouts, lost connections, concurrent
// migrations).
#include "store_backends.h"

#include "domain/accounts.h"
#include "domain/memories.h"
#include "domain/workspaces.h"
#include "store/postgres_store.h"

#include <fmt/format.h>

#include <atomic>
#include <latch>
#include <mutex>
#include <thread>

using namespace mgteam;
using namespace mgteam::server;
using namespace mgteam::server::testing;

namespace {

User SignUp(Store& s, const std::string& email) {
  auto u = s.WriteValue<User>([&](Tx& tx) {
    return CreateAccount(tx, {email, email, email.substr(0, email.find('@')), "x"}, /*open_signup=*/true,
                         SignupGate::kFirstOrOpen);
  });
  REQUIRE_MESSAGE(u.ok(), u.status().ToString());
  return *u;
}

Actor As(const User& u) { return Actor{u.id, u.name}; }

// Runs fn(i) on n threads that start together; returns when all are done.
void Race(int n, const std::function<void(int)>& fn) {
  std::latch start(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      fn(i);
    });
  for (auto& t : threads) t.join();
}

// Collects statuses from many threads.
struct Outcomes {
  std::mutex mu;
  std::vector<Status> all;
  void Add(Status s) {
    std::lock_guard<std::mutex> lock(mu);
    all.push_back(std::move(s));
  }
  int ok() {
    int n = 0;
    for (const auto& s : all) n += s.ok();
    return n;
  }
  std::string errors() {
    std::string out;
    for (const auto& s : all)
      if (!s.ok()) out.append(s.ToString()).append("\n");
    return out;
  }
};

}  // namespace

STORE_CASE("two servers updating one memory under the workspace lock lose no update and version densely") {
  REQUIRE(InitCrypto().ok());
  auto one = backend.Open(), two = backend.Open();
  User alice = SignUp(*one, "alice@example.com");
  auto list = one->ReadValue<std::vector<std::pair<Workspace, std::string>>>(
      [&](Tx& tx) { return tx.ListWorkspacesOf(alice.id); });
  REQUIRE(list.ok());
  const std::string ws = list->at(0).first.id;
  Memory draft;
  draft.title = "shared";
  auto m = one->WriteValue<Memory>([&](Tx& tx) { return CreateMemory(tx, As(alice), ws, draft); });
  REQUIRE(m.ok());
  constexpr int kThreads = 4, kEach = 12;
  Outcomes out;
  Race(kThreads, [&](int t) {
    Store& s = t % 2 ? *two : *one;
    for (int i = 0; i < kEach; ++i) {
      MemoryPatch p;
      p.title = fmt::format("t{}-{}", t, i);  // always a change, so always a new version
      out.Add(s.Write([&](Tx& tx) -> Status {
        // As the router's Request::Write does before any handler runs.
        MG_RETURN_IF_ERROR(tx.Lock(LockKey::Workspace(ws)));
        return UpdateMemory(tx, As(alice), ws, m->id, p).status();
      }));
    }
  });
  CHECK_MESSAGE(out.ok() == kThreads * kEach, out.errors());
  auto events = one->ReadValue<std::vector<Event>>([&](Tx& tx) { return tx.EntityEvents(ws, m->id); });
  REQUIRE(events.ok());
  REQUIRE(events->size() == static_cast<size_t>(1 + kThreads * kEach));
  for (size_t i = 0; i < events->size(); ++i) CHECK((*events)[i].entity["version"] == static_cast<int64_t>(i + 1));
  auto last = one->ReadValue<std::optional<Memory>>([&](Tx& tx) { return tx.FindMemory(ws, m->id); });
  CHECK((*last)->version == 1 + kThreads * kEach);
  CHECK((*last)->title == (*events).back().entity["title"]);
}

STORE_CASE("two owners demoting each other at once leave exactly one owner") {
  REQUIRE(InitCrypto().ok());
  auto one = backend.Open(), two = backend.Open();
  User alice = SignUp(*one, "alice@example.com"), bob = SignUp(*one, "bob@example.com");
  auto team = one->WriteValue<Workspace>([&](Tx& tx) { return CreateTeam(tx, As(alice), "Team", std::nullopt); });
  REQUIRE(team.ok());
  for (int round = 0; round < 8; ++round) {
    REQUIRE(one->Write([&](Tx& tx) -> Status {
      MG_RETURN_IF_ERROR(tx.PutMember(Member{team->id, alice.id, "owner", "2026-11-25T10:00:00.000Z", "", ""}));
      return tx.PutMember(Member{team->id, bob.id, "owner", "2026-11-25T10:00:00.000Z", "", ""});
    }).ok());
    Outcomes out;
    Race(2, [&](int t) {
      const User& me = t ? bob : alice;
      const User& other = t ? alice : bob;
      // Both read their own role (owner) before the write, as the router does.
      out.Add((t ? *two : *one).Write([&](Tx& tx) -> Status {
        MG_RETURN_IF_ERROR(tx.Lock(LockKey::Workspace(team->id)));
        return ChangeRole(tx, As(me), Role::kOwner, team->id, other.id, Role::kAdmin).status();
      }));
    });
    CHECK(out.ok() == 1);
    auto members = one->ReadValue<std::vector<Member>>([&](Tx& tx) { return tx.ListMembers(team->id); });
    REQUIRE(members.ok());
    int owners = 0;
    for (const auto& mem : *members) owners += mem.role == "owner";
    CHECK(owners == 1);
  }
}

STORE_CASE("two first sign-ups at once on a closed server: exactly one account") {
  REQUIRE(InitCrypto().ok());
  auto one = backend.Open(), two = backend.Open();
  Outcomes out;
  Race(2, [&](int t) {
    const std::string email = t ? "bob@example.com" : "alice@example.com";
    out.Add((t ? *two : *one).Write([&](Tx& tx) {
      return CreateAccount(tx, {email, email, "x", "x"}, /*open_signup=*/false, SignupGate::kFirstOrOpen).status();
    }));
  });
  CHECK(out.ok() == 1);
  for (const auto& s : out.all)
    if (!s.ok()) CHECK(s.reason() == "signup_closed");
  CHECK(one->ReadValue<int64_t>([](Tx& tx) { return tx.CountUsers(); }).value() == 1);
}

STORE_CASE("two teams taking one slug at once: one gets slug_taken, derived slugs stay distinct") {
  REQUIRE(InitCrypto().ok());
  auto one = backend.Open(), two = backend.Open();
  User alice = SignUp(*one, "alice@example.com");
  Outcomes out;
  Race(2, [&](int t) {
    out.Add((t ? *two : *one).Write([&](Tx& tx) {
      return CreateTeam(tx, As(alice), "Same", std::optional<std::string>("same")).status();
    }));
  });
  CHECK(out.ok() == 1);
  for (const auto& s : out.all)
    if (!s.ok()) CHECK(s.reason() == "slug_taken");

  std::mutex mu;
  std::vector<std::string> slugs;
  Race(4, [&](int t) {
    auto w = (t % 2 ? *two : *one).WriteValue<Workspace>([&](Tx& tx) {
      return CreateTeam(tx, As(alice), "Derived Name", std::nullopt);
    });
    REQUIRE_MESSAGE(w.ok(), w.status().ToString());
    std::lock_guard<std::mutex> lock(mu);
    slugs.push_back(w->slug);
  });
  std::sort(slugs.begin(), slugs.end());
  CHECK(std::unique(slugs.begin(), slugs.end()) == slugs.end());
}

STORE_CASE("one Idempotency-Key from two servers at once: exactly one insert, the other replays") {
  auto one = backend.Open(), two = backend.Open();
  constexpr int kKeys = 20;
  std::atomic<int> inserts{0}, replays{0};
  Outcomes out;
  Race(2, [&](int t) {
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = fmt::format("key-{}", k);
      bool inserted = false;
      // The router's pattern (http/router.cpp, Request::Write).
      out.Add((t ? *two : *one).Write([&](Tx& tx) -> Status {
        inserted = false;
        MG_RETURN_IF_ERROR(tx.Lock(LockKey::Idempotency(key)));
        MG_ASSIGN_OR_RETURN(auto prior, tx.FindIdempotency(key));
        if (prior) return Status::Ok();
        inserted = true;
        return tx.InsertIdempotency(IdempotencyRecord{key, "req", 201, "sealed", "2026-11-25T10:00:00.000Z"});
      }));
      (inserted ? inserts : replays)++;
    }
  });
  CHECK_MESSAGE(out.ok() == 2 * kKeys, out.errors());
  CHECK(inserts == kKeys);
  CHECK(replays == kKeys);
}

STORE_CASE("many appenders on one workspace: seqs dense, and a reader never sees a seq before the ones below it") {
  REQUIRE(InitCrypto().ok());
  auto one = backend.Open(), two = backend.Open();
  User alice = SignUp(*one, "alice@example.com");
  auto team = one->WriteValue<Workspace>([&](Tx& tx) { return CreateTeam(tx, As(alice), "Busy", std::nullopt); });
  REQUIRE(team.ok());
  const int64_t base = team->head_seq;
  constexpr int kWriters = 4, kEach = 40;
  std::atomic<int> writers_left{kWriters};
  std::atomic<int> reads{0}, gaps{0};
  Outcomes out;
  Race(kWriters + 1, [&](int t) {
    if (t == kWriters) {
      // The reader: in each snapshot the log is 1..head_seq, no holes.
      while (writers_left > 0 || reads == 0) {
        Status s = one->Read([&](Tx& tx) -> Status {
          MG_ASSIGN_OR_RETURN(auto ws, tx.FindWorkspace(team->id));
          MG_ASSIGN_OR_RETURN(auto rows, tx.ListEventRows(team->id, 0, 1000000));
          bool dense = ws && static_cast<int64_t>(rows.size()) == ws->head_seq;
          for (size_t i = 0; dense && i < rows.size(); ++i) dense = rows[i].seq == static_cast<int64_t>(i + 1);
          if (!dense) ++gaps;
          return Status::Ok();
        });
        out.Add(s);
        ++reads;
      }
      return;
    }
    // No workspace lock: the head_seq row lock alone must keep the order.
    for (int i = 0; i < kEach; ++i)
      out.Add((t % 2 ? *two : *one).Write([&](Tx& tx) {
        Event e;
        e.workspace_id = team->id;
        e.type = "memory_created";
        e.actor = alice.id;
        e.entity_type = "memory";
        e.entity_id = fmt::format("m-{}-{}", t, i);
        e.at = "2026-11-25T10:00:00.000Z";
        return tx.AppendEvent(e);
      }));
    --writers_left;
  });
  CHECK_MESSAGE(out.errors().empty(), out.errors());
  CHECK(gaps == 0);
  CHECK(reads > 0);
  auto rows = one->ReadValue<std::vector<EventRow>>([&](Tx& tx) { return tx.ListEventRows(team->id, 0, 1000000); });
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == static_cast<size_t>(base + kWriters * kEach));
  for (size_t i = 0; i < rows->size(); ++i) CHECK((*rows)[i].seq == static_cast<int64_t>(i + 1));
}

STORE_CASE("the commit listener hears each committed append, with the workspace's new head") {
  auto store = backend.Open();
  REQUIRE(InitCrypto().ok());
  User alice = SignUp(*store, "alice@example.com");
  auto list = store->ReadValue<std::vector<std::pair<Workspace, std::string>>>(
      [&](Tx& tx) { return tx.ListWorkspacesOf(alice.id); });
  const Workspace ws = list->at(0).first;
  std::vector<LogAdvance> heard;
  store->SetCommitListener([&](const std::vector<LogAdvance>& a) { heard.insert(heard.end(), a.begin(), a.end()); });
  Memory draft;
  draft.title = "x";
  REQUIRE(store->Write([&](Tx& tx) { return CreateMemory(tx, As(alice), ws.id, draft).status(); }).ok());
  // A failed write appends nothing anyone hears of.
  (void)store->Write([&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(CreateMemory(tx, As(alice), ws.id, draft).status());
    return Status::Internal("rolled back");
  });
  REQUIRE(heard.size() == 1);
  CHECK(heard[0].workspace_id == ws.id);
  CHECK(heard[0].appended == 1);
  CHECK(heard[0].head_seq == ws.head_seq + 1);
}

TEST_CASE("postgres only: a second Lock of one key waits for the first transaction to commit") {
  PostgresBackend b;
  auto one = b.Open(), two = b.Open();
  std::atomic<bool> first_done{false};
  bool waited = false, saw_write = false, after_first = false;
  Status second;
  std::thread other;
  Status first = one->Write([&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(tx.Lock(LockKey::Accounts()));
    if (!other.joinable())
      other = std::thread([&] {
        second = two->Write([&](Tx& tx2) -> Status {
          MG_RETURN_IF_ERROR(tx2.Lock(LockKey::Accounts()));
          after_first = first_done;
          MG_ASSIGN_OR_RETURN(int64_t n, tx2.CountUsers());
          saw_write = n == 1;
          return Status::Ok();
        });
      });
    waited = b.AwaitLockWaiter();  // the other writer is blocked in Lock now
    UserRecord u;
    u.user = User{"u1", "a@example.com", "A", "2026-11-25T10:00:00.000Z"};
    u.email_norm = "a@example.com";
    u.password_hash = "x";
    Status s = tx.InsertUser(u);
    first_done = true;
    return s;
  });
  other.join();
  REQUIRE(first.ok());
  CHECK(waited);
  CHECK(second.ok());
  CHECK(after_first);  // it got the lock only once the first had finished
  CHECK(saw_write);    // and then read what the first committed
}

TEST_CASE("postgres only: a statement past statement_timeout is 503 database_busy") {
  PostgresBackend b;
  auto one = b.Open();
  StoreOptions quick;
  quick.statement_timeout = std::chrono::milliseconds(200);
  auto impatient = b.Open(quick);
  Status inner;
  REQUIRE(one->Write([&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(tx.Lock("k"));
    // Waiting for the lock counts towards the statement's time.
    inner = impatient->Write([](Tx& tx2) { return tx2.Lock("k"); });
    return Status::Ok();
  }).ok());
  CHECK(inner.code() == Code::kUnavailable);
  CHECK(inner.reason() == "database_busy");
  CHECK(impatient->Write([](Tx& tx) { return tx.Lock("k"); }).ok());  // and the connection is fine afterwards
}

TEST_CASE("postgres only: a write cut off by a lost connection is refused, and the store reconnects") {
  PostgresBackend b;
  auto store = b.Open();
  UserRecord u;
  u.user = User{"u1", "a@example.com", "A", "2026-11-25T10:00:00.000Z"};
  u.email_norm = "a@example.com";
  u.password_hash = "x";
  Status s = store->Write([&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(tx.InsertUser(u));
    b.TerminateSessions();  // the database restarts mid-transaction
    return tx.CountUsers().status();
  });
  CHECK(s.code() == Code::kUnavailable);
  CHECK(s.reason() == "database_unavailable");
  // Not committed, and the next transactions run on fresh connections.
  auto n = store->ReadValue<int64_t>([](Tx& tx) { return tx.CountUsers(); });
  REQUIRE_MESSAGE(n.ok(), n.status().ToString());
  CHECK(*n == 0);
  // Idle pooled connections that died are replaced too.
  b.TerminateSessions();
  CHECK(store->Write([&](Tx& tx) { return tx.InsertUser(u); }).ok());
  CHECK(store->ReadValue<int64_t>([](Tx& tx) { return tx.CountUsers(); }).value() == 1);
  CHECK(store->Ping().ok());
}

TEST_CASE("postgres only: an unreachable database is 503 database_unavailable") {
  auto s = OpenStore("postgres://postgres:pw@127.0.0.1:1/nothing");
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == Code::kUnavailable);
  CHECK(s.status().reason() == "database_unavailable");
  CHECK(s.status().message().find("pw") == std::string::npos);
}

TEST_CASE("postgres only: instances migrating one fresh database at once all come up at the latest version") {
  PostgresBackend b;
  std::atomic<int> at_latest{0};
  Outcomes out;
  Race(3, [&](int) {
    auto s = OpenStore(b.url());
    out.Add(s.ok() ? Status::Ok() : s.status());
    if (s.ok() && (*s)->schema_version() == 4) ++at_latest;
  });
  CHECK_MESSAGE(out.ok() == 3, out.errors());
  CHECK(at_latest == 3);
  auto c = pg::Connection::Open(b.url(), "");
  REQUIRE(c.ok());
  auto rows = (*c)->Exec("SELECT count(*), max(version) FROM schema_version");
  REQUIRE(rows.ok());
  CHECK(rows->Int(0, 0) == 4);
  CHECK(rows->Int(0, 1) == 4);
}

TEST_CASE("postgres only: the pool is bounded, and a caller past the bound gets database_busy after 10 s") {
  PostgresBackend b;
  StoreOptions small;
  small.pool_size = 2;
  auto opened = PostgresStore::Open(b.url(), small);
  REQUIRE(opened.ok());
  PostgresStore& store = **opened;
  std::atomic<int> inside{0}, most{0};
  Outcomes out;
  Race(8, [&](int) {
    for (int i = 0; i < 10; ++i)
      out.Add(store.Read([&](Tx& tx) -> Status {
        int now = ++inside;
        for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
        }
        Status s = tx.CountUsers().status();
        --inside;
        return s;
      }));
  });
  CHECK_MESSAGE(out.ok() == 80, out.errors());
  CHECK(most <= 2);
  CHECK(store.connections_open() <= 2);
  // Both connections held: a third caller waits, then is refused.
  Status third;
  REQUIRE(store.Read([&](Tx&) {
    return store.Read([&](Tx&) {
      third = store.Read([](Tx&) { return Status::Ok(); });
      return Status::Ok();
    });
  }).ok());
  CHECK(third.reason() == "database_busy");
}
