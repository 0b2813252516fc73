#include "process.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <spawn.h>
#include <thread>
#include <stdexcept>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace mgteam::test {
namespace {

std::vector<std::string> MergedEnv(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) {
    if (v.empty()) env.erase(k);
    else env[k] = v;
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// MGTEAM_TEST_SERVER_POSTGRES=postgres://user@host:port/db runs every test
// server on PostgreSQL instead of SQLite: a database per data dir (created
// on first use), so a server restarted on the same data dir finds its data.
// Empty when unset; the --db to pass otherwise.
std::string PostgresDbFor(const std::string& data_dir) {
  const char* server = std::getenv("MGTEAM_TEST_SERVER_POSTGRES");
  if (server == nullptr || *server == '\0') return "";
  const std::string url = server;
  const std::string db = "mgteam_it_" + std::to_string(std::hash<std::string>()(data_dir));
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("MGTEAM_TEST_SERVER_POSTGRES: cannot connect: " + why);
  }
  PGresult* r = PQexec(c, ("CREATE DATABASE " + db).c_str());
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || (state && std::string(state) == "42P04");  // exists
  std::string why = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error("MGTEAM_TEST_SERVER_POSTGRES: " + why);
  return url.substr(0, url.rfind('/') + 1) + db;
}

std::vector<char*> CArgs(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int DecodeWait(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for `pid` up to `timeout` (poll on a pidfd: woken by the exit
// itself); SIGKILLs it after that.
int WaitFor(pid_t pid, std::chrono::milliseconds timeout, bool* timed_out) {
  int status = 0;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int r;
    do {
      r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (r < 0 && errno == EINTR);
    ::close(pidfd);
    if (r == 0) {
      if (timed_out) *timed_out = true;
      ::kill(pid, SIGKILL);
    }
  }
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return DecodeWait(status);
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/mgteam-test-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  // MGTEAM_KEEP_TEST_DIRS=1 keeps data dirs and server logs for a post-mortem.
  if (std::getenv("MGTEAM_KEEP_TEST_DIRS")) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ProcessResult Run(const std::vector<std::string>& argv_in, const std::map<std::string, std::string>& env_in,
                  const std::string& input, std::chrono::seconds timeout) {
  std::vector<std::string> argv = argv_in;
  std::vector<std::string> env = MergedEnv(env_in);
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC))
    throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  pid_t pid = -1;
  auto cargv = CArgs(argv);
  auto cenv = CArgs(env);
  int rc = ::posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ProcessResult res;
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    res.err = std::string("spawn failed: ") + std::strerror(rc);
    return res;
  }
  ::signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  if (input.empty()) {
    ::close(in[1]);
    in[1] = -1;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    pollfd fds[3];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out_open) { fds[n] = {out[0], POLLIN, 0}; out_i = n++; }
    if (err_open) { fds[n] = {err[0], POLLIN, 0}; err_i = n++; }
    if (in[1] >= 0) { fds[n] = {in[1], POLLOUT, 0}; in_i = n++; }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    int pr = ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(left.count()));
    if (pr < 0 && errno == EINTR) continue;
    if (in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(in[1], input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 || written == input.size()) {
        ::close(in[1]);
        in[1] = -1;
      }
    }
    for (auto [idx, fd, open, sink] : {std::tuple{out_i, out[0], &out_open, &res.out},
                                       std::tuple{err_i, err[0], &err_open, &res.err}}) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r > 0) sink->append(buf, static_cast<size_t>(r));
      else *open = false;
    }
  }
  if (in[1] >= 0) ::close(in[1]);
  ::close(out[0]);
  ::close(err[0]);
  res.exit_code = WaitFor(pid, std::chrono::seconds(10), nullptr);
  return res;
}

