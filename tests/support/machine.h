// Test support: one simulated machine — its own home (XDG config, data,
// state and runtime dirs), the mgteam CLI run there, and its mgteam-agent.
#pragma once

#include "http.h"
#include "local_api.h"
#include "process.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mgteam::test {

// A real server that can be stopped and started again on the same port and
// data, with alice (owner) and bob (`bob_role`) in one team.
struct TeamServer {
  TempDir data;
  ServerProcess::Options options;
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<Http> http;
  TestUser alice, bob;
  std::string team;

  explicit TeamServer(const std::string& team_name, const std::string& bob_role = "member");
  void StopServer();
  void StartServer();
  std::string url() const { return "http://" + options.listen; }
  int64_t Head();
};

class Machine {
 public:
  // Signs in as `user` (its token) to `server_url`.
  Machine(const std::string& server_url, const TestUser& user);
  ~Machine();

  std::map<std::string, std::string> Env() const;
  ProcessResult Cli(std::vector<std::string> args, const std::string& input = "");
  // Runs the CLI and parses its stdout as JSON (REQUIREs exit 0).
  json CliJson(std::vector<std::string> args);

  // Starts mgteam-agent and waits for it to serve.
  void StartAgent();
  // SIGTERM (graceful) or SIGKILL (a crash); waits for the exit.
  int StopAgent(bool kill9 = false);
  bool agent_running() const { return agent_pid_ > 0; }
  pid_t agent_pid() const { return agent_pid_; }
  agent::LocalApiClient Agent() const;
  // Waits via the agent's local API (see agent/local_api.h).
  bool WaitCursor(const std::string& ws, int64_t seq, std::chrono::seconds timeout = std::chrono::seconds(30));
  bool WaitGone(const std::string& ws, std::chrono::seconds timeout = std::chrono::seconds(30));
  bool WaitSettled(const std::string& ws, std::chrono::seconds timeout = std::chrono::seconds(30));
  std::string ReplicaFile() const;
  std::string AgentLog() const;
  const std::string& home() const { return home_.path(); }

 private:
  TempDir home_;
  std::string server_url_;
  std::string token_;
  pid_t agent_pid_ = -1;
};

}  // namespace mgteam::test
