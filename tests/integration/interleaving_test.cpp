// Replicas against a real server, with this test deciding the order in which
// each machine hears things: the answers to its writes and the change log's
// events are held and delivered in random order relative to each other, events
// are duplicated and dropped, answers are lost and the op resent, writes are
// refused, a member is lowered to viewer mid-queue, and replicas are reset with
// writes pending. The replica's own parts are driven directly (SendOp /
// SettleOp / ApplyEvents / LoadSnapshot), exactly as the agent drives them,
// only in orders the agent cannot be made to choose.
//
// After every step each replica passes its model check (CheckView); at the
// end, once everything is delivered, every replica equals the server field by
// field, every row is `synced`, and the digests agree (docs/team-sync.md).
#include "http.h"
#include "machine.h"
#include "process.h"
#include "replica.h"
#include "sync.h"

#include "mgteam/digest.h"

#include <doctest/doctest.h>

#include <deque>
#include <map>
#include <random>
#include <set>

using namespace mgteam;
using namespace mgteam::agent;
using namespace mgteam::test;

namespace {

struct Peer {
  std::string name;
  TestUser user;
  TempDir dir;
  std::unique_ptr<Replica> replica;
  std::unique_ptr<ApiClient> api;
  // The op on its way and the server's answer to it, not yet delivered. Like
  // the agent, a peer has one op in flight at a time.
  std::optional<std::pair<OutboxOp, Result<json>>> in_flight;
  std::deque<Event> inbox;  // events fetched from the log, not yet applied
};

struct Counts {
  std::map<std::string, int> n;
  void Add(const std::string& what) { ++n[what]; }
  std::string ToString() const {
    std::string s;
    for (const auto& [k, v] : n) s += (s.empty() ? "" : ", ") + k + "=" + std::to_string(v);
    return s;
  }
};

class World {
 public:
  explicit World(uint64_t seed) : rng_(seed), server_("interleavings", "admin") {
    TestUser carol = SignUp(*server_.http, "carol");
    AddToTeam(*server_.http, server_.alice, server_.team, carol, "member");
    carol_id_ = carol.id;
    for (const auto& u : {server_.alice, server_.bob, carol}) {
      auto p = std::make_unique<Peer>();
      p->name = u.name;
      p->user = u;
      auto opened = Replica::Open(p->dir.path() + "/replica.db");
      REQUIRE(opened.ok());
      p->replica = std::move(opened).value();
      auto url = ParseServerUrl(server_.url());
      REQUIRE(url.ok());
      p->api = std::make_unique<ApiClient>(*url);
      p->api->set_token(u.token);
      REQUIRE(p->replica->Bind(server_.url(), u.id).ok());
      REQUIRE(DiscoverWorkspaces(*p->api, *p->replica).ok());
      REQUIRE(CatchUp(*p->api, *p->replica, server_.team).ok());
      peers_.push_back(std::move(p));
    }
  }

  void Step() {
    Peer& p = *peers_[Pick(peers_.size())];
    int action = static_cast<int>(Pick(100));
    if (action < 30) Write(p);
    else if (action < 45) Send(p);
    else if (action < 60) DeliverAnswer(p);
    else if (action < 63) LoseAnswer(p);
    else if (action < 73) Fetch(p);
    else if (action < 88) ApplySome(p);
    else if (action < 91) Duplicate(p);
    else if (action < 94) Drop(p);
    else if (action < 96) ChangeCarolsRole();
    else if (action < 98) Reset(p);
    else Dismiss(p);
    for (auto& q : peers_) {
      Status check = q->replica->CheckView();
      REQUIRE_MESSAGE(check.ok(), q->name << " after step " << steps_ << ": " << check.ToString());
    }
    ++steps_;
  }

  // Everything still held is delivered, every op sent, every event applied.
  void Quiesce() {
    for (int round = 0; round < 20; ++round) {
      bool busy = false;
      for (auto& p : peers_) {
        if (p->in_flight) DeliverAnswer(*p);
        FlushResult f = Flush(*p->api, *p->replica, server_.team, false);
        REQUIRE_MESSAGE(f.blocked.ok(), f.blocked.ToString());
        p->inbox.clear();
        REQUIRE(CatchUp(*p->api, *p->replica, server_.team).ok());
        auto ops = p->replica->Ops();
        REQUIRE(ops.ok());
        for (const auto& op : *ops) {
          busy |= op.state == OpState::kPending;
          if (op.state == OpState::kFailed) REQUIRE(p->replica->DismissOp(op.op_id).ok());
        }
      }
      if (!busy) break;
    }
    const int64_t head = server_.Head();
    for (auto& p : peers_) {
      REQUIRE(CatchUp(*p->api, *p->replica, server_.team).ok());
      CHECK((*p->replica->FindWorkspace(server_.team))->cursor == head);
      CHECK(p->replica->Ops()->empty());
    }
  }

