// A new user's first steps, run as they would run them: joining a team from
// the link an invitation printed, on a machine that has never seen the
// server; server URLs in their many spellings; a server that does not answer;
// being removed from a team; the exit codes scripts rely on.
#include "http.h"
#include "machine.h"
#include "process.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using namespace mgteam::test;

namespace {

// One machine's user: their own config, data and runtime dirs, nothing in
// the environment (no MGTEAM_SERVER, MGTEAM_TOKEN or MGTEAM_WORKSPACE).
class Home {
 public:
  ProcessResult operator()(std::vector<std::string> args, const std::string& input = "",
                           std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), CliBinary());
    for (const auto& [k, v] : Env()) env.emplace(k, v);
    return Run(args, env, input);
  }
  std::string Ok(const std::vector<std::string>& args, const std::string& input = "") {
    auto r = (*this)(args, input);
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    REQUIRE_MESSAGE(r.exit_code == 0, cmd, "\nstdout: ", r.out, "\nstderr: ", r.err);
    return r.out;
  }
  json Json(std::vector<std::string> args, const std::string& input = "") {
    args.push_back("--json");
    return json::parse(Ok(args, input));
  }
  std::map<std::string, std::string> Env() const {
    return {{"XDG_CONFIG_HOME", home_.path() + "/config"}, {"XDG_DATA_HOME", home_.path() + "/data"},
            {"XDG_STATE_HOME", home_.path() + "/state"},   {"XDG_RUNTIME_DIR", home_.path() + "/run"},
            {"MGTEAM_SERVER", ""},                          {"MGTEAM_TOKEN", ""},
            {"MGTEAM_WORKSPACE", ""},                       {"MGTEAM_AGENT_BIN", AgentBinary()}};
  }
  std::string File(const std::string& name) const {
    std::ifstream in(home_.path() + "/config/mgteam/" + name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(home_.path() + "/config/mgteam/" + name, std::ios::trunc) << text;
  }
  // Replaces every `from` in a config file with `to` (an older version's spelling).
  void Rewrite(const std::string& name, const std::string& from, const std::string& to) const {
    std::string text = File(name);
    for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
      text.replace(at, from.size(), to);
    Write(name, text);
  }
  void SignUp(const std::string& url, const std::string& email) {
    Ok({"server", "set", url});
    Ok({"signup", "--email", email, "--password-stdin"}, "correct horse battery\n");
  }

 private:
  TempDir home_;
};

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A team with an owner, on its own server.
struct Team {
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<Http> http;
  TestUser owner;
  std::string id;

  explicit Team(bool open_signup = true) {
    ServerProcess::Options o;
    o.open_signup = open_signup;
    server = ServerProcess::Start(o);
    http = std::make_unique<Http>(server->port());
    owner = SignUp(*http, "owner");  // the first account may always sign up
    id = CreateTeam(*http, owner, "Platform Team");
  }
  // Invites `email`; returns the link `mgteam invite` prints.
  std::string Invite(const std::string& email, const std::string& role = "member") {
    auto r = http->Post("/api/v1/teams/" + id + "/invite", {{"email", email}, {"role", role}}, owner.token);
    REQUIRE_MESSAGE(r.status == 201, r.raw);
    std::string link = r.body["accept_url"];
    REQUIRE(link.find("/join/mgi_") != std::string::npos);
    return link;
  }
  std::string TokenOf(const std::string& link) { return link.substr(link.rfind('/') + 1); }
  std::string RoleOf(const std::string& email) {
    auto r = http->Get("/api/v1/teams/" + id + "/members", owner.token);
    for (const auto& m : r.body["members"])
      if (m["email"] == email) return m["role"];
    return "";
  }
};

}  // namespace

TEST_CASE("a server that does not answer is reported as unreachable (exit 8), not as not signed in") {
  auto server = ServerProcess::Start();
  Home h;
  auto fresh = h({"--server", "http://127.0.0.1:1", "whoami"});
  CHECK(fresh.exit_code == 8);
  CHECK(Has(fresh.err, "cannot reach http://127.0.0.1:1: "));
  CHECK(Has(fresh.err, "is the server running?"));
  h.SignUp(server->url(), "hana@example.com");
  auto typo = h({"--server", "http://127.0.0.1:1", "memory", "list"});
  CHECK(typo.exit_code == 8);
  CHECK(Has(typo.err, "cannot reach http://127.0.0.1:1"));
}

TEST_CASE("not signed in to a server that answers: exit 3, naming the server you are signed in to") {
  auto a = ServerProcess::Start();
  auto b = ServerProcess::Start();
  Home h;
  h.SignUp(a->url(), "ivan@example.com");
  auto other = h({"--server", b->url(), "whoami"});
  CHECK(other.exit_code == 3);
  CHECK(Has(other.err, "you are not signed in to " + b->url()));
  CHECK(Has(other.err, "You are signed in to " + a->url()));
}

TEST_CASE("localhost and 127.0.0.1, a trailing slash or /api/v1, any case: one server, one token") {
  auto server = ServerProcess::Start();
  const std::string port = std::to_string(server->port());
  Home h;
  h.SignUp(server->url(), "judy@example.com");
  for (const std::string& spelling :
       {"http://localhost:" + port, "http://127.0.0.1:" + port + "/", "http://127.0.0.1:" + port + "/api/v1",
        "HTTP://LocalHost:" + port + "/api/v1/"}) {
    auto r = h({"--server", spelling, "whoami", "--json"});
    CHECK_MESSAGE(r.exit_code == 0, spelling, ": ", r.err);
    if (r.exit_code == 0) CHECK(json::parse(r.out)["user"]["email"] == "judy@example.com");
  }
  auto listed = h({"--server", "http://localhost:" + port + "/", "memory", "list"});
  CHECK_MESSAGE(listed.exit_code == 0, listed.err);
}

