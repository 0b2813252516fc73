// Randomized convergence with real agents (issue 10): alice (owner), bob
// (admin) and carol (member) each on their own machine with a running
// mgteam-agent write concurrently through the real CLI on a small shared set
// of memories, while agents are killed with SIGKILL and the server is
// stopped and started again; midway alice lowers carol to viewer. At the end,
// with everything up and quiet, every replica must hold exactly the server's
// live rows, field by field and by digest, and nothing carol wrote after her
// demotion may be anywhere.
//
// A fixed seed (MGTEAM_SEED overrides it, MGTEAM_ROUNDS the round count)
// decides every choice: who writes, what, on which memory (by index into the
// pool as it stood when the round began), and when the chaos strikes
// (counted in completed writes, not in time). Thread interleaving and the
// outcomes of races are the only things left to chance.
#include "http.h"
#include "machine.h"
#include "replica.h"
#include "process.h"
#include "replica_check.h"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

using namespace mgteam;
using namespace mgteam::test;
using namespace std::chrono_literals;

namespace {

constexpr unsigned kDefaultSeed = 20261210;
constexpr int kDefaultRounds = 80;

unsigned EnvNumber(const char* name, unsigned fallback) {
  const char* v = std::getenv(name);
  return v && *v ? static_cast<unsigned>(std::strtoul(v, nullptr, 10)) : fallback;
}

// One machine of one user.
struct Person {
  std::string name;
  TestUser account;
  std::unique_ptr<Machine> machine;
  std::atomic<int> agent_epoch{1};  // odd while the agent is down (as before its first start)
};

// Shared ids, as they stood when a round began. Writers pick from this copy
// (by index, so a seed replays the same choices) and report what they made.
struct Pool {
  std::vector<std::string> memories;  // creation order
  std::set<std::string> deleted;      // deletes the CLI reported as done
  std::map<std::string, std::vector<std::string>> tags;  // tags this test added, per memory
  std::vector<std::string> relationships;
  // In some rounds every writer goes mostly for one memory (an index into
  // Recent(false, 8)), so that concurrent edits of one memory really race.
  int hot = -1;

  std::vector<std::string> Recent(bool want_deleted, size_t n) const {
    std::vector<std::string> out;
    for (auto it = memories.rbegin(); it != memories.rend() && out.size() < n; ++it)
      if ((deleted.count(*it) > 0) == want_deleted) out.push_back(*it);
    return out;
  }
};

// One CLI write and what became of it.
struct Op {
  int round = 0;
  std::string user, kind, target, token;
  std::vector<std::string> args;
  bool wait = false;
  int exit_code = -1;
  std::string error_code;  // from the JSON error on stderr
  std::string err;
  std::string made_id;     // the id a create printed
  bool server_down = false;   // the server was stopped at some point while it ran
  bool agent_down = false;    // this machine's agent was down at some point while it ran
  bool after_demotion = false;  // carol's, begun after her demotion
  double seconds = 0;
};

// Exit codes a write may legitimately end with while the chaos goes on
// (README "Exit codes"): 0 done or handed to the agent, 4 role refused, 5 the
// memory is not in this replica (deleted, or not arrived yet), 6 a conflict
// (relationship exists, edit of a deleted memory), 7 queued offline. 1 only
// when it is the server's 422 for this particular write, which races make
// normal: a --wait relationship to a memory the server has just deleted
// ("memory_not_found"; the replica's own check for it exits 5), or a refusal
// whose answer was lost ("refused"). 8 only while the server was really down.
bool Legitimate(const Op& op) {
  switch (op.exit_code) {
    case 0: case 4: case 5: case 6: case 7: return true;
    case 1: return op.error_code == "refused" || op.error_code == "memory_not_found";
    case 8: return op.server_down;
    default: return false;
  }
}

std::string Describe(const Op& op) {
  std::string cmd;
  for (const auto& a : op.args) cmd += " " + a;
  return "round " + std::to_string(op.round) + " " + op.user + ":" + cmd + " -> exit " + std::to_string(op.exit_code) +
         (op.error_code.empty() ? "" : " (" + op.error_code + ")") + (op.server_down ? " [server down]" : "") +
         (op.agent_down ? " [agent down]" : "") + "\n    " + op.err.substr(0, 300);
}

// The error code of a --json command's failure: the last stderr line is
// {"error": {"code": ...}}.
std::string ErrorCode(const std::string& err) {
  auto end = err.find_last_not_of('\n');
  if (end == std::string::npos) return "";
  auto start = err.rfind('\n', end);
  json j = json::parse(err.substr(start == std::string::npos ? 0 : start + 1, end + 1), nullptr, false);
  return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
}

// True if `text` holds `token` not followed by another digit ("op-1-x-1" is
// not in "op-1-x-12").
bool HasToken(const std::string& text, const std::string& token) {
  for (size_t p = text.find(token); p != std::string::npos; p = text.find(token, p + 1)) {
    size_t after = p + token.size();
    if (after >= text.size() || !std::isdigit(static_cast<unsigned char>(text[after]))) return true;
  }
  return false;
}

// Progress of a round, for the chaos to strike after a given number of
// completed writes (an event, not a sleep).
struct Progress {
  std::mutex mu;
  std::condition_variable cv;
  int done = 0, writers_left = 0;
  int waiting = 0;  // writers inside a --wait write

