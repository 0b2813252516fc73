// mgteam-agent: keeps this machine's replica of the user's workspaces current
// and sends writes made here (also offline) to the server. Runs in the
// foreground; `mgteam agent start` or a systemd/launchd user service runs it
// in the background. See `man mgteam-agent`.
#include "client_config.h"
#include "engine.h"
#include "local_api.h"
#include "paths.h"
#include "replica.h"

#include "mgteam/logging.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <thread>
#include <unistd.h>

using namespace mgteam;
using namespace mgteam::agent;

namespace {

int Fail(const Status& s, int code = 1) {
  std::fprintf(stderr, "mgteam-agent: %s\n", s.message().c_str());
  return code;
}

// Holds an exclusive lock on StateDir()/agent.lock for the process' life: a
// second agent for the same user refuses to start.
Result<int> TakeInstanceLock() {
  std::string path = StateDir() + "/agent.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Internal("cannot open " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    std::string who = n > 0 ? std::string(pid, static_cast<size_t>(n)) : "?";
    while (!who.empty() && who.back() == '\n') who.pop_back();
    return Status::Conflict("already_running", "another mgteam-agent is already running (pid " + who +
                                                   "); stop it with `mgteam agent stop`");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0)
    return Status::Internal("cannot write " + path);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server_flag, log_level = "info", log_format = "text", log_file;
  double discover_seconds = 30;
  int ready_fd = -1;
  CLI::App app{"mgteam-agent: keeps this machine's team memory in sync"};
  app.set_version_flag("--version", std::string("mgteam-agent ") + MGTEAM_VERSION);
  app.add_option("--server", server_flag, "Server URL (default: MGTEAM_SERVER, else `mgteam server set`)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off");
  app.add_option("--log-format", log_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-file", log_file, "Append logs to this file instead of stderr");
  app.add_option("--discover-interval", discover_seconds, "Seconds between checks for new or left teams")
      ->check(CLI::Range(0.1, 3600.0));
  app.add_option("--ready-fd", ready_fd, "Write 'ready' to this file descriptor once serving");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (Status s = SetUpLogging(log_level, log_format, log_file); !s.ok()) return Fail(s, 2);

  // Settings as the CLI has them: flag > environment > config files.
  auto config = CliConfig::Load();
  if (!config.ok()) return Fail(config.status());
  std::string server = server_flag;
  if (server.empty() && std::getenv("MGTEAM_SERVER")) server = std::getenv("MGTEAM_SERVER");
  if (server.empty() && config->server) server = *config->server;
  if (server.empty()) return Fail(Status::Invalid("no_server", "no server is set; run `mgteam server set URL`"));
  auto url = ParseServerUrl(server);
  if (!url.ok()) return Fail(url.status(), 2);
  std::string token;
  if (const char* t = std::getenv("MGTEAM_TOKEN"); t && *t) token = t;
  else if (auto key = config->CredentialsKey(*url))
    token = config->credentials.at(*key).token;
  if (token.empty())
    return Fail(Status::Unauthenticated("not signed in to " + url->ToString() + "; run `mgteam login` first"), 3);

  for (const auto& dir : {StateDir(), DataDir(), SocketPath().substr(0, SocketPath().rfind('/'))})
    if (Status s = EnsurePrivateDir(dir); !s.ok()) return Fail(s);
  auto lock = TakeInstanceLock();
  if (!lock.ok()) return Fail(lock.status());

  auto replica = Replica::Open(ReplicaPath(url->ToString()));
  if (!replica.ok()) return Fail(replica.status());

  EngineOptions options;
  options.server = *url;
  options.token = token;
  options.discover_interval = std::chrono::milliseconds(static_cast<int64_t>(discover_seconds * 1000));
  SyncEngine engine(options, **replica);

  // Signals are handled by one thread with sigwait, like the server's.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  if (Status s = engine.Start(); !s.ok()) return Fail(s, s.code() == Code::kUnauthenticated ? 3 : 1);
  LocalApiServer local;
  LocalApiHandlers handlers;
  handlers.status = [&] { return engine.StatusJson(); };
  handlers.flush = [&] { engine.NudgeFlush(); };
  handlers.wait_op = [&](const std::string& op, std::chrono::milliseconds t) { return engine.WaitOp(op, t); };
  handlers.sync = [&] { engine.NudgeSync(); };
  handlers.wait = [&](const std::string& ws, const std::string& what, int64_t cursor, std::chrono::milliseconds t) {
    Replica& r = **replica;
    return engine.WaitFor(
        [&] {
          auto w = r.FindWorkspace(ws);
          if (!w.ok()) return false;
          if (what == "gone") return !*w;
          if (!*w) return false;
          if (what == "cursor") return (*w)->cursor >= cursor;
          auto ops = r.Ops(ws);
          return ops.ok() && std::none_of(ops->begin(), ops->end(), [](const auto& op) { return op.state == OpState::kPending; });
        },
        t);
  };
  handlers.shutdown = [&] { ::kill(::getpid(), SIGTERM); };
  if (Status s = local.Start(SocketPath(), handlers); !s.ok()) return Fail(s);
  spdlog::info("mgteam-agent {} syncing {} (replica {}, socket {})", MGTEAM_VERSION, url->ToString(),
               ReplicaPath(url->ToString()), SocketPath());
  if (ready_fd >= 0) {
    ssize_t n = ::write(ready_fd, "ready\n", 6);
    (void)n;
    ::close(ready_fd);
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("stopping");
  local.Stop();
  engine.Stop();
  spdlog::info("stopped");
  return 0;
}
