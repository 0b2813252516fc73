// mgteam sync status|now|retry, mgteam agent start|stop|status|install|
// uninstall|logs.
#include "local.h"
#include "paths.h"
#include "render.h"
#include "session.h"
#include "sync.h"

#include "mgteam/clock.h"

#include <cerrno>
#include <deque>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace mgteam::cli {

// The service templates of scripts/systemd and scripts/launchd, compiled in.
std::string_view SystemdUnitTemplate();
std::string_view LaunchdPlistTemplate();

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

Result<std::unique_ptr<agent::Replica>> OpenReplica(Session& s) {
  MG_ASSIGN_OR_RETURN(ServerUrl url, s.Server());
  MG_RETURN_IF_ERROR(agent::EnsurePrivateDir(agent::DataDir()));
  return agent::Replica::Open(agent::ReplicaPath(url.ToString()));
}

// What `sync status` shows when no agent runs: the replica's own account.
Result<json> LocalStatus(Session& s) {
  MG_ASSIGN_OR_RETURN(auto replica, OpenReplica(s));
  std::map<std::string, std::pair<int, int>> counts;
  std::map<std::string, std::string> errors;
  MG_ASSIGN_OR_RETURN(auto ops, replica->Ops());
  for (const auto& op : ops) {
    auto& c = counts[op.workspace_id];
    (op.state == agent::OpState::kFailed ? c.second : c.first)++;
    if (!op.last_error.empty()) errors[op.workspace_id] = op.last_error;
  }
  json list = json::array();
  MG_ASSIGN_OR_RETURN(auto workspaces, replica->Workspaces());
  for (const auto& w : workspaces) {
    json j = w.ToJson();
    j["pending"] = counts[w.id].first;
    j["failed"] = counts[w.id].second;
    j["last_op_error"] = errors[w.id];
    j["connected"] = false;
    j["state"] = "no agent";
    list.push_back(std::move(j));
  }
  return json{{"workspaces", list}};
}

json FailedOps(Session& s) {
  json out = json::array();
  auto replica = OpenReplica(s);
  if (!replica.ok()) return out;
  for (const auto& op : (*replica)->Ops().value_or({}))
    if (op.state == agent::OpState::kFailed || op.attempts > 0) out.push_back(op.ToJson());
  return out;
}

}  // namespace

Result<json> SyncStatus(Session& s) {
  agent::LocalApiClient agent(agent::SocketPath());
  auto running = agent.Status();
  json status;
  if (running.ok()) {
    status = *running;
    status["agent"] = {{"running", true}, {"pid", running->value("pid", 0)}};
  } else {
    MG_ASSIGN_OR_RETURN(status, LocalStatus(s));
    status["agent"] = {{"running", false}};
  }
  status["ops_with_problems"] = FailedOps(s);
  return status;
}

