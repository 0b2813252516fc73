// The CLI forgiving what people type (docs/cli.md): typos named, id prefixes,
// filters that combine, context merged per key, exit codes that tell a
// mistake from a failure, titles where UUIDs were; and shell completion,
// driven through real bash, zsh and fish. Real server, real CLI, temp homes.
#include "machine.h"

#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>

using namespace mgteam::test;

namespace {

std::string AddMemory(Machine& m, std::vector<std::string> args) {
  args.insert(args.begin(), {"memory", "add"});
  args.push_back("--quiet");
  auto r = m.Cli(args);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::string id = r.out.substr(0, r.out.find('\n'));
  REQUIRE(id.size() == 36);
  return id;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// The shortest prefix of `id` (at least 4) that no other id starts with.
std::string UniquePrefix(const std::string& id, const std::vector<std::string>& others) {
  for (size_t n = 4; n <= id.size(); ++n) {
    bool unique = true;
    for (const auto& o : others)
      if (o != id && o.compare(0, n, id, 0, n) == 0) unique = false;
    if (unique) return id.substr(0, n);
  }
  return id;
}

}  // namespace

TEST_CASE("a mistyped command or flag is named with what was meant, and a bare command shows its help") {
  TeamServer ts("Typos");
  Machine alice(ts.url(), ts.alice);

  auto typo = alice.Cli({"memroy", "list"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("'memroy' is not a command") != std::string::npos);
  CHECK(typo.err.find("did you mean `mgteam memory`") != std::string::npos);

  auto flag = alice.Cli({"memory", "list", "--tga", "x"});
  CHECK(flag.exit_code == 2);
  CHECK(flag.err.find("did you mean --tag") != std::string::npos);

  // The names people reach for: ls, rm, and nouns in either number.
  CHECK(alice.Cli({"memory", "ls"}).exit_code == 0);
  CHECK(alice.Cli({"conflict", "list"}).exit_code == 0);
  CHECK(alice.Cli({"members", "list", "--team", "typos"}).exit_code == 0);

  auto bare = alice.Cli({});
  CHECK(bare.exit_code == 0);
  CHECK(bare.out.find("Subcommands:") != std::string::npos);
  auto noun = alice.Cli({"memory"});
  CHECK(noun.exit_code == 0);
  CHECK(noun.out.find("restore") != std::string::npos);
}

TEST_CASE("memory ids may be given by a unique prefix, and an ambiguous one lists the candidates") {
  TeamServer ts("Prefixes");
  Machine alice(ts.url(), ts.alice);
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(AddMemory(alice, {"Memory " + std::to_string(i)}));
  const std::string first = ids[0], second = ids[1];
  const std::string p1 = UniquePrefix(first, ids), p2 = UniquePrefix(second, ids);

  auto got = alice.Cli({"memory", "get", p1});
  REQUIRE_MESSAGE(got.exit_code == 0, got.err);
  CHECK(got.out.find("Memory 0") != std::string::npos);

  // UUIDv7 ids of memories made the same second share their first characters.
  std::string shared = first.substr(0, 4);
  int sharing = 0;
  for (const auto& id : ids) sharing += id.compare(0, 4, shared) == 0;
  if (sharing > 1) {
    auto ambiguous = alice.Cli({"memory", "get", shared});
    CHECK(ambiguous.exit_code == 1);
    CHECK(ambiguous.err.find("several") != std::string::npos);
    CHECK(ambiguous.err.find(first) != std::string::npos);
  }
  CHECK(alice.Cli({"memory", "get", "01"}).exit_code == 5);  // too short to mean anything

  REQUIRE(alice.Cli({"memory", "update", p1, "--title", "Renamed by prefix"}).exit_code == 0);
  CHECK(alice.CliJson({"memory", "get", first})["title"] == "Renamed by prefix");

  auto related = alice.Cli({"relate", p1, p2, "--type", "solves"});
  REQUIRE_MESSAGE(related.exit_code == 0, related.err);
  // Titles, not UUIDs, say what was linked.
  CHECK(related.out.find("\"Renamed by prefix\" SOLVES \"Memory 1\"") != std::string::npos);
  json rels = alice.CliJson({"relationship", "list", "--memory", p2});
  REQUIRE(rels.size() == 1);
  CHECK(rels[0]["from_memory_id"] == first);
  auto table = alice.Cli({"relationship", "list"});
  CHECK(table.out.find("\"Memory 1\"") != std::string::npos);
  CHECK(table.out.find(second) == std::string::npos);

  const std::string rel = rels[0]["id"];
  auto changed = alice.Cli({"relationship", "update", rel, "--strength", "0.9", "--type", "addresses"});
  REQUIRE_MESSAGE(changed.exit_code == 0, changed.err);
  json after = alice.CliJson({"relationship", "get", rel});
  CHECK(after["type"] == "ADDRESSES");
  CHECK(after["strength"].get<double>() == doctest::Approx(0.9));

  REQUIRE(alice.Cli({"memory", "delete", p1}).exit_code == 0);
  CHECK(alice.Cli({"memory", "get", p1}).exit_code == 5);
  auto restored = alice.Cli({"memory", "restore", p1});
  REQUIRE_MESSAGE(restored.exit_code == 0, restored.err);
  CHECK(restored.out.find("Restored memory " + first) != std::string::npos);
  json back = alice.CliJson({"memory", "get", p1});
  CHECK(back["deleted"] == false);
  CHECK(back["title"] == "Renamed by prefix");
  // Its relationship stays deleted, on the server too.
  CHECK(alice.CliJson({"relationship", "list"}).empty());
}

TEST_CASE("memory list: tags combine (repeated or comma-separated) and an empty filtered list says so") {
  TeamServer ts("Filters");
  Machine alice(ts.url(), ts.alice);
  AddMemory(alice, {"Only redis", "--tag", "redis"});
  std::string both = AddMemory(alice, {"Redis in prod", "--tag", "redis,prod"});
  AddMemory(alice, {"Only prod", "--tag", "prod", "--type", "problem"});

  for (auto args : std::vector<std::vector<std::string>>{{"--tag", "redis", "--tag", "prod"}, {"--tag", "redis,prod"},
                                                          {"--tag", "Prod", "--tag", "redis", "--remote"}}) {
    args.insert(args.begin(), {"memory", "list"});
    json items = alice.CliJson(args);
    REQUIRE(items.size() == 1);
    CHECK(items[0]["id"] == both);
  }
  CHECK(alice.CliJson({"memory", "list", "--tag", "redis"}).size() == 2);
  CHECK(alice.CliJson({"memory", "list", "--tag", "prod", "--type", "problem"}).size() == 1);

  auto none = alice.Cli({"memory", "list", "--tag", "nosuch"});
  CHECK(none.exit_code == 0);
  CHECK(none.out.find("match tag nosuch") != std::string::npos);
  CHECK(none.out.find("yet") == std::string::npos);
}

TEST_CASE("memory update --context merges per key, null removes one, --replace-context replaces") {
  TeamServer ts("Context");
  Machine alice(ts.url(), ts.alice);
  std::string id = AddMemory(alice, {"With context", "--context", R"({"project_path":"/src/app","a":1})"});
  REQUIRE(alice.Cli({"memory", "update", id, "--context", R"({"a":2,"b":"new"})"}).exit_code == 0);
  CHECK(alice.CliJson({"memory", "get", id})["context"] == json{{"project_path", "/src/app"}, {"a", 2}, {"b", "new"}});
  REQUIRE(alice.Cli({"memory", "update", id, "--context", R"({"a":null})"}).exit_code == 0);
  CHECK(alice.CliJson({"memory", "get", id})["context"] == json{{"project_path", "/src/app"}, {"b", "new"}});
  REQUIRE(alice.Cli({"memory", "update", id, "--context", R"({"only":true})", "--replace-context"}).exit_code == 0);
  CHECK(alice.CliJson({"memory", "get", id})["context"] == json{{"only", true}});
  // And the server holds the same.
  auto remote = alice.CliJson({"memory", "get", id, "--remote"});
  CHECK(remote["context"] == json{{"only", true}});
}

TEST_CASE("exit codes: a command-line mistake is 2, a queued write warns once, --json -q is one line") {
  TeamServer ts("Exits");
  Machine alice(ts.url(), ts.alice);
  auto untitled = alice.Cli({"memory", "add"});
  CHECK(untitled.exit_code == 2);
  CHECK(untitled.err.find("title") != std::string::npos);
  auto range = alice.Cli({"memory", "add", "x", "--importance", "2"});
  CHECK(range.exit_code == 2);
  CHECK(range.err.find("from 0 to 1, not 2") != std::string::npos);
  CHECK(alice.Cli({"conflicts", "resolve", "0123456789ab"}).exit_code == 2);
  CHECK(alice.Cli({"relationship", "update", "0123456789ab"}).exit_code == 2);

  auto compact = alice.Cli({"--json", "memory", "add", "One line", "-q"});
  REQUIRE(compact.exit_code == 0);
  CHECK(Count(compact.out, "\n") == 1);
  CHECK(json::parse(compact.out)["title"] == "One line");

  ts.StopServer();
  auto queued = alice.Cli({"memory", "add", "Written offline"});
  CHECK(queued.exit_code == 7);
  CHECK(Count(queued.err, "saved locally") == 1);
  // Restoring needs the server: nothing is queued, exit 8.
  auto offline = alice.Cli({"memory", "restore", compact.out.substr(compact.out.find("\"id\":\"") + 6, 36)});
  CHECK(offline.exit_code == 8);
  ts.StartServer();
}

TEST_CASE("events: -n shows the newest, --follow -n starts that far back, and links are shown by title") {
  TeamServer ts("Events");
  Machine alice(ts.url(), ts.alice);
  REQUIRE(alice.Cli({"workspace", "use", ts.team}).exit_code == 0);
  std::string a = AddMemory(alice, {"First problem", "--type", "problem"});
  std::string b = AddMemory(alice, {"Its fix", "--type", "fix"});
  REQUIRE(alice.Cli({"relate", b, a, "--type", "SOLVES"}).exit_code == 0);
  int64_t head = ts.Head();

  auto lines = alice.Cli({"--json", "events", "-n", "2"});
  REQUIRE(lines.exit_code == 0);
  std::vector<int64_t> seqs;
  for (size_t p = 0, n; (n = lines.out.find('\n', p)) != std::string::npos; p = n + 1)
    seqs.push_back(json::parse(lines.out.substr(p, n - p))["seq"]);
  CHECK(seqs == std::vector<int64_t>{head - 1, head});

  auto text = alice.Cli({"events", "-n", "1"});
  CHECK(text.out.find("\"Its fix\" SOLVES \"First problem\"") != std::string::npos);
  auto activity = alice.Cli({"activity", "-n", "1"});
  CHECK(activity.out.find("linked \"Its fix\" SOLVES \"First problem\"") != std::string::npos);

  std::vector<std::string> argv = {CliBinary(), "--json", "events", "--follow", "-n", "1"};
  auto follow = ChildProcess::Spawn(argv, alice.Env());
  auto line = follow->ReadLine(std::chrono::seconds(20));
  REQUIRE(line);
  CHECK(json::parse(*line)["seq"] == head);
  follow->Kill(SIGTERM);
  CHECK(follow->Wait(std::chrono::seconds(10)) == 0);
}

TEST_CASE("completion: bash, zsh and fish complete commands, flags, memory id prefixes and workspaces") {
  TeamServer ts("Completion Team");
  Machine alice(ts.url(), ts.alice);
  REQUIRE(alice.Cli({"workspace", "use", ts.team}).exit_code == 0);
  std::string id = AddMemory(alice, {"Completed by prefix"});
  REQUIRE(alice.Cli({"memory", "list"}).exit_code == 0);  // the local copy knows the team now

  auto env = alice.Env();
  const std::string bin_dir = std::filesystem::path(CliBinary()).parent_path();
  env["PATH"] = bin_dir + ":/usr/bin:/bin";
  auto script = [&](const std::string& shell) {
    auto r = Run({CliBinary(), "completion", shell}, env);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };

  // bash: COMP_WORDS as bash hands them to the function.
  auto bash = [&](const std::string& words, int cword) {
    std::string cmd = script("bash") + "\nCOMP_WORDS=(" + words + "); COMP_CWORD=" + std::to_string(cword) +
                      "; _mgteam; printf '%s\\n' \"${COMPREPLY[@]}\"";
    auto r = Run({"/bin/bash", "-c", cmd}, env);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return r.out;
  };
  CHECK(bash("mgteam memor", 1) == "memory\n");
  CHECK(bash("mgteam memory up", 2) == "update\n");
  CHECK(bash("mgteam memory update " + id.substr(0, 6), 3) == id + "\n");
  CHECK(bash("mgteam -w comp", 2) == "completion-team\n");
  CHECK(bash("mgteam memory list --ta", 3) == "--tag\n");
  CHECK(bash("mgteam relate x y --type SOL", 5) == "SOLVES\n");
  // With bash-completion loaded (as a login shell has it): a URL and
  // --opt=value are one word again, and only the part after '=' is replaced.
  auto bash_full = [&](const std::string& line, const std::string& words, int cword) {
    std::string cmd = "source /usr/share/bash-completion/bash_completion\n" + script("bash") + "\nCOMP_LINE='" + line +
                      "'; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(" + words + "); COMP_CWORD=" + std::to_string(cword) +
                      "; _mgteam; printf '%s\\n' \"${COMPREPLY[@]}\"";
    auto r = Run({"/bin/bash", "-c", cmd}, env);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    return r.out;
  };
  CHECK(bash_full("mgteam --server http://127.0.0.1:9 memory up", "mgteam --server http : //127.0.0.1 : 9 memory up",
                  8) == "update\n");
  CHECK(bash_full("mgteam --workspace=comp", "mgteam --workspace = comp", 3) == "completion-team\n");
  CHECK(bash("mgteam memory restore " + id.substr(0, 6), 3) == "\n");  // live: nothing to restore
  REQUIRE(alice.Cli({"memory", "delete", id}).exit_code == 0);
  CHECK(bash("mgteam memory restore " + id.substr(0, 6), 3) == id + "\n");
  CHECK(bash("mgteam memory get " + id.substr(0, 6), 3) == "\n");
  REQUIRE(alice.Cli({"memory", "restore", id}).exit_code == 0);

  // fish: its own `complete -C` runs the registered completion.
  if (std::filesystem::exists("/usr/bin/fish")) {
    auto fish = Run({"/usr/bin/fish", "--no-config", "-c",
                     "mgteam completion fish | source; complete -C 'mgteam memory up'; complete -C 'mgteam memory get " +
                         id.substr(0, 6) + "'"},
                    env);
    REQUIRE_MESSAGE(fish.exit_code == 0, fish.err);
    CHECK(fish.out.find("update\tChange fields of a memory") != std::string::npos);
    CHECK(fish.out.find(id + "\tCompleted by prefix") != std::string::npos);
  } else {
    FAIL("fish is not installed (scripts/deps installs it)");
  }

  // zsh: the function as compsys would call it, with _describe standing in
  // for the menu (printing what it was given).
  if (std::filesystem::exists("/usr/bin/zsh")) {
    std::string cmd = "compdef() {}; _describe() { print -l -- \"${(@P)${@[-1]}}\" }; _files() { print FILES }\n" +
                      script("zsh") + "\nwords=(mgteam memory get " + id.substr(0, 6) + "); CURRENT=4; _mgteam\n" +
                      "words=(mgteam import ''); CURRENT=3; _mgteam\n";
    auto zsh = Run({"/usr/bin/zsh", "-f", "-c", cmd}, env);
    REQUIRE_MESSAGE(zsh.exit_code == 0, zsh.err);
    CHECK(zsh.out.find(id + ":Completed by prefix") != std::string::npos);
    CHECK(zsh.out.find("FILES") != std::string::npos);
  } else {
    FAIL("zsh is not installed (scripts/deps installs it)");
  }
}

TEST_CASE("--server naming another server leaves the saved workspace alone and uses the personal one there") {
  TeamServer ts("Saved Choice");
  Machine alice(ts.url(), ts.alice);
  REQUIRE(alice.Cli({"workspace", "use", ts.team}).exit_code == 0);
  auto other = ServerProcess::Start();
  Http other_http(other->port());
  TestUser elsewhere = SignUp(other_http, "elsewhere");
  auto env = alice.Env();
  env["MGTEAM_TOKEN"] = elsewhere.token;
  auto there = Run({CliBinary(), "--server", other->url(), "--json", "memory", "add", "On the other server"}, env);
  REQUIRE_MESSAGE(there.exit_code == 0, there.err);
  CHECK(json::parse(there.out)["workspace_id"] == elsewhere.personal_ws);
  CHECK(there.err.find("removed") == std::string::npos);
  CHECK(alice.CliJson({"workspace", "show"})["id"] == ts.team);  // still chosen on the configured server
  // Bare `--server` at the end is a mistake (exit 2), not a help page.
  CHECK(alice.Cli({"--server"}).exit_code == 2);
}

TEST_CASE("MGTEAM_TOKEN is never sent to a server that only an invitation link named") {
  TeamServer ts("Home Team");
  Machine alice(ts.url(), ts.alice);  // MGTEAM_TOKEN: her token for her own server
  auto other = ServerProcess::Start();
  Http other_http(other->port());
  TestUser owner = SignUp(other_http, "stranger");
  std::string team = CreateTeam(other_http, owner, "Elsewhere");
  auto inv = other_http.Post("/api/v1/teams/" + team + "/invite", {{"email", ts.alice.email}}, owner.token);
  REQUIRE(inv.status == 201);
  // Before: the token went to the link's server as a Bearer token (refused
  // there as not valid). Now that server is one she is not signed in to.
  auto joined = alice.Cli({"join", inv.body["accept_url"].get<std::string>()});
  CHECK(joined.exit_code == 3);
  CHECK(joined.err.find("not signed in to " + other->url()) != std::string::npos);
}

TEST_CASE("sync status: LAST SYNC moves with the live stream, not only at the agent's start") {
  TeamServer ts("Live Status");
  Machine alice(ts.url(), ts.alice), bob(ts.url(), ts.bob);
  alice.StartAgent();
  REQUIRE(alice.WaitCursor(ts.team, ts.Head()));
  auto last_sync = [&] {
    json status = alice.CliJson({"sync", "status"});
    for (const auto& w : status["workspaces"])
      if (w["id"] == ts.team) return w.value("last_sync_at", "");
    return std::string();
  };
  const std::string before = last_sync();
  REQUIRE_FALSE(before.empty());
  REQUIRE(bob.Cli({"-w", ts.team, "memory", "add", "From Bob", "--wait"}).exit_code == 0);
  REQUIRE(alice.WaitCursor(ts.team, ts.Head()));
  CHECK(last_sync() > before);  // RFC 3339 in UTC with milliseconds: ordered as strings
  auto table = alice.Cli({"sync", "status"});
  CHECK(table.out.find("now (live)") != std::string::npos);
}
