// Test support: running the real binaries. Processes are started with
// posix_spawn; their output is captured without deadlocks (poll on both
// pipes); a server reports readiness by writing its port to an inherited pipe
// (--ready-fd), so no test sleeps to wait for it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace mgteam::test {

// A fresh directory under $TMPDIR, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ProcessResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
  bool timed_out = false;
};

// Runs argv[0] with the current environment plus `env` (an empty value
// unsets), feeding `input` on stdin.
ProcessResult Run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                  const std::string& input = "", std::chrono::seconds timeout = std::chrono::seconds(60));

// A child process whose stdout is read line by line while the test goes on.
class ChildProcess {
 public:
  // With `with_stdin`, the child reads what WriteLine() sends (else /dev/null).
  static std::unique_ptr<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                             const std::map<std::string, std::string>& env = {},
                                             bool with_stdin = false);
  ~ChildProcess();
  // Writes `line` and a newline to the child's stdin; false if it is gone.
  bool WriteLine(const std::string& line);
  // Closes the child's stdin (EOF).
  void CloseStdin();
  // The next line of stdout (without the newline); nullopt on EOF or timeout.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);
  // Waits for exit (killing it after `timeout`); returns the exit code.
  int Wait(std::chrono::milliseconds timeout);
  void Kill(int sig);
  std::string Stderr();  // what it wrote to stderr so far (after Wait: all of it)

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  int out_ = -1;
  int in_ = -1;
  std::string buffer_;
  std::string err_path_;
  std::unique_ptr<TempDir> temp_;
};

// A running mgteam-server on 127.0.0.1:<ephemeral port> with its own data dir.
class ServerProcess {
 public:
  struct Options {
    std::vector<std::string> args;  // extra flags
    bool open_signup = true;
    std::string data_dir;           // default: a fresh temp dir
    std::string listen = "127.0.0.1:0";
  };
  static std::unique_ptr<ServerProcess> Start(const Options& o);
  static std::unique_ptr<ServerProcess> Start() { return Start(Options{}); }
  ~ServerProcess();

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& data_dir() const { return data_dir_; }
  std::string log() const;  // what the server wrote to stderr
  pid_t pid() const { return pid_; }

  // SIGTERM, then waits; returns the exit code (128+N if killed by signal N).
  int Stop(std::chrono::seconds grace = std::chrono::seconds(20));

 private:
  ServerProcess() = default;
  std::unique_ptr<TempDir> temp_;
  std::string data_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// How many times slower the binaries under test are than a normal build:
// MGTEAM_TEST_SLOWDOWN, which scripts/test sets for sanitizer builds; 1 if
// unset. Scaled() applies it to a bound that only guards against a hang
// ("answered within 2 s", when the bug it catches is "never answered"); lower
// bounds, and bounds that are what a test measures, are not scaled.
double Slowdown();
// The same for memory: MGTEAM_TEST_MEMORY_OVERHEAD (ASan's shadow memory and
// redzones), applied to RSS bounds; 1 if unset.
double MemoryOverhead();
template <class Rep, class Period>
std::chrono::duration<Rep, Period> Scaled(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(d * Slowdown());
}

// Polls `done` (an observable state: a metric, a file, an answer) until it
// holds or `timeout` (scaled) passes; returns its last value. For states no
// event announces; never a fixed sleep.
bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A field of /proc/PID/status in KiB ("VmRSS", "VmHWM"), -1 if absent.
long ProcStatusKb(pid_t pid, const std::string& field);

// Paths of the binaries under test (set by CMake).
std::string ServerBinary();
std::string CliBinary();
std::string AgentBinary();

}  // namespace mgteam::test