  // Every replica's rows equal the server's, field by field, and are synced.
  void CompareWithServer() {
    std::map<std::string, json> memories = ServerRows("memories"), relationships = ServerRows("relationships");
    RowDigest mdigest, rdigest;
    for (const auto& [id, row] : memories) mdigest.Add(*Memory::FromJson(row));
    for (const auto& [id, row] : relationships) rdigest.Add(*Relationship::FromJson(row));
    for (auto& p : peers_) {
      MemoryFilter f;
      f.workspace_id = server_.team;
      f.limit = 100000;
      auto local = p->replica->ListMemories(f);
      REQUIRE(local.ok());
      std::set<std::string> seen;
      for (const auto& m : *local) {
        seen.insert(m.memory.id);
        CHECK_MESSAGE(m.sync == SyncState::kSynced, p->name << " " << m.memory.id);
        auto it = memories.find(m.memory.id);
        if (it == memories.end()) {
          FAIL_CHECK(p->name << " shows memory " << m.memory.id << " that the server does not have live");
          continue;
        }
        CHECK_MESSAGE(m.memory.ToJson() == it->second,
                      p->name << " memory " << m.memory.id << "\n local: " << m.memory.ToJson().dump()
                              << "\nserver: " << it->second.dump());
      }
      for (const auto& [id, row] : memories)
        CHECK_MESSAGE(seen.count(id), p->name << " lacks memory " << id << ": " << row.dump());
      auto rels = p->replica->ListRelationships(server_.team, std::nullopt, std::nullopt, false, 100000);
      REQUIRE(rels.ok());
      CHECK(rels->size() == relationships.size());
      for (const auto& r : *rels) {
        CHECK(r.sync == SyncState::kSynced);
        auto it = relationships.find(r.relationship.id);
        REQUIRE_MESSAGE(it != relationships.end(), p->name << " shows relationship " << r.relationship.id);
        CHECK(r.relationship.ToJson() == it->second);
      }
      auto digest = p->replica->ServerDigest(server_.team);
      REQUIRE(digest.ok());
      CHECK((*digest)["memories"] == mdigest.ToJson());
      CHECK((*digest)["relationships"] == rdigest.ToJson());
    }
    MESSAGE("server holds " << memories.size() << " live memories, " << relationships.size() << " relationships");
  }

  Counts counts;
  int steps_ = 0;

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  std::string Word() {
    static const std::vector<std::string> kWords = {"redis", "timeout", "cache", "retry", "index", "lock"};
    return kWords[Pick(kWords.size())];
  }

  std::vector<LocalMemory> Live(Peer& p) {
    MemoryFilter f;
    f.workspace_id = server_.team;
    f.limit = 1000;
    return p.replica->ListMemories(f).value_or({});
  }

  // A local write; one the replica refuses up front must queue nothing.
  void Write(Peer& p) {
    const size_t before = p.replica->Ops()->size();
    auto live = Live(p);
    int kind = static_cast<int>(Pick(10));
    Status s;
    std::string what;
    if (live.size() < 3 || kind == 0) {
      Memory draft;
      draft.title = p.name + " " + Word();
      draft.content = Word();
      s = p.replica->CreateMemory(server_.team, draft).status();
      what = "create";
    } else if (kind <= 5) {
      const auto& m = live[Pick(live.size())].memory;
      MemoryPatch patch;
      if (Pick(2)) patch.content = p.name + " says " + Word();
      std::vector<std::string> tags = m.tags;
      tags.push_back(p.name);
      if (Pick(3) == 0 && !tags.empty()) tags.erase(tags.begin());
      std::sort(tags.begin(), tags.end());
      tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
      patch.tags = tags;
      if (Pick(4) == 0) patch.title = p.name + "'s " + Word();
      s = p.replica->UpdateMemory(server_.team, m.id, patch).status();
      what = "update";
    } else if (kind == 6) {
      s = p.replica->DeleteMemory(server_.team, live[Pick(live.size())].memory.id).status();
      what = "delete";
    } else if (kind <= 8) {
      Relationship r;
      r.from_memory_id = live[Pick(live.size())].memory.id;
      r.to_memory_id = live[Pick(live.size())].memory.id;
      r.type = Pick(2) ? "SOLVES" : "RELATED_TO";
      if (r.from_memory_id == r.to_memory_id) return;
      s = p.replica->CreateRelationship(server_.team, r).status();
      what = "relate";
    } else {
      auto rels = p.replica->ListRelationships(server_.team, std::nullopt, std::nullopt, false, 1000).value_or({});
      if (rels.empty()) return;
      s = p.replica->DeleteRelationship(server_.team, rels[Pick(rels.size())].relationship.id).status();
      what = "unrelate";
    }
    if (s.ok()) {
      counts.Add("write." + what);
      CHECK(p.replica->Ops()->size() == before + 1);
    } else {
      REQUIRE_MESSAGE((s.code() == Code::kPermissionDenied || s.code() == Code::kConflict ||
                       s.code() == Code::kNotFound || s.code() == Code::kInvalid),
                      s.ToString());
      counts.Add("refused_up_front." + s.reason());
      CHECK(p.replica->Ops()->size() == before);
    }
  }

