#include "machine.h"

#include <csignal>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace mgteam::test {

TeamServer::TeamServer(const std::string& team_name, const std::string& bob_role) {
  options.data_dir = data.path() + "/server";
  server = ServerProcess::Start(options);
  options.listen = "127.0.0.1:" + std::to_string(server->port());
  http = std::make_unique<Http>(server->port());
  alice = SignUp(*http, "alice");
  bob = SignUp(*http, "bob");
  team = CreateTeam(*http, alice, team_name);
  AddToTeam(*http, alice, team, bob, bob_role);
}

void TeamServer::StopServer() { server->Stop(); }

void TeamServer::StartServer() {
  server = ServerProcess::Start(options);
  http = std::make_unique<Http>(server->port());
}

int64_t TeamServer::Head() {
  return http->Get("/api/v1/workspaces/" + team, alice.token).body["head_seq"].get<int64_t>();
}


Machine::Machine(const std::string& server_url, const TestUser& user) : server_url_(server_url), token_(user.token) {
  auto r = Cli({"server", "set", server_url_});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

Machine::~Machine() {
  if (agent_pid_ > 0) StopAgent(true);
}

std::map<std::string, std::string> Machine::Env() const {
  return {{"XDG_CONFIG_HOME", home_.path() + "/config"}, {"XDG_DATA_HOME", home_.path() + "/data"},
          {"XDG_STATE_HOME", home_.path() + "/state"},   {"XDG_RUNTIME_DIR", home_.path() + "/run"},
          {"MGTEAM_TOKEN", token_},                       {"MGTEAM_SERVER", ""},
          {"MGTEAM_WORKSPACE", ""},                       {"MGTEAM_AGENT_BIN", AgentBinary()}};
}

ProcessResult Machine::Cli(std::vector<std::string> args, const std::string& input) {
  args.insert(args.begin(), CliBinary());
  return Run(args, Env(), input);
}

json Machine::CliJson(std::vector<std::string> args) {
  args.push_back("--json");
  auto r = Cli(args);
  std::string cmd;
  for (const auto& a : args) cmd += a + " ";
  REQUIRE_MESSAGE(r.exit_code == 0, cmd, "\n", r.err);
  return json::parse(r.out);
}

void Machine::StartAgent() {
  REQUIRE(agent_pid_ <= 0);
  int ready[2];
  REQUIRE(::pipe2(ready, O_CLOEXEC) == 0);
  std::vector<std::string> args = {AgentBinary(), "--server", server_url_, "--discover-interval", "0.5",
                                   "--log-file", home_.path() + "/agent.log", "--log-level", "debug",
                                   "--ready-fd", "3"};
  std::vector<std::string> env_strings;
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : Env()) {
    if (v.empty()) merged.erase(k);
    else merged[k] = v;
  }
  for (const auto& [k, v] : merged) env_strings.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, ready[1], 3);
  posix_spawn_file_actions_addopen(&fa, 2, (home_.path() + "/agent.err").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&fa, 2, 1);  // not the test's stdout (see ServerProcess::Start)
  int rc = ::posix_spawn(&agent_pid_, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(ready[1]);
  REQUIRE(rc == 0);
  char buf[16] = {0};
  pollfd p{ready[0], POLLIN, 0};
  ssize_t n = ::poll(&p, 1, 30000) > 0 ? ::read(ready[0], buf, sizeof buf - 1) : 0;
  ::close(ready[0]);
  std::ifstream err(home_.path() + "/agent.err");
  REQUIRE_MESSAGE(n > 0, "the agent did not start: ", std::string((std::istreambuf_iterator<char>(err)), {}));
}

int Machine::StopAgent(bool kill9) {
  if (agent_pid_ <= 0) return -1;
  ::kill(agent_pid_, kill9 ? SIGKILL : SIGTERM);
  int status = 0;
  ::waitpid(agent_pid_, &status, 0);
  agent_pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

agent::LocalApiClient Machine::Agent() const { return agent::LocalApiClient(home_.path() + "/run/mgteam/agent.sock"); }

bool Machine::WaitCursor(const std::string& ws, int64_t seq, std::chrono::seconds timeout) {
  auto r = Agent().Wait(ws, "cursor", seq, timeout);
  return r.ok() && *r;
}
bool Machine::WaitGone(const std::string& ws, std::chrono::seconds timeout) {
  auto r = Agent().Wait(ws, "gone", 0, timeout);
  return r.ok() && *r;
}
bool Machine::WaitSettled(const std::string& ws, std::chrono::seconds timeout) {
  auto r = Agent().Wait(ws, "settled", 0, timeout);
  return r.ok() && *r;
}

std::string Machine::ReplicaFile() const {
  std::string s = server_url_.substr(server_url_.find("://") + 3);
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) c = '_';
  return home_.path() + "/data/mgteam/" + s + ".db";
}

std::string Machine::AgentLog() const {
  std::ifstream in(home_.path() + "/agent.log");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace mgteam::test
