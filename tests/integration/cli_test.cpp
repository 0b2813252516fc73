// The mgteam CLI, run as a user or a script would run it, against a real server.
#include "http.h"
#include "process.h"

#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace mgteam::test;

namespace {

class Cli {
 public:
  explicit Cli(const ServerProcess& server) : server_(server) {}

  // Runs `mgteam args...` with this user's config dir; `env` adds variables.
  ProcessResult operator()(std::vector<std::string> args, const std::string& input = "",
                           std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), CliBinary());
    env.emplace("XDG_CONFIG_HOME", home_.path() + "/config");
    env.emplace("XDG_DATA_HOME", home_.path() + "/data");
    env.emplace("XDG_STATE_HOME", home_.path() + "/state");
    env.emplace("XDG_RUNTIME_DIR", home_.path() + "/run");
    env.emplace("MGTEAM_SERVER", "");
    env.emplace("MGTEAM_TOKEN", "");
    env.emplace("MGTEAM_WORKSPACE", "");
    return Run(args, env, input);
  }
  // Runs and requires success; returns stdout.
  std::string Ok(std::vector<std::string> args, const std::string& input = "") {
    auto r = (*this)(args, input);
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    REQUIRE_MESSAGE(r.exit_code == 0, cmd, "\nstdout: ", r.out, "\nstderr: ", r.err);
    return r.out;
  }
  json Json(std::vector<std::string> args) {
    args.push_back("--json");
    return json::parse(Ok(args));
  }
  void SignUp(const std::string& email) {
    Ok({"server", "set", server_.url()});
    Ok({"signup", "--email", email, "--name", email.substr(0, email.find('@')), "--password-stdin"},
       "correct horse battery\n");
  }
  std::string home() const { return home_.path(); }
  std::map<std::string, std::string> Env() const {
    return {{"XDG_CONFIG_HOME", home_.path() + "/config"}, {"XDG_DATA_HOME", home_.path() + "/data"},
            {"XDG_STATE_HOME", home_.path() + "/state"},   {"XDG_RUNTIME_DIR", home_.path() + "/run"},
            {"MGTEAM_SERVER", ""},                          {"MGTEAM_TOKEN", ""},
            {"MGTEAM_WORKSPACE", ""}};
  }

 private:
  const ServerProcess& server_;
  TempDir home_;
};

}  // namespace

