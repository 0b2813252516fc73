// The SQLite store and the domain layer above it, against real database files.
#include "auth.h"
#include "domain/accounts.h"
#include "domain/memories.h"
#include "domain/workspaces.h"
#include "mgteam/sqlite.h"
#include "store/schema.h"
#include "store/sqlite_store.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

using namespace mgteam;
using namespace mgteam::server;

namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<SqliteStore> store;
  User alice;
  Workspace personal;

  Fixture() {
    char tmpl[] = "/tmp/mgteam-store-XXXXXX";
    dir = ::mkdtemp(tmpl);
    REQUIRE(InitCrypto().ok());
    auto s = SqliteStore::Open(dir + "/t.db");
    REQUIRE(s.ok());
    store = std::move(s).value();
    REQUIRE(store->Write([&](Tx& tx) -> Status {
      MG_ASSIGN_OR_RETURN(alice, CreateAccount(tx, {"alice@example.com", "alice@example.com", "Alice", "x"},
                                               false, SignupGate::kFirstOrOpen));
      MG_ASSIGN_OR_RETURN(auto list, tx.ListWorkspacesOf(alice.id));
      personal = list.at(0).first;
      return Status::Ok();
    }).ok());
  }
  ~Fixture() {
    store.reset();
    std::filesystem::remove_all(dir);
  }
  Actor actor() const { return Actor{alice.id, alice.name}; }
  Workspace Reload(const std::string& id) {
    return *store->ReadValue<std::optional<Workspace>>([&](Tx& tx) { return tx.FindWorkspace(id); }).value();
  }
  std::vector<Event> Log(const std::string& ws) {
    return store->ReadValue<std::vector<Event>>([&](Tx& tx) { return tx.ListEvents(ws, 0, 100000); }).value();
  }
};

Memory Draft(const std::string& title) {
  Memory m;
  m.title = title;
  return m;
}

}  // namespace

TEST_CASE("sign-up creates the personal workspace and logs its creation") {
  Fixture f;
  CHECK(f.personal.kind == "personal");
  auto log = f.Log(f.personal.id);
  REQUIRE(log.size() == 2);
  CHECK(log[0].type == "workspace_created");
  CHECK(log[1].type == "member_joined");
  CHECK(log[1].entity["role"] == "owner");
}

TEST_CASE("a change and its event commit together or not at all") {
  Fixture f;
  int64_t head = f.Reload(f.personal.id).head_seq;
  Status s = f.store->Write([&](Tx& tx) -> Status {
    MG_RETURN_IF_ERROR(CreateMemory(tx, f.actor(), f.personal.id, Draft("doomed")).status());
    return Status::Internal("simulated failure after the change");
  });
  CHECK_FALSE(s.ok());
  CHECK(f.Reload(f.personal.id).head_seq == head);
  auto listed = f.store->ReadValue<std::vector<Memory>>([&](Tx& tx) {
    MemoryQuery q;
    q.workspace_id = f.personal.id;
    return tx.ListMemories(q);
  });
  CHECK(listed->empty());
  CHECK(f.Log(f.personal.id).size() == static_cast<size_t>(head));
}

TEST_CASE("seqs are dense per workspace across mixed operations and concurrent writers") {
  Fixture f;
  Workspace team = *f.store->WriteValue<Workspace>([&](Tx& tx) { return CreateTeam(tx, f.actor(), "T", {}); });
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t)
    writers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string& ws = (i % 2) ? team.id : f.personal.id;
        auto m = f.store->WriteValue<Memory>(
            [&](Tx& tx) { return CreateMemory(tx, f.actor(), ws, Draft(fmt::format("m{}", t * 100 + i))); });
        REQUIRE(m.ok());
        MemoryPatch p;
        p.title = "edited";
        REQUIRE(f.store->Write([&](Tx& tx) { return UpdateMemory(tx, f.actor(), ws, m->id, p).status(); }).ok());
        if (i % 5 == 0)
          REQUIRE(f.store->Write([&](Tx& tx) { return DeleteMemory(tx, f.actor(), ws, m->id).status(); }).ok());
      }
    });
  for (auto& w : writers) w.join();
  for (const auto& ws : {f.personal.id, team.id}) {
    auto log = f.Log(ws);
    REQUIRE(!log.empty());
    for (size_t i = 0; i < log.size(); ++i) CHECK(log[i].seq == static_cast<int64_t>(i + 1));
    CHECK(f.Reload(ws).head_seq == static_cast<int64_t>(log.size()));
  }
}