  void Waiting(int delta) {
    std::lock_guard<std::mutex> lock(mu);
    waiting += delta;
    cv.notify_all();
  }

  void OpDone() {
    std::lock_guard<std::mutex> lock(mu);
    ++done;
    cv.notify_all();
  }
  void WriterDone() {
    std::lock_guard<std::mutex> lock(mu);
    --writers_left;
    cv.notify_all();
  }
  // Until `n` writes are done, or every writer still running sits in a
  // --wait write (which may be waiting for the very server we would wait to
  // restart: the agent gives up only after 30 s), or all have finished.
  void WaitFor(int n) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, 120s, [&] { return done >= n || writers_left == waiting; });
  }
};

struct Chaos {
  std::atomic<int> server_epoch{0};  // odd while the server is down
  std::atomic<bool> carol_demoted{false};
  double stop_seconds = 0;  // spent stopping the server (main thread only)
};

// Chooses one write for `p` from the round's pool and runs it.
Op Write(Person& p, const Pool& pool, std::mt19937& rng, Chaos& chaos, Progress& progress, const std::string& team,
         int round, int i) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  Op op;
  op.round = round;
  op.user = p.name;
  op.token = "op-" + std::to_string(round) + "-" + p.name + "-" + std::to_string(i);
  op.after_demotion = p.name == "carol" && chaos.carol_demoted;
  // --wait only while the server is up: waiting on a stopped server takes
  // the agent's full 30 s to end in exit 7.
  op.wait = pick(100) < 20 && chaos.server_epoch % 2 == 0;
  std::vector<std::string> live = pool.Recent(false, 8), gone = pool.Recent(true, 3);
  // Mostly the live ones; now and then one already deleted, to race deletes.
  auto target = [&]() -> std::string {
    if (pool.hot >= 0 && static_cast<size_t>(pool.hot) < live.size() && pick(100) < 75) return live[pool.hot];
    if (!gone.empty() && pick(100) < 10) return gone[pick(gone.size())];
    return live[pick(live.size())];
  };
  int r = static_cast<int>(pick(100));
  if (live.size() < 2 || (r < 20 && live.size() < 10)) {
    op.kind = "add";
    op.args = {"memory", "add", "memory " + op.token, "--content", "written by " + p.name + " in " + op.token,
               "--tag", op.token};
  } else if (r < 60) {
    op.kind = "update";
    op.target = target();
    op.args = {"memory", "update", op.target};
    auto tags = pool.tags.find(op.target);
    // One to three different fields (a flag given twice is a usage error).
    std::set<size_t> fields;
    for (size_t n = 1 + pick(3); fields.size() < n;) fields.insert(pick(6));
    for (size_t f : fields) switch (f) {
        case 0: op.args.insert(op.args.end(), {"--content", p.name + " says " + op.token}); break;
        case 1: op.args.insert(op.args.end(), {"--title", "title " + op.token}); break;
        case 2: op.args.insert(op.args.end(), {"--summary", "summary " + op.token}); break;
        case 3: op.args.insert(op.args.end(), {"--importance", "0." + std::to_string(1 + pick(9))}); break;
        case 4:
          if (tags != pool.tags.end() && !tags->second.empty()) {
            op.args.insert(op.args.end(), {"--remove-tag", tags->second[pick(tags->second.size())]});
            break;
          }
          [[fallthrough]];
        default: op.args.insert(op.args.end(), {"--add-tag", op.token});
      }
  } else if (r < 70) {
    op.kind = "delete";
    op.target = target();
    op.args = {"memory", "delete", op.target};
  } else if (r < 88 || pool.relationships.empty()) {
    op.kind = "relate";
    std::string from = live[pick(live.size())], to = live[pick(live.size())];
    if (from == to) to = live[(std::find(live.begin(), live.end(), from) - live.begin() + 1) % live.size()];
    static const char* kTypes[] = {"RELATED_TO", "SOLVES", "CAUSES"};
    op.target = from + " " + to;
    op.args = {"relate", from, to, "--type", kTypes[pick(3)], "--context", "by " + p.name + " in " + op.token};
  } else {
    op.kind = "unrelate";
    op.target = pool.relationships[pool.relationships.size() - 1 - pick(std::min<size_t>(pool.relationships.size(), 6))];
    op.args = {"relationship", "delete", op.target};
  }
  op.args.insert(op.args.begin(), {"-w", team, "--json"});
  if (op.wait) op.args.push_back("--wait");

  const int server_before = chaos.server_epoch, agent_before = p.agent_epoch;
  auto t = std::chrono::steady_clock::now();
  if (op.wait) progress.Waiting(+1);
  ProcessResult res = p.machine->Cli(op.args);
  if (op.wait) progress.Waiting(-1);
  op.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  const int server_after = chaos.server_epoch, agent_after = p.agent_epoch;
  op.server_down = server_before % 2 == 1 || server_after != server_before;
  op.agent_down = agent_before % 2 == 1 || agent_after != agent_before;
  op.exit_code = res.timed_out ? -2 : res.exit_code;
  op.err = res.err;
  op.error_code = ErrorCode(res.err);
  if (op.kind == "add" || op.kind == "relate") {
    json made = json::parse(res.out, nullptr, false);
    if (made.is_object() && made.contains("id")) op.made_id = made["id"].get<std::string>();
  }
  return op;
}