TEST_CASE("the README tour: sign up, team, memories, relationships, all parseable with --json") {
  auto server = ServerProcess::Start();
  Cli cli(*server);
  CHECK(cli.Ok({"server", "set", server->url()}).find("Server set to") != std::string::npos);
  auto signup = cli({"signup", "--email", "alice@example.com", "--name", "Alice", "--password-stdin"},
                    "correct horse battery\n");
  REQUIRE_MESSAGE(signup.exit_code == 0, signup.err);
  CHECK(signup.out.find("Signed up as Alice") != std::string::npos);
  json me = cli.Json({"whoami"});
  CHECK(me["user"]["email"] == "alice@example.com");

  json team = cli.Json({"team", "create", "Platform Team"});
  CHECK(team["slug"] == "platform-team");
  cli.Ok({"workspace", "use", "platform-team"});
  json workspaces = cli.Json({"workspace", "list"});
  CHECK(workspaces.size() == 2);

  json m1 = cli.Json({"memory", "add", "Fixed Redis timeout", "--type", "solution", "--content",
                      "Retry connect for 5 s with jitter", "--tag", "redis,Timeout", "--importance", "0.9"});
  CHECK(m1["workspace_id"] == team["id"]);
  CHECK(m1["tags"] == json{"redis", "timeout"});
  std::string id1 = m1["id"];
  // Content from a file and from stdin.
  std::string file = cli.home() + "/note.md";
  std::ofstream(file) << "# Timeout\nConnectionError after 1.0s\n";
  std::string id2 = cli.Ok({"memory", "add", "Redis connection timeout", "--type", "error", "--content-file", file, "-q"});
  id2.pop_back();
  CHECK(cli.Json({"memory", "get", id2})["content"] == "# Timeout\nConnectionError after 1.0s\n");
  json m3 = json::parse(cli.Ok({"memory", "add", "From stdin", "--content-file", "-", "--json"}, "piped text"));
  CHECK(m3["content"] == "piped text");

  json list = cli.Json({"memory", "list"});
  CHECK(list.size() == 3);
  CHECK(list[0]["title"] == "From stdin");
  std::string table = cli.Ok({"memory", "list"});
  CHECK(table.find("Fixed Redis timeout") != std::string::npos);
  CHECK(table.find("TITLE") != std::string::npos);
  CHECK(cli.Json({"memory", "list", "--type", "error"}).size() == 1);
  CHECK(cli.Json({"memory", "list", "--tag", "redis"}).size() == 1);

  json updated = cli.Json({"memory", "update", id1, "--add-tag", "prod", "--remove-tag", "timeout", "--summary",
                           "connect retry"});
  CHECK(updated["version"] == 2);
  CHECK(updated["tags"] == json{"prod", "redis"});
  CHECK(updated["summary"] == "connect retry");
  CHECK(cli.Ok({"memory", "get", id1}).find("connect retry") != std::string::npos);

  json rel = cli.Json({"relate", id1, id2, "--type", "solves"});
  CHECK(rel["type"] == "SOLVES");
  CHECK(cli.Json({"relationship", "list"}).size() == 1);
  CHECK(cli.Json({"relationship", "list", "--memory", id2})[0]["id"] == rel["id"]);

  json deleted = cli.Json({"memory", "delete", id2});
  CHECK(deleted["deleted"] == true);
  CHECK(cli.Json({"relationship", "list"}).empty());  // cascaded
  CHECK(cli.Json({"memory", "list"}).size() == 2);
  auto gone = cli({"memory", "get", id2});
  CHECK(gone.exit_code == 5);
  CHECK(gone.err.find("no memory") != std::string::npos);

  // The log saw every step, densely numbered; --json is JSON Lines.
  std::string lines = cli.Ok({"events", "--json"});
  int n = 0;
  std::istringstream in(lines);
  for (std::string line; std::getline(in, line); ++n) CHECK(json::parse(line)["seq"] == n + 1);
  CHECK(n == 9);  // the delete cascaded to the relationship: one event each

  json rel2 = cli.Json({"relate", id1, m3["id"], "--type", "RELATED_TO"});
  cli.Ok({"relationship", "delete", rel2["id"]});
  CHECK(cli.Json({"relationship", "list", "--include-deleted"}).size() == 2);

  json renamed = cli.Json({"team", "rename", "platform-team", "Platform"});
  CHECK(renamed["name"] == "Platform");
  CHECK(cli.Json({"team", "show"})["member_count"] == 1);
  CHECK(cli.Json({"team", "list"}).size() == 1);
  auto refuse = cli({"team", "delete", "platform-team"});
  CHECK(refuse.exit_code == 1);
  CHECK(refuse.err.find("--yes") != std::string::npos);
  cli.Ok({"team", "delete", "platform-team", "--yes"});
  CHECK(cli.Json({"team", "list"}).empty());
  CHECK(cli.Json({"workspace", "show"})["type"] == "personal");  // fell back to personal
}