std::unique_ptr<ChildProcess> ChildProcess::Spawn(const std::vector<std::string>& argv_in,
                                                  const std::map<std::string, std::string>& env_in,
                                                  bool with_stdin) {
  std::unique_ptr<ChildProcess> c(new ChildProcess());
  c->temp_ = std::make_unique<TempDir>();
  c->err_path_ = c->temp_->path() + "/stderr";
  std::vector<std::string> argv = argv_in;
  std::vector<std::string> env = MergedEnv(env_in);
  int out[2];
  if (::pipe2(out, O_CLOEXEC)) throw std::runtime_error("pipe failed");
  int in[2] = {-1, -1};
  if (with_stdin && ::pipe2(in, O_CLOEXEC)) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (with_stdin) posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  else posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, c->err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  auto cargv = CArgs(argv);
  auto cenv = CArgs(env);
  // posix_spawnp: argv[0] may be a command on PATH (node, curl).
  int rc = ::posix_spawnp(&c->pid_, argv[0].c_str(), &fa, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (with_stdin) ::close(in[0]);
  if (rc != 0) {
    ::close(out[0]);
    if (with_stdin) ::close(in[1]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  c->out_ = out[0];
  c->in_ = in[1];
  return c;
}

bool ChildProcess::WriteLine(const std::string& line) {
  if (in_ < 0) return false;
  std::string data = line + "\n";
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(in_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void ChildProcess::CloseStdin() {
  if (in_ >= 0) ::close(in_);
  in_ = -1;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    WaitFor(pid_, std::chrono::seconds(5), nullptr);
  }
  if (out_ >= 0) ::close(out_);
  if (in_ >= 0) ::close(in_);
}

std::optional<std::string> ChildProcess::ReadLine(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || out_ < 0) return std::nullopt;
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(out_, buf, sizeof buf);
    if (n <= 0) {
      ::close(out_);
      out_ = -1;
      if (buffer_.empty()) return std::nullopt;
      buffer_.push_back('\n');  // a last line without a newline
      continue;
    }
    buffer_.append(buf, static_cast<size_t>(n));
  }
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  int code = WaitFor(pid_, timeout, nullptr);
  pid_ = -1;
  return code;
}

void ChildProcess::Kill(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::string ChildProcess::Stderr() {
  std::ifstream in(err_path_);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::unique_ptr<ServerProcess> ServerProcess::Start(const Options& o) {
  std::unique_ptr<ServerProcess> s(new ServerProcess());
  s->temp_ = std::make_unique<TempDir>();
  s->data_dir_ = o.data_dir.empty() ? s->temp_->path() + "/data" : o.data_dir;
  s->log_path_ = s->temp_->path() + "/server.log";
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC)) throw std::runtime_error("pipe failed");
  std::vector<std::string> argv = {ServerBinary(), "--listen", o.listen, "--data-dir", s->data_dir_,
                                   "--ready-fd", "3", "--log-level", "debug"};
  if (o.open_signup) argv.push_back("--open-signup");
  for (const auto& a : o.args) argv.push_back(a);
  if (std::find(o.args.begin(), o.args.end(), "--db") == o.args.end())
    if (std::string db = PostgresDbFor(s->data_dir_); !db.empty()) {
      argv.push_back("--db");
      argv.push_back(db);
    }
  std::vector<std::string> env = MergedEnv({{"MGTEAM_OPEN_SIGNUP", ""}, {"MGTEAM_LISTEN", ""}});
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, s->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  // Not the test's stdout: a test binary that crashes (a sanitizer abort)
  // leaves the server running, and ctest would wait for it to close that.
  posix_spawn_file_actions_adddup2(&fa, 2, 1);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, ready[1], 3);  // dup2 clears CLOEXEC on fd 3
  auto cargv = CArgs(argv);
  auto cenv = CArgs(env);
  int rc = ::posix_spawn(&s->pid_, argv[0].c_str(), &fa, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(ready[1]);
  if (rc != 0) {
    ::close(ready[0]);
    throw std::runtime_error(std::string("cannot start mgteam-server: ") + std::strerror(rc));
  }
  // Block until the server writes its port (or exits, closing the pipe).
  std::string line;
  char c;
  pollfd pfd{ready[0], POLLIN, 0};
  while (line.find('\n') == std::string::npos) {
    if (::poll(&pfd, 1, 30000) <= 0) break;
    ssize_t r = ::read(ready[0], &c, 1);
    if (r <= 0) break;
    line.push_back(c);
  }
  ::close(ready[0]);
  s->port_ = std::atoi(line.c_str());
  if (s->port_ <= 0) {
    std::string log = s->log();
    s->Stop();
    throw std::runtime_error("mgteam-server did not start:\n" + log);
  }
  return s;
}

std::string ServerProcess::log() const {
  std::ifstream in(log_path_);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int ServerProcess::Stop(std::chrono::seconds grace) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int code = WaitFor(pid_, grace, nullptr);
  pid_ = -1;
  return code;
}

ServerProcess::~ServerProcess() { Stop(); }

bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + Scaled(timeout);
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= until) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a polling interval, not a synchronisation
  }
}

namespace {
// A factor of at least 1 from the environment (1 when unset or smaller).
double FactorFromEnv(const char* name) {
  const char* v = std::getenv(name);
  double f = v && *v ? std::atof(v) : 1.0;
  return f >= 1.0 ? f : 1.0;
}
}  // namespace

double MemoryOverhead() {
  static const double factor = FactorFromEnv("MGTEAM_TEST_MEMORY_OVERHEAD");
  return factor;
}

double Slowdown() {
  static const double factor = FactorFromEnv("MGTEAM_TEST_SLOWDOWN");
  return factor;
}

long ProcStatusKb(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key)
    if (key == field + ":") {
      long kb = -1;
      status >> kb;
      return kb;
    }
  return -1;
}

std::string ServerBinary() { return MGTEAM_SERVER_BIN; }
std::string CliBinary() { return MGTEAM_CLI_BIN; }
std::string AgentBinary() { return MGTEAM_AGENT_BIN; }

}  // namespace mgteam::test
