// A new user's first steps, run as they would run them: joining a team from
// the link an invitation printed, on a machine that has never seen the
// server; server URLs in their many spellings; a server that does not answer;
// being removed from a team; the exit codes scripts rely on.
#include "http.h"
#include "machine.h"
#include "process.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

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
  // A new member `name`, signed in on `h` with the team chosen.
  TestUser MemberSignedInAt(Home& h, const std::string& name) {
    TestUser u = SignUp(*http, name);
    AddToTeam(*http, owner, id, u, "member");
    h.Ok({"server", "set", server->url()});
    h.Ok({"login", "--email", u.email, "--password-stdin"}, "password-" + name + "\n");
    h.Ok({"workspace", "use", "platform-team"});
    return u;
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

TEST_CASE("join from a link on a machine that has never seen the server: one command creates the account and joins") {
  Team team(/*open_signup=*/false);  // an invitation lets you in even where sign-up is closed
  std::string link = team.Invite("nova@example.com");
  Home nova;
  auto joined = nova({"join", link, "--email", "nova@example.com", "--name", "Nova", "--password-stdin"},
                     "correct horse battery\n");
  REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
  CHECK(Has(joined.out, "Signed up as Nova <nova@example.com> on " + team.server->url()));
  CHECK(Has(joined.out, "You joined Platform Team as member."));
  CHECK(Has(joined.out, "It is now your current workspace"));  // no workspace was chosen: switched
  CHECK(Has(joined.err, "Server set to " + team.server->url() + " (from the invitation link)"));
  CHECK(team.RoleOf("nova@example.com") == "member");
  // The server, the token and the workspace are this machine's now.
  CHECK(Has(nova.File("config.toml"), "server = '" + team.server->url() + "'"));
  CHECK(nova.Json({"whoami"})["user"]["email"] == "nova@example.com");
  CHECK(nova.Json({"memory", "add", "First memory"})["workspace_id"] == team.id);

  // --json: one parseable document, no secret in it.
  std::string link2 = team.Invite("jay@example.com", "viewer");
  Home jay;
  json j = jay.Json({"join", link2, "--email", "jay@example.com", "--password-stdin"}, "correct horse battery\n");
  CHECK(j["account"] == "created");
  CHECK(j["workspace"]["name"] == "Platform Team");
  CHECK(j["workspace"]["slug"] == "platform-team");
  CHECK(j["membership"]["role"] == "viewer");
  CHECK(j["current_workspace"] == true);
  CHECK(j["server"] == team.server->url());
  CHECK_FALSE(j.contains("token"));
}

TEST_CASE("join from a link with an account on the server but not on this machine signs in with the password") {
  Team team;
  TestUser bob = SignUp(*team.http, "bob");  // password "password-bob"
  std::string link = team.Invite(bob.email);
  Home laptop;
  auto wrong = laptop({"join", link, "--email", bob.email, "--password-stdin"}, "not bob's password\n");
  CHECK(wrong.exit_code == 3);
  CHECK(Has(wrong.err, "wrong email or password"));
  CHECK_FALSE(Has(laptop.File("config.toml"), "server"));  // nothing changed here
  CHECK(team.RoleOf(bob.email).empty());

  auto joined = laptop({"join", link, "--email", bob.email, "--password-stdin"}, "password-bob\n");
  REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
  CHECK(Has(joined.out, "Logged in as bob <" + bob.email + ">"));
  CHECK(Has(joined.out, "You joined Platform Team as member."));
  CHECK(team.RoleOf(bob.email) == "member");
  CHECK(laptop.Json({"workspace", "show"})["id"] == team.id);
}

TEST_CASE("join when signed in just joins, and one who chose a workspace is told how to switch") {
  Team team;
  Home carol;
  carol.SignUp(team.server->url(), "carol@example.com");
  carol.Ok({"workspace", "use", "personal"});
  std::string link = team.Invite("carol@example.com", "admin");
  std::string out = carol.Ok({"join", link + "\n"});
  CHECK(Has(out, "You joined Platform Team as admin."));
  CHECK(Has(out, "Switch to it: mgteam workspace use platform-team"));
  CHECK(carol.Json({"workspace", "show"})["type"] == "personal");  // the choice stands

  // Signed in as someone else than --email says: refused before anything happens.
  std::string link2 = team.Invite("dave@example.com");
  auto other = carol({"join", link2, "--email", "dave@example.com"});
  CHECK(other.exit_code == 2);
  CHECK(Has(other.err, "signed in to " + team.server->url() + " as carol@example.com"));

  // A machine with only a token (CI): MGTEAM_TOKEN goes to the server
  // MGTEAM_SERVER names, never to one only the link names (a link is text
  // from someone else).
  TestUser erin = SignUp(*team.http, "erin");
  std::string link3 = team.Invite(erin.email);
  Home ci;
  auto link_only = ci({"join", link3}, "", {{"MGTEAM_TOKEN", erin.token}});
  CHECK(link_only.exit_code == 3);
  CHECK(Has(link_only.err, "not signed in to " + team.server->url()));
  auto token_only = ci({"join", link3}, "", {{"MGTEAM_TOKEN", erin.token}, {"MGTEAM_SERVER", team.server->url()}});
  REQUIRE_MESSAGE(token_only.exit_code == 0, token_only.err);
  CHECK(Has(token_only.out, "You joined Platform Team as member."));
}

TEST_CASE("join from a link to another server than the configured one uses the link's and says how to go back") {
  Team team;
  auto other = ServerProcess::Start();
  Home frank;
  frank.SignUp(other->url(), "frank@example.com");
  std::string link = team.Invite("frank@example.com");
  auto joined = frank({"join", link, "--email", "frank@example.com", "--password-stdin"}, "correct horse battery\n");
  REQUIRE_MESSAGE(joined.exit_code == 0, joined.err);
  CHECK(Has(joined.err, "Now using " + team.server->url() + " (the invitation's server) instead of " + other->url() +
                            "; switch back: mgteam server set " + other->url()));
  CHECK(Has(frank.File("config.toml"), "server = '" + team.server->url() + "'"));
  CHECK(frank.Json({"workspace", "show"})["id"] == team.id);
  // Both accounts stay signed in.
  CHECK(frank.Json({"--server", other->url(), "whoami"})["user"]["email"] == "frank@example.com");
}

TEST_CASE("join and signup explain what they need: a link, an account, a password") {
  Team team;
  std::string link = team.Invite("gus@example.com");
  Home gus;
  auto no_account = gus({"join", link});  // stdin is not a terminal: nothing to ask on
  CHECK(no_account.exit_code == 3);
  CHECK(Has(no_account.err, "mgteam join " + link + " --email YOU"));
  auto no_password = gus({"join", link, "--email", "gus@example.com"});
  CHECK(no_password.exit_code == 2);
  CHECK(Has(no_password.err, "--password-stdin"));
  auto not_a_link = gus({"join", "https://example.com/welcome"});
  CHECK(not_a_link.exit_code == 2);
  CHECK(Has(not_a_link.err, "/join/mgi_"));
  auto bare = gus({"join", team.TokenOf(link)});  // no server anywhere: the token alone cannot say
  CHECK(bare.exit_code == 1);
  CHECK(Has(bare.err, "pass the whole link"));
  CHECK(team.RoleOf("gus@example.com").empty());

  // signup --invitation for an email that has an account: join with it instead.
  TestUser hal = SignUp(*team.http, "hal");
  std::string link2 = team.Invite(hal.email);
  Home h;
  auto taken = h({"signup", "--email", hal.email, "--invitation", link2 + "\n", "--password-stdin"}, "password-hal\n");
  CHECK(taken.exit_code == 6);
  CHECK(Has(taken.err, "join with it: mgteam join " + link2 + " --email " + hal.email));
}

TEST_CASE("signup --invitation takes the link, the bare token, or the link with what was pasted after it") {
  Team team(/*open_signup=*/false);
  const std::string url = team.server->url();

  Home one;  // a fresh machine: the link's server becomes the configured one
  auto by_link = one({"signup", "--email", "one@example.com", "--invitation", team.Invite("one@example.com"),
                      "--password-stdin"},
                     "correct horse battery\n");
  REQUIRE_MESSAGE(by_link.exit_code == 0, by_link.err);
  CHECK(Has(by_link.out, "Signed up as one <one@example.com> on " + url));
  CHECK(Has(by_link.out, "You joined Platform Team as member."));
  CHECK(Has(one.File("config.toml"), "server = '" + url + "'"));
  CHECK(team.RoleOf("one@example.com") == "member");

  Home two;
  two.Ok({"server", "set", url});
  auto by_token = two({"signup", "--email", "two@example.com", "--invitation",
                       team.TokenOf(team.Invite("two@example.com")), "--password-stdin"},
                      "correct horse battery\n");
  REQUIRE_MESSAGE(by_token.exit_code == 0, by_token.err);
  CHECK(team.RoleOf("two@example.com") == "member");

  Home three;
  auto pasted = three({"signup", "--email", "three@example.com", "--invitation",
                       fmt::format(" {}).\n", team.Invite("three@example.com", "viewer")), "--password-stdin", "--json"},
                      "correct horse battery\n");
  REQUIRE_MESSAGE(pasted.exit_code == 0, pasted.err);
  json j = json::parse(pasted.out);
  CHECK(j["user"]["email"] == "three@example.com");
  CHECK(j["workspace"]["name"] == "Platform Team");
  CHECK_FALSE(j.contains("token"));
  CHECK(team.RoleOf("three@example.com") == "viewer");

  Home four;
  auto junk = four({"signup", "--email", "four@example.com", "--invitation", "see you there", "--password-stdin"},
                   "correct horse battery\n");
  CHECK(junk.exit_code == 2);
}

TEST_CASE("signup and login without a terminal and without --password-stdin are usage errors (exit 2)") {
  auto server = ServerProcess::Start();
  Home h;
  h.Ok({"server", "set", server->url()});
  auto signup = h({"signup", "--email", "x@example.com"});
  CHECK(signup.exit_code == 2);
  CHECK(Has(signup.err, "--password-stdin"));
  auto login = h({"login", "--email", "x@example.com"});
  CHECK(login.exit_code == 2);
  CHECK(Has(login.err, "--password-stdin"));
}

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
  // A TOML literal string, built with fmt: a quote literal + std::string
  // makes GCC 12 at -O3 report a bogus -Wrestrict (GCC bug 105329).
  auto quoted = [](const std::string& url) { return fmt::format("'{}'", url); };
  Home h;
  h.SignUp(server->url(), "kim@example.com");
  REQUIRE(Has(h.File("credentials.toml"), quoted(server->url())));
  h.Rewrite("credentials.toml", quoted(server->url()), quoted(server->url() + "/"));
  h.Rewrite("config.toml", quoted(server->url()), quoted(server->url() + "/api/v1/"));
  CHECK(h.Json({"whoami"})["user"]["email"] == "kim@example.com");
  // Saved again, in the canonical spelling.
  h.Ok({"login", "--email", "kim@example.com", "--password-stdin"}, "correct horse battery\n");
  CHECK(Has(h.File("credentials.toml"), quoted(server->url())));
  CHECK_FALSE(Has(h.File("credentials.toml"), server->url() + "/"));
}