TEST_CASE("versions: updates bump, no-op updates append nothing, older bases merge, future bases conflict") {
  Fixture f;
  auto m = *f.store->WriteValue<Memory>([&](Tx& tx) { return CreateMemory(tx, f.actor(), f.personal.id, Draft("a")); });
  CHECK(m.version == 1);
  auto update = [&](const MemoryPatch& p) {
    return f.store->WriteValue<ChangeOutcome>([&](Tx& tx) { return UpdateMemory(tx, f.actor(), f.personal.id, m.id, p); });
  };
  MemoryPatch p;
  p.title = "b";
  p.base_version = 1;
  p.edited_at = "2026-11-25T10:00:00.000Z";
  auto m2 = update(p);
  REQUIRE(m2.ok());
  CHECK(m2->memory.version == 2);
  auto log = f.Log(f.personal.id);
  CHECK(log.back().extra["changed"] == json{"title"});
  CHECK(log.back().extra["edited_at"] == "2026-11-25T10:00:00.000Z");
  int64_t head = f.Reload(f.personal.id).head_seq;
  p.base_version = 2;
  auto same = update(p);
  CHECK(same->memory.version == 2);
  CHECK(f.Reload(f.personal.id).head_seq == head);
  // Based on version 1 again, edited later: merged, the later edit wins and
  // the value it replaced is kept.
  p.title = "c";
  p.base_version = 1;
  p.edited_at = "2026-11-25T10:05:00.000Z";
  auto merged = update(p);
  REQUIRE(merged.ok());
  CHECK(merged->memory.version == 3);
  CHECK(merged->memory.title == "c");
  REQUIRE(merged->conflicts.size() == 1);
  CHECK(merged->conflicts[0].field == "title");
  CHECK(merged->conflicts[0].lost == "b");
  CHECK(merged->conflicts[0].seq == f.Reload(f.personal.id).head_seq - 1);  // the memory_updated event
  log = f.Log(f.personal.id);
  CHECK(log[log.size() - 2].extra["conflicts"][0]["id"] == merged->conflicts[0].id);
  CHECK(log.back().type == "conflict_created");
  p.base_version = 7;
  auto future = update(p);
  CHECK(future.status().reason() == "version_conflict");
  CHECK(future.status().details()["current_version"] == 3);
}

TEST_CASE("deleting a memory tombstones it and its relationships, one event each") {
  Fixture f;
  auto a = *f.store->WriteValue<Memory>([&](Tx& tx) { return CreateMemory(tx, f.actor(), f.personal.id, Draft("a")); });
  auto b = *f.store->WriteValue<Memory>([&](Tx& tx) { return CreateMemory(tx, f.actor(), f.personal.id, Draft("b")); });
  Relationship r;
  r.from_memory_id = a.id;
  r.to_memory_id = b.id;
  r.type = "SOLVES";
  REQUIRE(f.store->Write([&](Tx& tx) { return CreateRelationship(tx, f.actor(), f.personal.id, r).status(); }).ok());
  int64_t head = f.Reload(f.personal.id).head_seq;
  REQUIRE(f.store->Write([&](Tx& tx) { return DeleteMemory(tx, f.actor(), f.personal.id, b.id).status(); }).ok());
  auto log = f.Log(f.personal.id);
  REQUIRE(log.size() == static_cast<size_t>(head + 2));
  CHECK(log[head].type == "memory_deleted");
  CHECK(log[head].entity["deleted"] == true);
  CHECK(log[head + 1].type == "relationship_deleted");
  auto tomb = f.store->ReadValue<std::optional<Memory>>([&](Tx& tx) { return tx.FindMemory(f.personal.id, b.id); });
  CHECK((*tomb)->deleted);
  MemoryPatch p;
  p.title = "resurrect";
  auto upd = f.store->WriteValue<ChangeOutcome>([&](Tx& tx) { return UpdateMemory(tx, f.actor(), f.personal.id, b.id, p); });
  REQUIRE(upd.ok());
  CHECK(upd->hit_tombstone);  // the delete wins; the update is kept
  REQUIRE(upd->conflicts.size() == 1);
  CHECK(upd->conflicts[0].kind == "update_after_delete");
  CHECK(upd->conflicts[0].lost == json{{"title", "resurrect"}});
  CHECK(f.Log(f.personal.id).back().type == "conflict_created");
  // A relationship to a deleted memory cannot be created.
  auto again = f.store->WriteValue<Relationship>([&](Tx& tx) { return CreateRelationship(tx, f.actor(), f.personal.id, r); });
  CHECK(again.status().reason() == "memory_not_found");
}