// What a writer thread did in a round, merged into the pool afterwards.
struct WriterResult {
  std::vector<Op> ops;
};

struct World : TeamServer {
  std::vector<std::unique_ptr<Person>> people;  // alice, bob, carol
  TestUser carol;

  World() : TeamServer("Converge", "admin") {
    carol = SignUp(*http, "carol");
    AddToTeam(*http, alice, team, carol, "member");
    for (const TestUser* u : {&alice, &bob, &carol}) {
      auto p = std::make_unique<Person>();
      p->name = u->name;
      p->account = *u;
      p->machine = std::make_unique<Machine>(url(), *u);
      people.push_back(std::move(p));
    }
  }
  Person& owner() { return *people[0]; }
};

void KillAgent(Person& p) {
  p.agent_epoch++;
  p.machine->StopAgent(/*kill9=*/true);
}
void StartAgent(Person& p) {
  p.machine->StartAgent();
  p.agent_epoch++;
}
void StopServer(World& w, Chaos& chaos) {
  chaos.server_epoch++;
  auto t = std::chrono::steady_clock::now();
  w.StopServer();
  chaos.stop_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
void StartServer(World& w, Chaos& chaos) {
  w.StartServer();
  chaos.server_epoch++;
}

// Sends what is still queued everywhere: nudges each agent (a nudged flush
// ignores the backoff of ops that met a stopped server) and waits for its
// outbox to hold no pending op; repeats, since a flush that meets the server
// as it comes back defers again.
bool Settle(World& w, std::string* stuck) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    bool all = true;
    for (auto& p : w.people) {
      (void)p->machine->Agent().Flush();  // a nudge that fails shows as "not settled" just below
      if (!p->machine->WaitSettled(w.team, 10s)) {
        all = false;
        *stuck = p->name + ": " + p->machine->Cli({"sync", "status", "--json"}).out;
      }
    }
    if (all) return true;
  }
  return false;
}

// The writes of this run on the first rows that differ, to tell at a glance
// what led there (a refused delete, a race of two updates, ...).
// One row of each kind of difference first (a missing row, a tag, a time),
// then more up to `max_rows`.
std::string History(const std::vector<Op>& ops, const std::vector<RowDiff>& diffs, size_t max_rows = 6) {
  std::vector<std::string> ids;
  std::set<std::string> kinds;
  for (bool any : {false, true})
    for (const auto& d : diffs) {
      bool new_kind = kinds.insert(d.kind + "." + d.field).second;
      if ((new_kind || any) && std::find(ids.begin(), ids.end(), d.id) == ids.end() && ids.size() < max_rows)
        ids.push_back(d.id);
    }
  std::string out;
  for (const auto& id : ids) {
    out += "\n  writes on " + id + ":";
    for (const auto& op : ops) {
      if (op.made_id != id && op.target.find(id) == std::string::npos) continue;
      out += "\n    round " + std::to_string(op.round) + " " + op.user + " " + op.kind + (op.wait ? " --wait" : "") +
             " -> exit " + std::to_string(op.exit_code) + (op.error_code.empty() ? "" : " " + op.error_code) +
             (op.after_demotion ? " (after carol's demotion)" : "") + (op.server_down ? " [server down]" : "") +
             (op.agent_down ? " [agent down]" : "");
    }
  }
  return out;
}

}  // namespace