  void Send(Peer& p) {
    if (p.in_flight) return;
    auto next = p.replica->NextOp(server_.team);
    REQUIRE(next.ok());
    if (!*next) return;
    if ((*next)->attempts > 0 || resent_.count((*next)->op_id)) counts.Add("op_resent");
    resent_.insert((*next)->op_id);
    p.in_flight.emplace(**next, SendOp(*p.api, **next));
  }

  void DeliverAnswer(Peer& p) {
    if (!p.in_flight) return;
    auto& [op, answer] = *p.in_flight;
    // Was the change's own event (or a later one) applied first?
    if (answer.ok() && answer->is_object() && answer->contains("version")) {
      int64_t v = (*answer)["version"].get<int64_t>();
      bool memory = IsMemoryOp(op.kind);
      bool event_first = false;
      if (memory) {
        for (const auto& m : p.replica->ServerMemories(server_.team).value_or({}))
          event_first |= m.id == op.entity_id && m.version >= v;
      } else {
        for (const auto& r : p.replica->ServerRelationships(server_.team).value_or({}))
          event_first |= r.id == op.entity_id && r.version >= v;
      }
      counts.Add(event_first ? "answer_after_event" : "answer_before_event");
    }
    auto outcome = SettleOp(*p.replica, op, answer);
    REQUIRE_MESSAGE(outcome.ok(), outcome.status().ToString());
    if (*outcome == OpOutcome::kRefused) counts.Add("refused_by_server." + answer.status().reason());
    if (*outcome == OpOutcome::kConflicted) counts.Add("conflicted");
    p.in_flight.reset();
  }

  // The connection dropped before the answer came: the op stays pending and
  // is sent again with the same idempotency key.
  void LoseAnswer(Peer& p) {
    if (!p.in_flight) return;
    p.in_flight.reset();
    counts.Add("answer_lost");
  }

  void Fetch(Peer& p) {
    auto w = p.replica->FindWorkspace(server_.team);
    REQUIRE(w.ok());
    int64_t after = p.inbox.empty() ? (*w)->cursor : p.inbox.back().seq;
    auto page = p.api->Get("/api/v1/workspaces/" + server_.team + "/events?since=" + std::to_string(after) +
                           "&limit=50&epoch=" + (*w)->epoch);
    REQUIRE(page.ok());
    for (const auto& e : (*page)["events"])
      if (auto ev = Event::FromJson(e)) p.inbox.push_back(std::move(*ev));
  }

  void ApplySome(Peer& p) {
    if (p.inbox.empty()) return;
    size_t n = 1 + Pick(p.inbox.size());
    std::vector<Event> batch(p.inbox.begin(), p.inbox.begin() + static_cast<long>(n));
    auto applied = p.replica->ApplyEvents(server_.team, batch);
    REQUIRE_MESSAGE(applied.ok(), applied.status().ToString());
    if (applied->removed_from_workspace) FAIL("nobody is removed in this test");
    p.inbox.erase(p.inbox.begin(), p.inbox.begin() + static_cast<long>(n));
    counts.Add("events_applied");
  }