TEST_CASE("credentials live in a 0600 file and logout forgets and revokes them") {
  auto server = ServerProcess::Start();
  Cli cli(*server);
  cli.SignUp("bob@example.com");
  std::string creds = cli.home() + "/config/mgteam/credentials.toml";
  struct stat st{};
  REQUIRE(::stat(creds.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::ifstream in(creds);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  auto at = content.find("mg_");
  REQUIRE(at != std::string::npos);
  std::string token = content.substr(at, 51);
  CHECK(cli.Ok({"server", "show"}).find("(up, version") != std::string::npos);

  json tokens = cli.Json({"token", "list"});
  CHECK(tokens.size() == 1);
  CHECK(tokens[0]["current"] == true);
  std::string ci = cli.Ok({"token", "create", "ci"});
  CHECK(ci.rfind("mg_", 0) == 0);
  CHECK(cli.Json({"token", "list"}).size() == 2);
  auto expiring = cli({"token", "create", "ci-90d", "--expires", "90d"});
  CHECK(expiring.exit_code == 0);
  CHECK(expiring.err.find("valid until") != std::string::npos);
  CHECK(cli.Json({"token", "list"})[2]["expires_at"].is_string());
  CHECK(cli.Json({"token", "list"})[1]["expires_at"].is_null());
  auto bad = cli({"token", "create", "x", "--expires", "soon"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("--expires wants a duration") != std::string::npos);
  json revoked = cli.Json({"token", "revoke", cli.Json({"token", "list"})[1]["id"]});
  CHECK_FALSE(revoked["revoked_at"].is_null());

  cli.Ok({"logout"});
  auto who = cli({"whoami"});
  CHECK(who.exit_code == 3);
  CHECK(who.err.find("mgteam login") != std::string::npos);
  Http http(server->port());
  CHECK(http.Get("/api/v1/me", token).status == 401);  // revoked on the server too
  auto relog = cli({"login", "--email", "bob@example.com", "--password-stdin"}, "correct horse battery\n");
  CHECK(relog.exit_code == 0);
  auto wrong = cli({"login", "--email", "bob@example.com", "--password-stdin"}, "nope nope nope\n");
  CHECK(wrong.exit_code == 3);
  CHECK(wrong.err.find("wrong email or password") != std::string::npos);
}

TEST_CASE("a CI job needs only MGTEAM_SERVER and MGTEAM_TOKEN") {
  auto server = ServerProcess::Start();
  Http http(server->port());
  TestUser u = SignUp(http, "ci");
  std::string team = CreateTeam(http, u, "Pipelines");
  Cli cli(*server);  // empty config dir: nothing configured
  std::map<std::string, std::string> env = {{"MGTEAM_SERVER", server->url()}, {"MGTEAM_TOKEN", u.token},
                                            {"MGTEAM_WORKSPACE", "pipelines"}};
  auto add = cli({"memory", "add", "Deploy needs VPN", "--json"}, "", env);
  REQUIRE_MESSAGE(add.exit_code == 0, add.err);
  CHECK(json::parse(add.out)["workspace_id"] == team);
  auto list = cli({"memory", "list", "--json"}, "", env);
  CHECK(json::parse(list.out).size() == 1);
  CHECK_FALSE(std::filesystem::exists(cli.home() + "/config/mgteam/credentials.toml"));
  // --workspace beats the environment.
  env["MGTEAM_WORKSPACE"] = "nope";
  auto missing = cli({"memory", "list"}, "", env);
  CHECK(missing.exit_code == 5);
  CHECK(missing.err.find("mgteam workspace list") != std::string::npos);
  auto flag = cli({"--workspace", "pipelines", "memory", "list", "--json"}, "", env);
  CHECK(flag.exit_code == 0);
}

TEST_CASE("exit codes tell scripts what went wrong") {
  auto server = ServerProcess::Start();
  Http http(server->port());
  TestUser owner = SignUp(http, "owner"), viewer = SignUp(http, "viewer");
  std::string team = CreateTeam(http, owner, "Codes");
  AddToTeam(http, owner, team, viewer, "viewer");
  std::string mem = AddMemory(http, owner, team, "target")["id"];
  Cli cli(*server);
  auto as = [&](const TestUser& u) {
    return std::map<std::string, std::string>{{"MGTEAM_SERVER", server->url()}, {"MGTEAM_TOKEN", u.token},
                                              {"MGTEAM_WORKSPACE", team}};
  };
  CHECK(cli({"memory", "list"}, "", as(viewer)).exit_code == 0);
  auto forbidden = cli({"memory", "add", "nope"}, "", as(viewer));
  CHECK(forbidden.exit_code == 4);
  CHECK(forbidden.err.find("memory.write") != std::string::npos);
  CHECK(cli({"memory", "get", "5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9dff"}, "", as(owner)).exit_code == 5);
  auto conflict = cli({"memory", "update", mem, "--title", "x", "--base-version", "7"}, "", as(owner));
  CHECK(conflict.exit_code == 6);
  CHECK(conflict.err.find("newer than the memory's 1") != std::string::npos);
  auto invalid = cli({"memory", "add", "x", "--type", "opinion"}, "", as(owner));
  CHECK(invalid.exit_code == 1);
  CHECK(invalid.err.find("must be one of") != std::string::npos);
  CHECK(cli({"memory", "frobnicate"}, "", as(owner)).exit_code == 2);
  CHECK(cli({"memory", "add", "x", "--importance", "3"}, "", as(owner)).exit_code == 2);
  auto json_err = cli({"memory", "add", "", "--json"}, "", as(owner));
  CHECK(json_err.exit_code == 1);
  CHECK(json::parse(json_err.err)["error"]["code"] == "too_short");
  CHECK(cli({"whoami"}, "", {{"MGTEAM_SERVER", server->url()}, {"MGTEAM_TOKEN", "mg_bogus"}}).exit_code == 3);
  auto no_server = cli({"whoami"});
  CHECK(no_server.exit_code == 1);
  CHECK(no_server.err.find("mgteam server set") != std::string::npos);
  std::string url = server->url();
  server->Stop();
  // Offline: reads come from the local copy, writes are queued (exit 7).
  auto local = cli({"memory", "list", "--json"}, "", as(owner));
  CHECK(local.exit_code == 0);
  CHECK(json::parse(local.out).size() == 1);
  CHECK(local.err.find("offline") != std::string::npos);
  auto queued = cli({"memory", "add", "while down", "-q"}, "", as(owner));
  CHECK(queued.exit_code == 7);
  CHECK(queued.out.size() == 37);  // the new id, to refer to it later
  CHECK(queued.err.find("not yet on the server") != std::string::npos);
  // Without a local copy there is nothing to show.
  Cli fresh(*server);
  auto down = fresh({"memory", "list"}, "", {{"MGTEAM_SERVER", url}, {"MGTEAM_TOKEN", owner.token}});
  CHECK(down.exit_code == 8);
  CHECK(down.err.find("cannot reach") != std::string::npos);
}

TEST_CASE("invite, join, member list, live activity, and a demotion that stops the next write") {
  ServerProcess::Options opts;
  opts.args = {"--open-signup"};
  auto server = ServerProcess::Start(opts);
  Cli owner(*server), bob(*server);
  owner.SignUp("owner@example.com");
  bob.SignUp("bob@example.com");
  owner.Ok({"team", "create", "Platform Team"});
  owner.Ok({"workspace", "use", "platform-team"});

  // The owner invites Bob; with no mail configured the link is printed.
  std::string printed = owner.Ok({"invite", "bob@example.com"});
  auto at = printed.find("http://");
  REQUIRE(at != std::string::npos);
  std::string link = printed.substr(at, printed.find_first_of(" \n", at) - at);
  CHECK(link.find("/join/mgi_") != std::string::npos);
  json pending = owner.Json({"invite", "list"});
  REQUIRE(pending.size() == 1);
  CHECK(pending[0]["email"] == "bob@example.com");

  // Someone else cannot use Bob's invitation.
  Cli eve(*server);
  eve.SignUp("eve@example.com");
  auto stolen = eve({"join", link});
  CHECK(stolen.exit_code != 0);
  CHECK(stolen.err.find("bob@example.com") == std::string::npos);  // names neither the invitee...
  CHECK(stolen.err.find("Platform") == std::string::npos);         // ...nor the team

  std::string joined = bob.Ok({"join", link});
  CHECK(joined.find("You joined Platform Team as member") != std::string::npos);
  CHECK(bob({"join", link}).exit_code != 0);  // used
  json members = owner.Json({"member", "list"});
  REQUIRE(members.size() == 2);
  CHECK(members[1]["email"] == "bob@example.com");
  CHECK(members[1]["role"] == "member");
  CHECK(owner.Json({"invite", "list"}).empty());

  // Bob's first memory shows up in the owner's live activity feed.
  auto follow = ChildProcess::Spawn({CliBinary(), "activity", "--follow", "--json", "--type", "memory"}, owner.Env());
  auto ready = follow->ReadLine(std::chrono::seconds(1));  // no memory yet: nothing printed before live
  CHECK_FALSE(ready);
  bob.Ok({"workspace", "use", "platform-team"});
  bob.Ok({"memory", "add", "Fixed Redis timeout", "--type", "solution", "--wait"});
  auto line = follow->ReadLine(std::chrono::seconds(10));
  REQUIRE(line);
  json entry = json::parse(*line);
  CHECK(entry["action"] == "created");
  CHECK(entry["title"] == "Fixed Redis timeout");
  CHECK(entry["actor_name"] == "bob");
  follow->Kill(SIGINT);
  CHECK(follow->Wait(std::chrono::seconds(10)) == 0);
  // The follow held a stream: the owner was seen; Bob never opened one. The
  // server notices the closed socket on its own time: wait for that.
  std::string who;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       std::chrono::steady_clock::now() < until;) {
    who = owner.Ok({"team", "who"});
    if (who.find("0 of 2 online") != std::string::npos) break;
  }
  CHECK(who.find("last seen") != std::string::npos);
  CHECK(who.find("not seen") != std::string::npos);
  CHECK(who.find("0 of 2 online") != std::string::npos);
  std::string feed = owner.Ok({"activity", "--user", "bob"});
  CHECK(feed.find("bob added \"Fixed Redis timeout\"") != std::string::npos);
  CHECK(feed.find("bob joined as member") != std::string::npos);

  // Demoted to viewer, Bob's very next write is refused with the permission named.
  std::string demoted = owner.Ok({"member", "role", "Bob@Example.com", "viewer"});
  CHECK(demoted.find("now viewer") != std::string::npos);
  auto refused = bob({"memory", "add", "Another one", "--wait"});
  CHECK(refused.exit_code == 4);
  CHECK(refused.err.find("memory.write") != std::string::npos);
  CHECK(owner.Ok({"activity", "--action", "role_changed"}).find("made bob viewer (was member)") != std::string::npos);

  // Ownership moves; the last owner rules hold through the CLI too.
  CHECK(owner({"member", "leave"}).exit_code == 4);  // the last owner cannot leave
  owner.Ok({"team", "transfer", "bob"});
  CHECK(owner.Json({"member", "list"})[0]["role"] == "admin");
  owner.Ok({"member", "leave"});
  CHECK(bob.Json({"member", "list"}).size() == 1);
}

TEST_CASE("memory related walks the graph with paths, and memory get names what a memory is linked to") {
  auto server = ServerProcess::Start();
  Cli cli(*server);
  cli.SignUp("alice@example.com");
  auto add = [&](const std::string& title, const std::string& type) {
    std::string out = cli.Ok({"memory", "add", title, "--type", type, "-q"});
    return out.substr(0, out.find('\n'));
  };
  std::string problem = add("Checkout times out", "problem");
  std::string fix = add("Raise the pool size", "fix");
  std::string cause = add("Pool exhausted by slow queries", "error");
  std::string far = add("Index the orders table", "solution");
  cli.Ok({"relate", fix, problem, "--type", "solves"});
  cli.Ok({"relate", cause, problem, "--type", "CAUSES"});
  cli.Ok({"relate", far, cause, "--type", "ADDRESSES"});
  cli.Ok({"relate", far, fix, "--type", "RELATED_TO"});  // a cycle: problem-fix-far-cause-problem

  json one = cli.Json({"memory", "related", problem, "--depth", "1"});
  CHECK(one.size() == 2);
  json two = cli.Json({"memory", "related", problem});
  REQUIRE(two.size() == 3);  // each memory once, despite the cycle
  CHECK(two[2]["memory"]["id"] == far);
  CHECK(two[2]["depth"] == 2);
  CHECK(two[2]["path"].size() == 2);
  json solves = cli.Json({"memory", "related", problem, "--type", "SOLVES", "--depth", "5"});
  REQUIRE(solves.size() == 1);
  CHECK(solves[0]["memory"]["id"] == fix);
  std::string table = cli.Ok({"memory", "related", problem});
  CHECK(table.find("<- SOLVES") != std::string::npos);
  CHECK(table.find("Index the orders table") != std::string::npos);
  CHECK(cli({"memory", "related", problem, "--type", "FIXES"}).exit_code == 2);
  CHECK(cli({"memory", "related", problem, "--depth", "6"}).exit_code == 2);

  std::string shown = cli.Ok({"memory", "get", problem});
  CHECK(shown.find("<- SOLVES  Raise the pool size") != std::string::npos);
  CHECK(shown.find("<- CAUSES  Pool exhausted by slow queries") != std::string::npos);
}