TEST_CASE("randomized with real agents: concurrent CLI writes, kill -9, server restarts and a demotion converge") {
  const unsigned seed = EnvNumber("MGTEAM_SEED", kDefaultSeed);
  const int rounds = static_cast<int>(EnvNumber("MGTEAM_ROUNDS", kDefaultRounds));
  MESSAGE("seed ", seed, ", ", rounds, " rounds (replay: MGTEAM_SEED=", seed, " MGTEAM_ROUNDS=", rounds, ")");
  INFO("seed ", seed, " rounds ", rounds);
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const auto started = std::chrono::steady_clock::now();

  World w;
  Chaos chaos;
  for (auto& p : w.people) StartAgent(*p);
  for (auto& p : w.people) REQUIRE(p->machine->WaitCursor(w.team, w.Head()));

  Pool pool;
  std::vector<Op> ops;
  int kills = 0, restarts = 0;
  const int demote_round = rounds / 2;
  for (int round = 0; round < rounds; ++round) {
    // Who writes this round (two or three of them) and how much.
    std::vector<Person*> writers;
    for (auto& p : w.people) writers.push_back(p.get());
    std::shuffle(writers.begin(), writers.end(), rng);
    writers.resize(2 + static_cast<size_t>(pick(2)));
    pool.hot = pick(100) < 40 ? pick(3) : -1;
    std::vector<unsigned> seeds;
    std::vector<int> counts;
    int total = 0;
    for (size_t i = 0; i < writers.size(); ++i) {
      seeds.push_back(static_cast<unsigned>(rng()));
      counts.push_back(1 + pick(3));
      total += counts.back();
    }
    // The chaos of this round, and after how many writes it strikes.
    enum { kNone, kKill, kRestart, kBoth, kDemote } what = kNone;
    if (round == demote_round) what = kDemote;
    else if (int c = pick(100); c < 15) what = kKill;
    else if (c < 28) what = kRestart;
    else if (c < 36) what = kBoth;  // writes with neither: queued by the CLI (exit 7)
    Person* victim = w.people[static_cast<size_t>(pick(3))].get();
    const int strike = pick(total), recover = strike + 1 + pick(std::max(1, total - strike));

    Progress progress;
    progress.writers_left = static_cast<int>(writers.size());
    std::vector<WriterResult> results(writers.size());
    {
      std::vector<std::jthread> threads;
      for (size_t i = 0; i < writers.size(); ++i)
        threads.emplace_back([&, i] {
          std::mt19937 mine(seeds[i]);
          for (int k = 0; k < counts[i]; ++k) {
            results[i].ops.push_back(Write(*writers[i], pool, mine, chaos, progress, w.team, round, k));
            progress.OpDone();
          }
          progress.WriterDone();
        });
      progress.WaitFor(strike);
      if (what == kKill) {
        KillAgent(*victim);
        ++kills;
        progress.WaitFor(recover);
        StartAgent(*victim);
      } else if (what == kRestart) {
        StopServer(w, chaos);
        ++restarts;
        progress.WaitFor(recover);
        StartServer(w, chaos);
      } else if (what == kBoth) {
        KillAgent(*victim);
        StopServer(w, chaos);
        ++kills;
        ++restarts;
        progress.WaitFor(recover);
        StartAgent(*victim);  // it starts offline and must find its way back
        StartServer(w, chaos);
      } else if (what == kDemote) {
        auto r = w.owner().machine->Cli({"-w", w.team, "member", "role", w.carol.email, "viewer"});
        REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        chaos.carol_demoted = true;
      }
    }  // the writers are joined here
    for (auto& res : results)
      for (auto& op : res.ops) {
        // Done (0) or queued offline (7): it is on its way either way.
        const bool taken = op.exit_code == 0 || op.exit_code == 7;
        // Carol's creations after her demotion can only be refused: nobody
        // else will ever see them, so they stay out of the pool.
        if (taken && !op.made_id.empty() && !op.after_demotion) {
          (op.kind == "add" ? pool.memories : pool.relationships).push_back(op.made_id);
          if (op.kind == "add") pool.tags[op.made_id].push_back(op.token);
        }
        if (taken && op.kind == "update") {
          auto at = std::find(op.args.begin(), op.args.end(), "--add-tag");
          if (at != op.args.end()) pool.tags[op.target].push_back(op.token);
        }
        if (taken && op.kind == "delete") pool.deleted.insert(op.target);
        ops.push_back(std::move(op));
      }
    // The model check after every round, on each machine's file while its
    // agent runs: every row follows from its server state and pending ops.
    for (auto& p : w.people) {
      auto replica = agent::Replica::Open(p->machine->ReplicaFile());
      REQUIRE(replica.ok());
      Status check = (*replica)->CheckView();
      REQUIRE_MESSAGE(check.ok(), p->name << " after round " << round << ": " << check.ToString());
    }
  }

  // MGTEAM_CONVERGENCE_LOG=FILE: every write, one JSON line each, for a
  // post-mortem next to the agents' logs (MGTEAM_KEEP_TEST_DIRS=1 keeps them).
  if (const char* path = std::getenv("MGTEAM_CONVERGENCE_LOG"); path && *path) {
    std::ofstream log(path);
    for (const auto& op : ops)
      log << json{{"round", op.round}, {"user", op.user}, {"kind", op.kind}, {"target", op.target},
                  {"made_id", op.made_id}, {"args", op.args}, {"exit", op.exit_code}, {"error", op.error_code},
                  {"server_down", op.server_down}, {"agent_down", op.agent_down},
                  {"after_demotion", op.after_demotion}, {"seconds", op.seconds}}.dump()
          << "\n";
  }

  // What the writes ended with.
  std::map<std::string, int> outcomes;  // "exit N (code)" -> count
  std::string unexpected;
  int carol_late = 0, accepted = 0, refused = 0;
  for (const auto& op : ops) {
    outcomes["exit " + std::to_string(op.exit_code) + (op.error_code.empty() ? "" : " " + op.error_code)]++;
    carol_late += op.after_demotion;
    accepted += op.exit_code == 0;
    refused += op.exit_code == 4 || op.error_code == "refused";
    if (!Legitimate(op)) unexpected += "\n  " + Describe(op);
  }
  std::string exits;
  for (const auto& [what, n] : outcomes) exits += " " + what + ": " + std::to_string(n) + ";";
  MESSAGE("seed ", seed, ": ", rounds, " rounds, ", ops.size(), " writes attempted (", exits, " ), ", accepted,
          " accepted (by the server, or by the local outbox for later), ", refused, " refused at once, ",
          carol_late, " by carol after her demotion, ", kills, " agent kills, ", restarts, " server restarts, ",
          pool.memories.size(), " memories and ", pool.relationships.size(), " relationships created, in ",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), " s (",
          chaos.stop_seconds, " s of it stopping the server)");
  CHECK_MESSAGE(unexpected.empty(), "writes that ended unexpectedly:", unexpected);
  {
    std::vector<const Op*> slow;
    for (const auto& op : ops) slow.push_back(&op);
    std::sort(slow.begin(), slow.end(), [](const Op* a, const Op* b) { return a->seconds > b->seconds; });
    std::string top;
    for (size_t i = 0; i < slow.size() && i < 5; ++i)
      top += "\n  " + std::to_string(slow[i]->seconds) + " s: " + Describe(*slow[i]);
    MESSAGE("slowest writes:", top);
  }
  CHECK(kills > 0);
  CHECK(restarts > 0);
  CHECK(carol_late > 0);

  // Quiet down: server and agents up, every outbox sent, refused writes
  // discarded (they are reported, and must leave no trace in the view), and
  // every cursor at the server's head with nothing left to write.
  if (chaos.server_epoch % 2 == 1) StartServer(w, chaos);
  for (auto& p : w.people)
    if (!p->machine->agent_running()) StartAgent(*p);
  std::string stuck;
  REQUIRE_MESSAGE(Settle(w, &stuck), "an outbox did not empty: ", stuck);
  std::map<std::string, int> refused_later;
  for (auto& p : w.people) {
    json status = p->machine->CliJson({"sync", "status"});
    for (const auto& op : status["ops_with_problems"]) refused_later[p->name] += op["state"] == "failed";
    auto r = p->machine->Cli({"sync", "discard"});
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  }
  const int64_t head = w.Head();
  for (auto& p : w.people) REQUIRE_MESSAGE(p->machine->WaitCursor(w.team, head, 60s), p->name, " never reached #", head);
  REQUIRE(w.Head() == head);  // nobody wrote meanwhile
  for (auto& p : w.people) {
    json status = p->machine->CliJson({"sync", "status"});
    CHECK(status["ops_with_problems"].empty());
    bool seen = false;
    for (const auto& ws : status["workspaces"]) {
      if (ws["id"] != w.team) continue;
      seen = true;
      INFO(p->name, " ", ws.dump());
      CHECK(ws["pending"] == 0);
      CHECK(ws["failed"] == 0);
      CHECK(ws["cursor"] == head);
    }
    CHECK_MESSAGE(seen, p->name, " does not sync the team");
  }
  MESSAGE("queued writes the server refused later (discarded): alice ", refused_later["alice"], ", bob ",
          refused_later["bob"], ", carol ", refused_later["carol"], "; server head #", head);

  // Every replica against the server, field by field, and by digest.
  Rows server = ServerRows(*w.http, w.team, w.alice.token);
  auto digest = w.http->Get("/api/v1/workspaces/" + w.team + "/digest", w.alice.token);
  REQUIRE(digest.status == 200);
  CHECK(digest.body["head_seq"] == head);
  CHECK(json({{"memories", digest.body["memories"]}, {"relationships", digest.body["relationships"]}}) ==
        DigestOf(server));
  CHECK(server.memories.size() > 0);
  for (auto& p : w.people) {
    Rows local = ReplicaRows(p->machine->ReplicaFile(), w.team);
    auto diffs = DiffRows(local, server);
    CHECK_MESSAGE(diffs.empty(), Describe(p->name, diffs), History(ops, diffs, 8));
    json mine = DigestOf(local);
    CHECK_MESSAGE(mine["memories"] == digest.body["memories"], p->name, " memories: ", mine["memories"].dump(),
                  " vs server ", digest.body["memories"].dump());
    CHECK_MESSAGE(mine["relationships"] == digest.body["relationships"], p->name, " relationships: ",
                  mine["relationships"].dump(), " vs server ", digest.body["relationships"].dump());
    // Nothing carol wrote after her demotion, on any machine.
    std::string leaked;
    for (const auto& op : ops) {
      if (!op.after_demotion) continue;
      for (const auto* rows : {&local.memories, &local.relationships})
        for (const auto& [id, row] : *rows)
          if (HasToken(row.dump(), op.token)) leaked += "\n  " + op.token + " in " + row.dump();
    }
    CHECK_MESSAGE(leaked.empty(), p->name, " holds writes carol made after her demotion:", leaked);
  }

  // The server never took a write from carol after the role change.
  json events = json::array();
  for (int64_t since = 0;;) {
    auto page = w.http->Get("/api/v1/workspaces/" + w.team + "/events?limit=1000&since=" + std::to_string(since),
                            w.alice.token);
    REQUIRE(page.status == 200);
    if (page.body["events"].empty()) break;
    for (const auto& e : page.body["events"]) events.push_back(e);
    since = page.body["events"].back()["seq"].get<int64_t>();
  }
  int64_t demoted_at = -1;
  for (const auto& e : events)
    if (e["type"] == "member_role_changed" && demoted_at < 0) demoted_at = e["seq"];
  REQUIRE(demoted_at > 0);
  for (const auto& e : events)
    if (e["seq"] > demoted_at)
      CHECK_MESSAGE(e["actor"] != w.carol.id, "carol wrote after her demotion: ", e.dump());
  std::string leaked;
  for (const auto& op : ops)
    if (op.after_demotion)
      for (const auto* rows : {&server.memories, &server.relationships})
        for (const auto& [id, row] : *rows)
          if (HasToken(row.dump(), op.token)) leaked += "\n  " + op.token + " in " + row.dump();
  CHECK_MESSAGE(leaked.empty(), "the server holds writes carol made after her demotion:", leaked);
  int changes = 0, merged = 0, conflicts = 0;
  for (const auto& e : events) {
    const std::string type = e["type"];
    changes += type.rfind("memory_", 0) == 0 || type.rfind("relationship_", 0) == 0;
    merged += e.contains("merge");
    conflicts += type == "conflict_created";
  }
  MESSAGE("the server accepted ", changes, " memory and relationship changes (", merged, " merged, ", conflicts,
          " conflict records; ", events.size(), " events); done in ",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), " s");
}