TEST_CASE("credentials saved under an older spelling of the server URL still sign you in") {
  auto server = ServerProcess::Start();
  Home h;
  h.SignUp(server->url(), "kim@example.com");
  REQUIRE(Has(h.File("credentials.toml"), "'" + server->url() + "'"));
  h.Rewrite("credentials.toml", "'" + server->url() + "'", "'" + server->url() + "/'");
  h.Rewrite("config.toml", "'" + server->url() + "'", "'" + server->url() + "/api/v1/'");
  CHECK(h.Json({"whoami"})["user"]["email"] == "kim@example.com");
  // Saved again, in the canonical spelling.
  h.Ok({"login", "--email", "kim@example.com", "--password-stdin"}, "correct horse battery\n");
  CHECK(Has(h.File("credentials.toml"), "'" + server->url() + "'"));
  CHECK_FALSE(Has(h.File("credentials.toml"), server->url() + "/"));
}

TEST_CASE("server set: a mistyped URL changes nothing, another spelling of the same server keeps the workspace") {
  Team team;
  TestUser lee = SignUp(*team.http, "lee");
  AddToTeam(*team.http, team.owner, team.id, lee, "member");
  Home h;
  h.Ok({"server", "set", team.server->url()});
  h.Ok({"login", "--email", lee.email, "--password-stdin"}, "password-lee\n");
  h.Ok({"workspace", "use", "platform-team"});
  const std::string config = h.File("config.toml");
  for (const char* typo : {"not a url", "http://127.0.0.1:port", "http://exa mple.com", "ftp://example.com"}) {
    auto r = h({"server", "set", typo});
    CHECK_MESSAGE(r.exit_code == 2, typo);
    CHECK(Has(r.err, "is not a server URL"));
    CHECK(h.File("config.toml") == config);
  }
  auto link = h({"server", "set", team.server->url() + "/join/mgi_0123456789abcdef"});
  CHECK(link.exit_code == 2);
  CHECK(Has(link.err, "mgteam join"));
  h.Ok({"server", "set", team.server->url() + "/"});
  CHECK(h.Json({"workspace", "show"})["id"] == team.id);
  // A server that is down now is accepted, with a warning; it is another
  // server, so the workspace chosen on the old one goes.
  auto down = h({"server", "set", "http://127.0.0.1:1"});
  CHECK(down.exit_code == 0);
  CHECK(Has(down.err, "warning: cannot reach http://127.0.0.1:1"));
  CHECK_FALSE(Has(h.File("config.toml"), "workspace"));
}

TEST_CASE("removed from a team: the next command says so once and falls back to the personal workspace") {
  Team team;
  TestUser mia = SignUp(*team.http, "mia");
  AddToTeam(*team.http, team.owner, team.id, mia, "member");
  Home h;
  h.Ok({"server", "set", team.server->url()});
  h.Ok({"login", "--email", mia.email, "--password-stdin"}, "password-mia\n");
  h.Ok({"workspace", "use", "platform-team"});
  h.Ok({"memory", "list"});  // the replica knows the team now
  // Written by an older version: the team's id only. Its name is in the replica.
  h.Rewrite("config.toml", "workspace_name", "# workspace_name");
  REQUIRE(team.http->Delete("/api/v1/teams/" + team.id + "/members/" + mia.id, team.owner.token).status == 200);

  auto after = h({"memory", "list"});
  CHECK_MESSAGE(after.exit_code == 0, after.err);
  CHECK(Has(after.err, "you were removed from Platform Team; now using your personal workspace"));
  CHECK_FALSE(Has(after.err, team.id));
  auto again = h({"memory", "list"});
  CHECK(again.exit_code == 0);
  CHECK_FALSE(Has(again.err, "removed"));
  CHECK(h.Json({"workspace", "show"})["id"] == mia.personal_ws);
  CHECK_FALSE(Has(h.File("config.toml"), "workspace = "));
  // A workspace named for this command alone is still an error: it was just typed.
  CHECK(h({"-w", "platform-team", "memory", "list"}).exit_code == 5);
}

TEST_CASE("removed from a team while the agent runs: the team is named from the config") {
  TeamServer ts("Platform Team");
  Machine bob(ts.url(), ts.bob);
  REQUIRE(bob.Cli({"workspace", "use", "platform-team"}).exit_code == 0);
  bob.StartAgent();
  REQUIRE(bob.WaitSettled(ts.team));
  REQUIRE(ts.http->Delete("/api/v1/teams/" + ts.team + "/members/" + ts.bob.id, ts.alice.token).status == 200);
  REQUIRE(bob.WaitGone(ts.team));  // the agent dropped it, name and all
  auto after = bob.Cli({"memory", "add", "Where does this go?", "--json"});
  REQUIRE_MESSAGE(after.exit_code == 0, after.err);
  CHECK(Has(after.err, "you were removed from Platform Team; now using your personal workspace"));
  CHECK(json::parse(after.out)["workspace_id"] == ts.bob.personal_ws);
}