namespace {

Status PrintSyncStatus(Session& s) {
  MG_ASSIGN_OR_RETURN(json status, SyncStatus(s));
  const bool running = status["agent"].value("running", false);
  if (s.json()) {
    PrintJson(status);
    return Status::Ok();
  }
  if (running)
    Say("agent: running (pid " + std::to_string(status.value("pid", 0)) + ", since " +
        Ago(status.value("started_at", "")) + ")");
  else
    Say("agent: not running (start it: mgteam agent start; or install it: mgteam agent install)");
  if (running && !status.value("auth_error", "").empty()) Say("problem: " + status.value("auth_error", ""));
  Table t({"WORKSPACE", "STATE", "CURSOR", "HEAD", "PENDING", "FAILED", "LAST SYNC", "LAST ERROR"}, {30, 0, 0, 0, 0, 0, 0, 60});
  for (const auto& w : status["workspaces"]) {
    const bool live = w.value("connected", false);
    std::string state = live ? "live" : w.value("state", "");
    // Live: every change arrives as it happens, so the copy is current now.
    std::string last = live ? "now (live)" : w.value("last_sync_at", "").empty() ? "never" : Ago(w.value("last_sync_at", ""));
    t.Add({w.value("name", ""), state, std::to_string(w.value("cursor", 0)), std::to_string(w.value("head_seq", 0)),
           std::to_string(w.value("pending", 0)), std::to_string(w.value("failed", 0)), last,
           !w.value("last_error", "").empty() ? w.value("last_error", "") : w.value("last_op_error", "")});
  }
  if (t.empty()) Say("No workspaces synced on this machine yet.");
  else t.Print();
  for (const auto& op : status["ops_with_problems"])
    if (op.value("state", "") == "failed")
      Say("failed: " + op.value("kind", "") + " " + op.value("entity_id", "") + ": " + op.value("last_error", "") +
          " (mgteam sync retry sends it again)");
  return Status::Ok();
}

// A sync that could not reach the server: exit 8, not 7 (nothing was saved,
// nothing was sent), saying what still waits on this machine.
Status NotSynced(agent::Replica& replica, const Status& why) {
  int pending = 0;
  for (const auto& op : replica.Ops().value_or({})) pending += op.state == agent::OpState::kPending;
  std::string message = "not synced: " + why.message();
  if (pending > 0)
    message += "; " + std::to_string(pending) + " write(s) made here wait and are sent once the server is reachable";
  return Status(Code::kUnavailable, "unreachable", message);
}

// Catches every workspace up and sends every pending op, from here.
Status SyncFromHere(Session& s) {
  MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
  MG_ASSIGN_OR_RETURN(auto replica, OpenReplica(s));
  auto me = api.Get("/api/v1/me");
  if (!me.ok()) return agent::IsOffline(me.status()) ? NotSynced(*replica, me.status()) : me.status();
  MG_RETURN_IF_ERROR(replica->Bind(api.url().ToString(), (*me)["user"].value("id", "")));
  MG_ASSIGN_OR_RETURN(auto workspaces, agent::DiscoverWorkspaces(api, *replica));
  int refused = 0, lost_merges = 0;
  Status offline;
  const std::string my_id = replica->user_id();
  auto my_lost = [&](const std::string& ws) {
    int n = 0;
    for (const auto& c : replica->ListConflicts(ws, true).value_or({})) n += c.lost_by.user_id == my_id;
    return n;
  };
  for (const auto& w : workspaces) {
    const int lost_before = my_lost(w.id);
    agent::FlushResult r = agent::Flush(api, *replica, w.id, false);
    refused += r.failed;
    if (!r.blocked.ok()) offline = r.blocked;
    Status caught = agent::CatchUp(api, *replica, w.id);
    if (!caught.ok() && caught.reason() != "removed") offline = caught;
    lost_merges += std::max(0, my_lost(w.id) - lost_before);
    auto now = replica->FindWorkspace(w.id);
    std::string where = now.ok() && *now ? " (at #" + std::to_string((*now)->cursor) + ")" : "";
    if (!s.json())
      Say(w.name + ": " + (caught.ok() ? "up to date" + where : caught.message()) +
          (r.sent ? ", sent " + std::to_string(r.sent) : "") + (r.failed ? ", " + std::to_string(r.failed) + " refused" : ""));
  }
  if (s.json()) return PrintSyncStatus(s);
  if (refused) Note("Some writes were refused; `mgteam sync status` shows why.");
  if (lost_merges)
    Note(std::to_string(lost_merges) + " of your edits lost to someone else's (a later edit, or a delete) and " +
         (lost_merges == 1 ? "is" : "are") + " kept: `mgteam conflicts list` shows them, `mgteam conflicts resolve` restores them.");
  if (!offline.ok()) return agent::IsOffline(offline) ? NotSynced(*replica, offline) : offline;
  return Status::Ok();
}

// ---- the agent process -------------------------------------------------------

std::string SelfDir() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

// mgteam-agent: $MGTEAM_AGENT_BIN, next to mgteam, in the build tree, or on PATH.
Result<std::string> AgentBinary() {
  if (const char* e = std::getenv("MGTEAM_AGENT_BIN"); e && *e) return std::string(e);
  for (const std::string& candidate : {SelfDir() + "/mgteam-agent", SelfDir() + "/../agent/mgteam-agent"})
    if (::access(candidate.c_str(), X_OK) == 0) return fs::weakly_canonical(candidate).string();
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string dir; std::getline(ss, dir, ':');)
      if (::access((dir + "/mgteam-agent").c_str(), X_OK) == 0) return dir + "/mgteam-agent";
  }
  return Status::NotFound("cannot find the mgteam-agent program; install it next to mgteam or set MGTEAM_AGENT_BIN");
}

std::string LogFile() { return agent::StateDir() + "/agent.log"; }