  // An event already applied arrives again (a stream resumed at an old id).
  void Duplicate(Peer& p) {
    auto w = p.replica->FindWorkspace(server_.team);
    if ((*w)->cursor == 0) return;
    auto page = p.api->Get("/api/v1/workspaces/" + server_.team + "/events?since=" +
                           std::to_string(std::max<int64_t>(0, (*w)->cursor - 3)) + "&limit=3");
    REQUIRE(page.ok());
    std::vector<Event> again;
    for (const auto& e : (*page)["events"])
      if (auto ev = Event::FromJson(e); ev && ev->seq <= (*w)->cursor) again.push_back(std::move(*ev));
    auto applied = p.replica->ApplyEvents(server_.team, again);
    REQUIRE(applied.ok());
    CHECK(applied->applied == 0);
    counts.Add("events_duplicated");
  }

  // An event lost on the way: the one after it is refused (the log is dense)
  // and nothing changes; the peer fetches again from its cursor.
  void Drop(Peer& p) {
    if (p.inbox.size() < 2) return;
    auto before = p.replica->FindWorkspace(server_.team);
    auto applied = p.replica->ApplyEvents(server_.team, {p.inbox[1]});
    CHECK_FALSE(applied.ok());
    CHECK((*p.replica->FindWorkspace(server_.team))->cursor == (*before)->cursor);
    p.inbox.clear();
    counts.Add("event_dropped");
  }

  void ChangeCarolsRole() {
    carol_is_viewer_ = !carol_is_viewer_;
    auto r = server_.http->Patch("/api/v1/teams/" + server_.team + "/members/" + carol_id_,
                                 {{"role", carol_is_viewer_ ? "viewer" : "member"}}, server_.alice.token);
    REQUIRE_MESSAGE(r.status == 200, r.raw);
    counts.Add(carol_is_viewer_ ? "carol_lowered_to_viewer" : "carol_raised_to_member");
  }

  // The server said `reset`: reload the snapshot, keeping pending writes.
  void Reset(Peer& p) {
    if (p.in_flight) DeliverAnswer(p);
    bool pending = !p.replica->Ops()->empty();
    REQUIRE(LoadSnapshot(*p.api, *p.replica, server_.team).ok());
    p.inbox.clear();
    counts.Add(pending ? "reset_with_ops_pending" : "reset");
  }

  // The CLI reports a refusal and dismisses it.
  void Dismiss(Peer& p) {
    for (const auto& op : p.replica->Ops().value_or({}))
      if (op.state == OpState::kFailed) {
        REQUIRE(p.replica->DismissOp(op.op_id).ok());
        counts.Add("refusal_dismissed");
      }
  }

  std::map<std::string, json> ServerRows(const std::string& kind) {
    std::map<std::string, json> out;
    std::string after;
    while (true) {
      auto page = server_.http->Get("/api/v1/workspaces/" + server_.team + "/snapshot?kind=" + kind +
                                        "&limit=500&after=" + after,
                                    server_.alice.token);
      REQUIRE(page.status == 200);
      for (const auto& item : page.body["items"]) out[item["id"].get<std::string>()] = item;
      if (!page.body["next_after"].is_string()) break;
      after = page.body["next_after"].get<std::string>();
    }
    return out;
  }

  std::mt19937_64 rng_;
  TeamServer server_;
  std::string carol_id_;
  bool carol_is_viewer_ = false;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::set<std::string> resent_;
};

uint64_t SeedFromEnv(uint64_t fallback) {
  const char* s = std::getenv("MGTEAM_SEED");
  return s && *s ? std::stoull(s) : fallback;
}

}  // namespace

TEST_CASE("answers and events in every order, refusals, role changes and resets: replicas equal the server") {
  const uint64_t base = SeedFromEnv(20261129);
  const int kSteps = 600;
  Counts total;
  for (uint64_t seed = base; seed < base + 3; ++seed) {
    MESSAGE("seed " << seed << " (replay: MGTEAM_SEED=" << seed << ")");
    World world(seed);
    for (int i = 0; i < kSteps; ++i) world.Step();
    world.Quiesce();
    world.CompareWithServer();
    for (const auto& [k, v] : world.counts.n) total.n[k] += v;
  }
  MESSAGE("3 seeds x " << kSteps << " steps: " << total.ToString());
  // The orders this test exists for all happened.
  for (const char* must : {"answer_before_event", "answer_after_event", "events_duplicated", "event_dropped",
                           "answer_lost", "op_resent", "reset_with_ops_pending", "carol_lowered_to_viewer"})
    CHECK_MESSAGE(total.n[must] > 0, must);
  int refused = 0;
  for (const auto& [k, v] : total.n) refused += k.rfind("refused_by_server.", 0) == 0 ? v : 0;
  CHECK(refused > 0);
}