TEST_CASE("server set: a mistyped URL changes nothing, another spelling of the same server keeps the workspace") {
  Team team;
  Home h;
  team.MemberSignedInAt(h, "lee");
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
  Home h;
  TestUser mia = team.MemberSignedInAt(h, "mia");
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

TEST_CASE("sync now with the server down exits 8, with the agent running and without") {
  TeamServer ts("Platform Team");
  Machine bob(ts.url(), ts.bob);
  REQUIRE(bob.Cli({"workspace", "use", "platform-team"}).exit_code == 0);
  bob.StartAgent();
  REQUIRE(bob.WaitSettled(ts.team));
  ts.StopServer();
  auto with_agent = bob.Cli({"sync", "now"});
  CHECK(with_agent.exit_code == 8);
  CHECK(Has(with_agent.err, "cannot reach " + ts.url()));
  CHECK(Has(with_agent.err, "the agent keeps trying"));

  bob.StopAgent();
  auto queued = bob.Cli({"memory", "add", "Written offline"});
  CHECK(queued.exit_code == 7);  // this one was saved locally
  auto alone = bob.Cli({"sync", "now"});
  CHECK(alone.exit_code == 8);
  CHECK(Has(alone.err, "cannot reach"));
  CHECK_FALSE(Has(alone.err, "saved locally"));
  CHECK(Has(alone.err, "1 write(s) made here wait"));

  ts.StartServer();
  CHECK(bob.Cli({"sync", "now"}).exit_code == 0);
}