std::string LastLines(const std::string& file, int n) {
  std::ifstream in(file);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > n) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Starts mgteam-agent in its own session (detached from this terminal) and
// waits for it to say it is serving.
Status StartAgent(Session& s) {
  agent::LocalApiClient client(agent::SocketPath());
  if (auto st = client.Status(); st.ok()) {
    Say("The agent is already running (pid " + std::to_string(st->value("pid", 0)) + ").");
    return Status::Ok();
  }
  MG_ASSIGN_OR_RETURN(std::string bin, AgentBinary());
  MG_RETURN_IF_ERROR(agent::EnsurePrivateDir(agent::StateDir()));
  MG_ASSIGN_OR_RETURN(ServerUrl url, s.Server());
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return Status::Internal("pipe failed");
  std::vector<std::string> args = {bin, "--server", url.ToString(), "--log-file", LogFile(), "--ready-fd", "3"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, (agent::StateDir() + "/agent.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, ready[1], 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, bin.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(ready[1]);
  if (rc != 0) {
    ::close(ready[0]);
    return Status::Internal("cannot start " + bin + ": " + std::strerror(rc));
  }
  char buf[16] = {0};
  pollfd p{ready[0], POLLIN, 0};
  ssize_t n = ::poll(&p, 1, 20000) > 0 ? ::read(ready[0], buf, sizeof buf - 1) : 0;
  ::close(ready[0]);
  if (n <= 0) {
    int status = 0;
    ::waitpid(pid, &status, WNOHANG);
    std::ifstream err(agent::StateDir() + "/agent.err");
    std::string why((std::istreambuf_iterator<char>(err)), {});
    return Status::Internal("the agent did not start: " + (why.empty() ? std::string("see ") + LogFile() : why));
  }
  if (s.json()) PrintJson({{"running", true}, {"pid", pid}});
  else Say("Started the agent (pid " + std::to_string(pid) + "); it keeps your workspaces in sync. Logs: " + LogFile());
  return Status::Ok();
}

// Waits for `pid` to exit (woken by the exit itself, via a pidfd).
bool WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;  // already gone
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  ::close(fd);
  return r > 0;
}

Status StopAgent(Session& s) {
  agent::LocalApiClient client(agent::SocketPath());
  auto st = client.Status();
  if (!st.ok()) {
    Say("The agent is not running.");
    return Status::Ok();
  }
  pid_t pid = st->value("pid", 0);
  MG_RETURN_IF_ERROR(client.Shutdown());
  if (!WaitExit(pid, std::chrono::seconds(15))) return Status::Internal("the agent did not stop within 15 s");
  if (s.json()) PrintJson({{"running", false}});
  else Say("Stopped the agent (pid " + std::to_string(pid) + ").");
  return Status::Ok();
}

// Runs a command, quietly; returns its exit code (-1 if it cannot run).
int RunQuietly(const std::vector<std::string>& args) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Fill(std::string_view tmpl, const std::map<std::string, std::string>& values) {
  std::string out(tmpl);
  for (const auto& [key, value] : values)
    for (size_t p; (p = out.find(key)) != std::string::npos;) out.replace(p, key.size(), value);
  return out;
}

std::string ServiceFile() {
#ifdef __APPLE__
  return std::string(std::getenv("HOME")) + "/Library/LaunchAgents/dev.mgteam.agent.plist";
#else
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  std::string base = xdg && *xdg ? xdg : std::string(std::getenv("HOME") ? std::getenv("HOME") : ".") + "/.config";
  return base + "/systemd/user/mgteam-agent.service";
#endif
}

// The unit a package or `cmake --install` put next to this program:
// <prefix>/lib/systemd/user/mgteam-agent.service for <prefix>/bin/mgteam.
// Empty when there is none (a build tree; macOS).
std::string InstalledUnit() {
#ifdef __APPLE__
  return "";
#else
  fs::path bin = SelfDir();
  if (bin.filename() != "bin") return "";
  fs::path unit = bin.parent_path() / "lib/systemd/user/mgteam-agent.service";
  std::error_code ec;
  return fs::is_regular_file(unit, ec) ? unit.string() : "";
#endif
}

// systemd's user manager reads units from these prefixes itself; a copy in
// ~/.config would only hide the package's unit and go stale on upgrades.
bool SystemdReads(const std::string& unit) {
  return unit == "/usr/lib/systemd/user/mgteam-agent.service" ||
         unit == "/usr/local/lib/systemd/user/mgteam-agent.service";
}

// This user's service file: a copy of the installed unit, or else the
// built-in template filled with the agent's path.
Result<std::string> ServiceText(const std::string& installed) {
  if (!installed.empty()) {
    std::ifstream in(installed);
    if (!in) return Status::Internal("cannot read " + installed);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }
  MG_ASSIGN_OR_RETURN(std::string bin, AgentBinary());
#ifdef __APPLE__
  return Fill(LaunchdPlistTemplate(), {{"@AGENT@", bin}, {"@LOG@", LogFile()}});
#else
  return Fill(SystemdUnitTemplate(), {{"@AGENT@", bin}});
#endif
}

// Puts the service file where the service manager finds it, and says which
// file that is.
Status PlaceServiceFile() {
  std::string file = ServiceFile();
  std::string installed = InstalledUnit();
  std::error_code ec;
  if (SystemdReads(installed)) {
    // An older copy would hide the package's unit. It may hold the user's own
    // edits: moved aside, not deleted (drop-ins are the way to change it now).
    if (fs::exists(file, ec)) {
      fs::rename(file, file + ".bak", ec);
      if (ec) return Status::Internal("cannot move " + file + " aside (it would hide " + installed + "): " + ec.message());
      Say("Moved " + file + " to " + file + ".bak: it would hide " + installed +
          " (to change the unit, use `systemctl --user edit mgteam-agent`)");
    }
    Say("Using " + installed);
    return Status::Ok();
  }
  MG_ASSIGN_OR_RETURN(std::string text, ServiceText(installed));
  fs::create_directories(fs::path(file).parent_path(), ec);
  std::ofstream out(file, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::Internal("cannot write " + file);
  Say("Wrote " + file + (installed.empty() ? "" : " (a copy of " + installed + ")"));
  return Status::Ok();
}

Status InstallAgent(Session& s) {
  MG_RETURN_IF_ERROR(PlaceServiceFile());
#ifdef __APPLE__
  bool enabled = RunQuietly({"launchctl", "load", "-w", ServiceFile()}) == 0;
#else
  bool enabled = RunQuietly({"systemctl", "--user", "daemon-reload"}) == 0 &&
                 RunQuietly({"systemctl", "--user", "enable", "--now", "mgteam-agent.service"}) == 0;
#endif
  if (enabled) {
    Say("The agent runs as a user service now and starts with your session.");
    return Status::Ok();
  }
  // No user service manager here (a container, an SSH session without
  // lingering): run it now, and say it will not come back by itself.
  Note("note: the user service manager is not available here, so the service is installed but not enabled; "
       "starting the agent directly (it will not restart after a reboot)");
  return StartAgent(s);
}

Status UninstallAgent(Session& s) {
  std::string file = ServiceFile();
#ifdef __APPLE__
  RunQuietly({"launchctl", "unload", "-w", file});
#else
  RunQuietly({"systemctl", "--user", "disable", "--now", "mgteam-agent.service"});
#endif
  // Only this user's copy goes; a package's unit belongs to the package.
  std::error_code ec;
  if (fs::remove(file, ec)) Say("Removed " + file);
  else if (std::string installed = InstalledUnit(); SystemdReads(installed))
    Say("Disabled the service; " + installed + " belongs to the installed package and stays");
  else Say("No service file at " + file);
  return StopAgent(s);
}

}  // namespace

Status StopAgentOf(Session& s, const std::string& server) {
  agent::LocalApiClient client(agent::SocketPath());
  auto st = client.Status();
  if (!st.ok() || st->value("server", "") != server) return Status::Ok();
  return StopAgent(s);
}

void AddSyncCommands(CLI::App& app, Cli& cli) {
  auto* sync = app.add_subcommand("sync", "What is synced, what is pending, and what failed");
  sync->require_subcommand(1);
  sync->add_subcommand("status", "Per workspace: connected, cursor and head, pending and failed writes")
      ->callback([&cli] { cli.action = [](Session& s) { return PrintSyncStatus(s); }; });
  sync->add_subcommand("now", "Catch up and send pending writes now")->callback([&cli] {
    cli.action = [](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ServerUrl url, s.Server());
      if (!AgentSyncs(url)) return SyncFromHere(s);
      MG_RETURN_IF_ERROR(agent::LocalApiClient(agent::SocketPath()).Sync());
      // The agent syncs in the background and keeps trying; whether it can
      // succeed now is the server's to say, and a script asking for a sync
      // must hear that it cannot.
      if (Status reachable = CheckReachable(url); !reachable.ok()) {
        MG_ASSIGN_OR_RETURN(auto replica, OpenReplica(s));
        return NotSynced(*replica, Status(reachable.code(), reachable.reason(),
                                          reachable.message() + " (the agent keeps trying)"));
      }
      Say("Asked the agent to sync now; `mgteam sync status` shows the result.");
      return Status::Ok();
    };
  });
  sync->add_subcommand("retry", "Send refused writes again (after fixing the cause)")->callback([&cli] {
    cli.action = [](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(auto replica, OpenReplica(s));
      MG_ASSIGN_OR_RETURN(int n, replica->RetryFailed());
      replica.reset();
      Say(std::to_string(n) + " write(s) queued again.");
      agent::LocalApiClient agent(agent::SocketPath());
      if (agent.Running()) return agent.Flush().status();
      return SyncFromHere(s);
    };
  });
  // Giving up on refused writes: only failed ones, so nothing still on its
  // way can be thrown away by a typo.
  auto discard_ids = std::make_shared<std::vector<std::string>>();
  AddVerifyCommand(*sync, cli);
  auto* discard = sync->add_subcommand("discard", "Give up on refused writes: drop them from this machine");
  discard->add_option("op_id", *discard_ids, "The failed writes' op ids (`mgteam sync status --json`); none: all")
      ->expected(0, -1);
  discard->callback([&cli, discard_ids] {
    cli.action = [discard_ids](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(auto replica, OpenReplica(s));
      MG_ASSIGN_OR_RETURN(auto ops, replica->Ops());
      std::set<std::string> wanted(discard_ids->begin(), discard_ids->end());
      int n = 0;
      for (const auto& op : ops) {
        if (op.state != agent::OpState::kFailed || (!wanted.empty() && !wanted.count(op.op_id))) continue;
        MG_RETURN_IF_ERROR(replica->DismissOp(op.op_id));
        wanted.erase(op.op_id);
        ++n;
      }
      if (!discard_ids->empty() && !wanted.empty())
        return Status::NotFound("no failed write " + *wanted.begin() + " (only refused writes can be discarded)");
      Say(std::to_string(n) + " refused write(s) discarded.");
      return Status::Ok();
    };
  });

  auto* ag = app.add_subcommand("agent", "Run the background sync agent");
  ag->require_subcommand(1);
  ag->add_subcommand("start", "Start the agent in the background")
      ->callback([&cli] { cli.action = [](Session& s) { return StartAgent(s); }; });
  ag->add_subcommand("stop", "Stop the agent")->callback([&cli] { cli.action = [](Session& s) { return StopAgent(s); }; });
  ag->add_subcommand("status", "Whether the agent runs, and what it syncs")
      ->callback([&cli] { cli.action = [](Session& s) { return PrintSyncStatus(s); }; });
  ag->add_subcommand("install", "Install and start the agent as a user service (systemd or launchd)")
      ->callback([&cli] { cli.action = [](Session& s) { return InstallAgent(s); }; });
  ag->add_subcommand("uninstall", "Stop the service and remove it")
      ->callback([&cli] { cli.action = [](Session& s) { return UninstallAgent(s); }; });
  auto lines = std::make_shared<int>(50);
  auto follow = std::make_shared<bool>(false);
  auto* logs = ag->add_subcommand("logs", "Show the agent's log");
  logs->add_option("--lines,-n", *lines, "How many of the last lines (default 50)");
  logs->add_flag("--follow,-f", *follow, "Keep printing new lines");
  logs->callback([&cli, lines, follow] {
    cli.action = [lines, follow](Session&) -> Status {
      std::string file = LogFile();
      if (!fs::exists(file))
        return Status::NotFound("no agent log at " + file + " yet (under systemd without --log-file: "
                                "journalctl --user -u mgteam-agent)");
      if (*follow) {
        std::string n = std::to_string(*lines);
        ::execlp("tail", "tail", "-n", n.c_str(), "-f", file.c_str(), static_cast<char*>(nullptr));
        return Status::Internal("cannot run tail");
      }
      std::cout << LastLines(file, *lines);
      return Status::Ok();
    };
  });
}

}  // namespace mgteam::cli