TEST_CASE("migrations are recorded once and re-opening is a no-op") {
  Fixture f;
  int v = f.store->schema_version();
  CHECK(v == static_cast<int>(SqliteMigrations().size()));
  f.store.reset();
  auto again = SqliteStore::Open(f.dir + "/t.db");
  REQUIRE(again.ok());
  CHECK((*again)->schema_version() == v);
  auto db = sql::Db::Open(f.dir + "/t.db");
  REQUIRE(db.ok());
  auto q = db->Prepare("SELECT COUNT(*), MAX(version) FROM schema_version");
  REQUIRE(q.ok());
  REQUIRE(q->Step());
  CHECK(q->Int(0) == v);
  CHECK(q->Int(1) == v);
  auto strict = db->Prepare("SELECT COUNT(*) FROM pragma_table_list WHERE strict = 1 AND schema = 'main'");
  REQUIRE(strict.ok());
  REQUIRE(strict->Step());
  CHECK(strict->Int(0) >= 8);
}

TEST_CASE("sealed idempotent answers open only with the same key material") {
  REQUIRE(InitCrypto().ok());
  std::string sealed = Seal("{\"token\":\"mg_secret\"}", "key-1\nhash");
  CHECK(sealed.find("mg_secret") == std::string::npos);
  CHECK(Unseal(sealed, "key-1\nhash").value() == "{\"token\":\"mg_secret\"}");
  CHECK_FALSE(Unseal(sealed, "key-2\nhash").ok());
  CHECK_FALSE(Unseal("short", "key-1\nhash").ok());
}

TEST_CASE("tokens are minted with the mg_ prefix and stored only as hashes") {
  REQUIRE(InitCrypto().ok());
  auto t = MintToken();
  CHECK(t.secret.rfind("mg_", 0) == 0);
  CHECK(t.secret.size() == 51);
  CHECK(t.hash == HashSecret(t.secret));
  CHECK(t.hash.find(t.secret.substr(3)) == std::string::npos);
  CHECK(t.prefix == t.secret.substr(0, 9));
  CHECK(ConstantTimeEquals("abc", "abc"));
  CHECK_FALSE(ConstantTimeEquals("abc", "abd"));
  CHECK_FALSE(ConstantTimeEquals("abc", "abcd"));
  auto h = HashPassword("correct horse");
  REQUIRE(h.ok());
  CHECK(h->rfind("$argon2id$", 0) == 0);
  CHECK(VerifyPassword(*h, "correct horse"));
  CHECK_FALSE(VerifyPassword(*h, "wrong horse"));
}

TEST_CASE("the reader pool is bounded: many concurrent reads share at most kMaxReaders connections") {
  Fixture f;
  std::atomic<int> inside{0}, most{0}, ok{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 48; ++i)
    readers.emplace_back([&] {
      Status s = f.store->Read([&](Tx& tx) -> Status {
        int now = ++inside;
        for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
        }
        // Hold the connection a while, so the reads overlap.
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        --inside;
        return tx.CountUsers().status();
      });
      if (s.ok()) ++ok;
    });
  for (auto& t : readers) t.join();
  CHECK(ok == 48);
  CHECK(most <= static_cast<int>(SqliteStore::kMaxReaders));
  CHECK(most > 1);
  // Idle connections beyond the idle bound were closed as they came back.
  CHECK(f.store->readers_open() <= SqliteStore::kIdleReaders);
}

TEST_CASE("noting a token's use after it was revoked never brings it back") {
  Fixture f;
  auto issued = f.store->WriteValue<IssuedToken>([&](Tx& tx) { return IssueToken(tx, f.alice.id, "ci"); });
  REQUIRE(issued.ok());
  // The router reads the token (request A), then a revocation commits
  // (request B), then A notes the use it saw: the revocation must hold.
  auto seen = f.store->ReadValue<Authenticated>([&](Tx& tx) { return Authenticate(tx, issued->secret); });
  REQUIRE(seen.ok());
  REQUIRE(f.store->Write([&](Tx& tx) { return RevokeToken(tx, f.alice.id, seen->token.id).status(); }).ok());
  REQUIRE(f.store->Write([&](Tx& tx) { return tx.TouchToken(seen->token.id, "2026-11-29T12:00:00.000Z"); }).ok());
  auto after = f.store->ReadValue<Authenticated>([&](Tx& tx) { return Authenticate(tx, issued->secret); });
  CHECK_FALSE(after.ok());
  auto tokens = f.store->ReadValue<std::vector<TokenRecord>>([&](Tx& tx) { return tx.ListTokens(f.alice.id); });
  REQUIRE(tokens.ok());
  for (const auto& t : *tokens)
    if (t.id == seen->token.id) {
      CHECK(t.revoked_at.has_value());
      CHECK(t.last_used_at != std::optional<std::string>("2026-11-29T12:00:00.000Z"));
    }
}

TEST_CASE("browser sessions: their own kind of secret, revoked together, purged a while after they end") {
  Fixture f;
  auto issue = [&](CredentialKind kind, std::optional<std::chrono::seconds> life) {
    auto t = f.store->WriteValue<IssuedToken>(
        [&](Tx& tx) { return IssueToken(tx, f.alice.id, "x", life, kind); });
    REQUIRE(t.ok());
    return *t;
  };
  const IssuedToken token = issue(CredentialKind::kToken, std::nullopt);
  const IssuedToken live = issue(CredentialKind::kSession, std::chrono::hours(1));
  const IssuedToken gone = issue(CredentialKind::kSession, std::chrono::seconds(1));
  CHECK(live.secret.rfind("mgs_", 0) == 0);
  CHECK(live.record.session());
  CHECK_FALSE(token.record.session());
  auto auth = [&](const std::string& secret, CredentialKind kind) {
    return f.store->ReadValue<Authenticated>([&](Tx& tx) { return Authenticate(tx, secret, kind); });
  };
  CHECK(auth(live.secret, CredentialKind::kSession).ok());
  // Neither kind passes for the other.
  CHECK_FALSE(auth(live.secret, CredentialKind::kToken).ok());
  CHECK_FALSE(auth(token.secret, CredentialKind::kSession).ok());

  auto revoked = f.store->WriteValue<std::vector<TokenRecord>>([&](Tx& tx) { return RevokeSessions(tx, f.alice.id); });
  REQUIRE(revoked.ok());
  CHECK(revoked->size() == 2);
  CHECK_FALSE(auth(live.secret, CredentialKind::kSession).ok());
  CHECK(auth(token.secret, CredentialKind::kToken).ok());

  auto count = [&] {
    auto tokens = f.store->ReadValue<std::vector<TokenRecord>>([&](Tx& tx) { return tx.ListTokens(f.alice.id); });
    REQUIRE(tokens.ok());
    return tokens->size();
  };
  CHECK(count() == 3);
  // Ended before a time long past: nothing goes yet.
  auto none = f.store->WriteValue<int64_t>([&](Tx& tx) { return tx.PurgeEndedSessions("2000-01-01T00:00:00.000Z"); });
  REQUIRE(none.ok());
  CHECK(*none == 0);
  auto purged = f.store->WriteValue<int64_t>([&](Tx& tx) { return tx.PurgeEndedSessions("2999-01-01T00:00:00.000Z"); });
  REQUIRE(purged.ok());
  CHECK(*purged == 2);
  CHECK(count() == 1);  // the access token stays, revoked or not
}
