// sse_load: the fan-out benchmark (not a test). It starts mgteam-server
// pinned to one core, pins itself to the other, opens N SSE streams on one
// epoll loop, writes memories through the real REST path at a fixed rate,
// parses every frame, and prints a JSON summary: deliveries/s, write->receive
// latency percentiles, lost/duplicated/out-of-order frames, REST read latency
// while the streams are open, and the server's RSS and CPU.
//
//   sse_load --server build/server/mgteam-server --scenario s1
//   sse_load --scenario s2 --streams 10000
//   sse_load --scenario s3 --backlog 100000
#include "mgteam/sse.h"

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void Pin(pid_t pid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(pid, sizeof set, &set);
}

void RaiseFileLimit() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
}

// ---- the server under test -------------------------------------------------

struct Server {
  pid_t pid = -1;
  int port = 0;
  std::string dir;

  void Start(const std::string& binary, int cpu, const std::vector<std::string>& extra = {}) {
    char tmpl[] = "/tmp/mgteam-bench-XXXXXX";
    dir = ::mkdtemp(tmpl);
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    std::vector<std::string> args = {binary,     "--listen",   "127.0.0.1:0", "--data-dir", dir + "/data",
                                     "--ready-fd", "3",        "--open-signup", "--log-level", "warn",
                                     // Thousands of clients from one address by design.
                                     "--max-connections-per-address", "0", "--max-streams-per-user", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, ready[1], 3);  // clears CLOEXEC on the copy
    if (posix_spawn(&pid, binary.c_str(), &fa, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start " + binary);
    posix_spawn_file_actions_destroy(&fa);
    ::close(ready[1]);
    Pin(pid, cpu);
    char buf[32] = {0};
    ssize_t n = ::read(ready[0], buf, sizeof buf - 1);
    ::close(ready[0]);
    port = n > 0 ? std::atoi(buf) : 0;
    if (port <= 0) throw std::runtime_error("server did not start");
  }

  // Resident set size in bytes and CPU seconds used so far.
  std::pair<long, double> Usage() const {
    long rss = 0;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("VmRSS:", 0) == 0) rss = std::atol(line.c_str() + 6) * 1024;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(stat)), {});
    auto close = s.rfind(')');
    std::istringstream rest(s.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i)
      if (i == 14 || i == 15) ticks += std::stod(field);
    return {rss, ticks / static_cast<double>(sysconf(_SC_CLK_TCK))};
  }

  void Stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    int st;
    ::waitpid(pid, &st, 0);
    pid = -1;
    std::string cmd = "rm -rf '" + dir + "'";
    if (std::system(cmd.c_str()) != 0) std::cerr << "could not remove " << dir << "\n";
  }
};

// ---- the streams ------------------------------------------------------------

// Only the fleet's thread touches these.
struct Latencies {
  std::vector<float> ms;
};

// Send times of writes, by the index in their title ("bench-<n>").
struct SendTimes {
  explicit SendTimes(size_t n) : at(n) {}
  std::vector<std::atomic<int64_t>> at;  // steady clock ns; 0 = not sent
};

struct Conn {
  int fd = -1;
  bool connected_frame = false;
  bool head_done = false;
  std::string head;
  std::unique_ptr<mgteam::SseParser> parser;
  int64_t last_seq = 0;
  int64_t received = 0;
  int64_t duplicated = 0;   // seq at or below one already seen
  int64_t gaps = 0;         // seqs skipped
  bool closed = false;
};

class StreamFleet {
 public:
  // Streams are spread over `ports` (several instances) round-robin.
  StreamFleet(std::vector<int> ports, std::string token, std::string ws, SendTimes* times)
      : ports_(std::move(ports)), token_(std::move(token)), ws_(std::move(ws)), times_(times) {
    ep_ = ::epoll_create1(0);
  }

  // Opens `n` streams (from `since`, or live if < 0); returns when all have
  // their `connected` frame.
  void Open(int n, int64_t since) {
    for (int i = 0; i < n; ++i) {
      auto c = std::make_unique<Conn>();
      c->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      int one = 1;
      ::setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(ports_[static_cast<size_t>(i) % ports_.size()]));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ::connect(c->fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
      Conn* raw = c.get();
      raw->parser = std::make_unique<mgteam::SseParser>([this, raw](const mgteam::SseEvent& e) { OnEvent(*raw, e); });
      epoll_event ev{};
      ev.events = EPOLLOUT | EPOLLIN;
      ev.data.ptr = raw;
      ::epoll_ctl(ep_, EPOLL_CTL_ADD, c->fd, &ev);
      conns_.push_back(std::move(c));
    }
    since_ = since;
    while (connected_ < n) {
      if (!Poll(2000) && connected_ < n) {
        std::cerr << "only " << connected_ << " of " << n << " streams connected so far\n";
      }
    }
  }

  // Runs the loop until `stop` says so.
  void RunUntil(const std::function<bool()>& stop) {
    while (!stop()) Poll(20);
  }

  bool Poll(int timeout_ms) {
    epoll_event evs[512];
    int n = ::epoll_wait(ep_, evs, 512, timeout_ms);
    for (int i = 0; i < n; ++i) {
      Conn& c = *static_cast<Conn*>(evs[i].data.ptr);
      if (evs[i].events & EPOLLOUT) {
        std::string req = "GET /api/v1/sync/stream?workspace_id=" + ws_ +
                          (since_ >= 0 ? "&since=" + std::to_string(since_) : "") +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token_ + "\r\n\r\n";
        ::send(c.fd, req.data(), req.size(), MSG_NOSIGNAL);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = &c;
        ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
      }
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) Read(c);
    }
    return n > 0;
  }

  std::vector<std::unique_ptr<Conn>>& conns() { return conns_; }
  int64_t deliveries() const { return deliveries_; }
  Latencies& latencies() { return latencies_; }
  int64_t last_seq_seen() const { return max_seq_; }

 private:
  void Read(Conn& c) {
    char buf[65536];
    while (true) {
      ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        std::string_view chunk(buf, static_cast<size_t>(n));
        if (!c.head_done) {
          c.head.append(chunk);
          auto end = c.head.find("\r\n\r\n");
          if (end == std::string::npos) continue;
          c.head_done = true;
          if (c.head.compare(9, 3, "200") != 0) std::cerr << "stream refused: " << c.head.substr(0, 40) << "\n";
          std::string rest = c.head.substr(end + 4);
          c.parser->Feed(rest);
          continue;
        }
        c.parser->Feed(chunk);
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        c.closed = true;
        ::epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      }
      return;
    }
  }

  void OnEvent(Conn& c, const mgteam::SseEvent& e) {
    if (!e.has_id) {
      if (!c.connected_frame && e.data.find("\"connected\"") != std::string::npos) {
        c.connected_frame = true;
        ++connected_;
      }
      return;
    }
    int64_t seq = std::atoll(e.last_event_id.c_str());
    if (seq <= c.last_seq) ++c.duplicated;
    else if (c.last_seq > 0 && seq != c.last_seq + 1) c.gaps += seq - c.last_seq - 1;
    c.last_seq = std::max(c.last_seq, seq);
    max_seq_ = std::max(max_seq_, seq);
    ++c.received;
    ++deliveries_;
    if (!times_) return;
    auto at = e.data.find("\"title\":\"bench-");
    if (at == std::string::npos) return;
    size_t idx = static_cast<size_t>(std::atoll(e.data.c_str() + at + 15));
    if (idx >= times_->at.size()) return;
    int64_t sent = times_->at[idx].load(std::memory_order_acquire);
    if (sent == 0) return;
    float ms = static_cast<float>(
        (std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count() - sent) / 1e6);
    latencies_.ms.push_back(ms);
  }

  std::vector<int> ports_;
  std::string token_, ws_;
  SendTimes* times_;
  int ep_ = -1;
  int64_t since_ = -1;
  int connected_ = 0;
  int64_t deliveries_ = 0;
  int64_t max_seq_ = 0;
  std::vector<std::unique_ptr<Conn>> conns_;
  Latencies latencies_;
};

// ---- writes and reads over REST -------------------------------------------------

struct Setup {
  std::string token, ws;
};

Setup CreateTeam(int port) {
  httplib::Client http("127.0.0.1", port);
  auto r = http.Post("/api/v1/auth/signup", R"({"email":"bench@example.com","password":"bench-password"})",
                     "application/json");
  if (!r || r->status != 201) throw std::runtime_error("signup failed");
  std::string token = json::parse(r->body)["token"];
  httplib::Headers h = {{"Authorization", "Bearer " + token}};
  auto t = http.Post("/api/v1/teams", h, R"({"name":"Bench"})", "application/json");
  return Setup{token, json::parse(t->body)["id"]};
}

// Paced writers: `rate` writes/s in total for `seconds`, spread over
// `threads` keep-alive connections. Returns how many were accepted (201).
int64_t Write(int port, const Setup& s, int rate, double seconds, int threads, SendTimes* times, int64_t first_index,
              std::vector<float>* write_ms) {
  std::atomic<int64_t> ok{0};
  std::mutex mu;
  int64_t total = static_cast<int64_t>(rate * seconds);
  std::vector<std::thread> ts;
  auto start = Clock::now() + std::chrono::milliseconds(50);
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      httplib::Client http("127.0.0.1", port);
      http.set_keep_alive(true);
      http.set_tcp_nodelay(true);
      httplib::Headers h = {{"Authorization", "Bearer " + s.token}};
      std::vector<float> local;
      for (int64_t i = t; i < total; i += threads) {
        auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(i) / rate));
        std::this_thread::sleep_until(due);  // pacing a load, not synchronising a test
        int64_t idx = first_index + i;
        auto now = Clock::now();
        if (times) times->at[static_cast<size_t>(idx)].store(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
        auto r = http.Post(("/api/v1/workspaces/" + s.ws + "/memories").c_str(), h,
                           "{\"title\":\"bench-" + std::to_string(idx) + "\",\"type\":\"general\"}",
                           "application/json");
        if (r && r->status == 201) ++ok;
        local.push_back(static_cast<float>(Seconds(Clock::now() - now) * 1000));
      }
      std::lock_guard<std::mutex> lock(mu);
      if (write_ms) write_ms->insert(write_ms->end(), local.begin(), local.end());
    });
  for (auto& t : ts) t.join();
  return ok;
}

json Percentiles(std::vector<float> v) {
  if (v.empty()) return json{{"count", 0}};
  std::sort(v.begin(), v.end());
  auto at = [&](double p) { return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))]; };
  return json{{"count", v.size()}, {"p50", at(0.50)}, {"p90", at(0.90)}, {"p99", at(0.99)},
              {"p999", at(0.999)}, {"max", v.back()}};
}

json Integrity(StreamFleet& fleet, int64_t expected_per_stream) {
  int64_t lost = 0, dup = 0, gaps = 0, closed = 0;
  for (auto& c : fleet.conns()) {
    lost += std::max<int64_t>(0, expected_per_stream - c->received);
    dup += c->duplicated;
    gaps += c->gaps;
    closed += c->closed;
  }
  return json{{"lost", lost}, {"duplicated_or_out_of_order", dup}, {"gaps", gaps}, {"streams_closed", closed}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string binary = "build/server/mgteam-server";
  std::string scenario = "s1";
  int streams = 100, rate = 1000, writers = 4, server_cpu = 0, load_cpu = 1;
  double seconds = 10;
  int64_t backlog = 100000;
  int instances = 1;
  std::string db, redis;
  CLI::App app{"mgteam fan-out benchmark"};
  app.add_option("--server", binary, "mgteam-server binary");
  app.add_option("--scenario", scenario, "s1 (seed load), s2 (capacity), s3 (catch-up)")
      ->check(CLI::IsMember({"s1", "s2", "s3"}));
  app.add_option("--streams", streams, "Concurrent streams");
  app.add_option("--rate", rate, "Writes per second");
  app.add_option("--seconds", seconds, "How long to write");
  app.add_option("--writers", writers, "Writer connections");
  app.add_option("--backlog", backlog, "s3: events to catch up on");
  app.add_option("--instances", instances,
                 "Servers on one --db: streams spread over all but the last, writes through the last")
      ->check(CLI::Range(1, 16));
  app.add_option("--db", db, "Database URL for every instance (postgres://...; default: each its own SQLite)");
  app.add_option("--redis", redis, "Redis URL for the instances' bus (default: LISTEN/NOTIFY)");
  app.add_option("--server-cpu", server_cpu);
  app.add_option("--load-cpu", load_cpu);
  CLI11_PARSE(app, argc, argv);
  if (scenario == "s2" && !app.count("--rate")) rate = 10;

  std::signal(SIGPIPE, SIG_IGN);
  RaiseFileLimit();
  Pin(0, load_cpu);
  if (instances > 1 && db.empty()) {
    std::cerr << "--instances needs a shared --db postgres://...\n";
    return 2;
  }
  std::vector<std::string> extra;
  if (!db.empty()) extra.insert(extra.end(), {"--db", db});
  if (!redis.empty()) extra.insert(extra.end(), {"--redis", redis});
  std::vector<Server> servers(static_cast<size_t>(instances));
  for (auto& s : servers) s.Start(binary, server_cpu, extra);
  Server& server = servers.back();  // takes the writes (and, alone, the streams too)
  std::vector<int> stream_ports;
  for (size_t i = 0; i + (instances > 1 ? 1 : 0) < servers.size(); ++i) stream_ports.push_back(servers[i].port);
  json out = {{"scenario", scenario}, {"instances", instances},
              {"store", db.empty() ? "sqlite" : "postgres"},
              {"bus", instances == 1 ? "local" : redis.empty() ? "postgres" : "redis"}};
  try {
    Setup setup = CreateTeam(server.port);
    if (scenario == "s3") {
      // Fill the log first, as fast as the REST path takes it.
      auto filled = Clock::now();
      int64_t ok = Write(server.port, setup, 1000000, static_cast<double>(backlog) / 1000000.0, 8, nullptr, 0, nullptr);
      out["backlog_written"] = ok;
      out["backlog_write_seconds"] = Seconds(Clock::now() - filled);
      StreamFleet fleet(stream_ports, setup.token, setup.ws, nullptr);
      auto t0 = Clock::now();
      fleet.Open(1, 0);
      int64_t target = ok + 2;  // + workspace_created, member_joined
      fleet.RunUntil([&] { return fleet.last_seq_seen() >= target; });
      double secs = Seconds(Clock::now() - t0);
      out["events_replayed"] = fleet.deliveries();
      out["catch_up_seconds"] = secs;
      out["events_per_second"] = static_cast<double>(fleet.deliveries()) / secs;
      out["integrity"] = Integrity(fleet, target);
    } else {
      int64_t total = static_cast<int64_t>(rate * seconds);
      SendTimes times(static_cast<size_t>(total));
      StreamFleet fleet(stream_ports, setup.token, setup.ws, &times);
      auto opening = Clock::now();
      fleet.Open(streams, -1);
      out["streams"] = streams;
      out["open_seconds"] = Seconds(Clock::now() - opening);
      auto usage = [&servers] {
        std::pair<long, double> sum{0, 0};
        for (const auto& s : servers) {
          auto [rss, cpu] = s.Usage();
          sum.first += rss;
          sum.second += cpu;
        }
        return sum;
      };
      auto [rss0, cpu0] = usage();
      rusage ru0{};
      getrusage(RUSAGE_SELF, &ru0);
      out["server_rss_mb_idle_streams"] = static_cast<double>(rss0) / 1048576.0;

      std::atomic<bool> writing{true};
      std::vector<float> write_ms, read_ms;
      int64_t accepted = 0;
      auto t0 = Clock::now();
      double write_seconds = 0;  // until the last write was answered: past `seconds` when the server lagged
      std::thread writer([&] {
        accepted = Write(server.port, setup, rate, seconds, writers, &times, 0, &write_ms);
        write_seconds = Seconds(Clock::now() - t0);
        writing = false;
      });
      // S2 also measures a plain REST read while the streams are open.
      std::thread reader([&] {
        if (scenario != "s2") return;
        httplib::Client http("127.0.0.1", server.port);
        http.set_keep_alive(true);
        httplib::Headers h = {{"Authorization", "Bearer " + setup.token}};
        while (writing) {
          auto t = Clock::now();
          auto r = http.Get(("/api/v1/workspaces/" + setup.ws + "/memories?limit=20").c_str(), h);
          if (r && r->status == 200) read_ms.push_back(static_cast<float>(Seconds(Clock::now() - t) * 1000));
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      });
      int64_t expected_last = 2 + total;
      auto drained_by = Clock::time_point::max();
      fleet.RunUntil([&] {
        if (writing) return false;
        if (drained_by == Clock::time_point::max()) drained_by = Clock::now() + std::chrono::seconds(30);
        bool all = true;
        for (auto& c : fleet.conns())
          if (c->last_seq < expected_last && !c->closed) all = false;
        return all || Clock::now() > drained_by;
      });
      writer.join();
      reader.join();
      double secs = Seconds(Clock::now() - t0);
      auto [rss1, cpu1] = usage();
      rusage ru1{};
      getrusage(RUSAGE_SELF, &ru1);
      auto tv = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
      double gen_cpu = tv(ru1.ru_utime) + tv(ru1.ru_stime) - tv(ru0.ru_utime) - tv(ru0.ru_stime);
      out["load_generator_cpu_percent_of_one_core"] = 100.0 * gen_cpu / secs;
      out["writes_attempted"] = total;
      out["writes_accepted"] = accepted;
      // Accepted over the time they took: below --rate when the server could
      // not keep up.
      out["writes_per_second"] = static_cast<double>(accepted) / std::max(seconds, write_seconds);
      out["write_seconds"] = write_seconds;
      out["deliveries"] = fleet.deliveries();
      out["deliveries_expected"] = total * streams;
      out["deliveries_per_second"] = static_cast<double>(fleet.deliveries()) / secs;
      out["write_to_receive_ms"] = Percentiles(fleet.latencies().ms);
      out["rest_write_ms"] = Percentiles(write_ms);
      if (scenario == "s2") out["rest_read_ms_during"] = Percentiles(read_ms);
      out["integrity"] = Integrity(fleet, total);
      out["server_rss_mb_end"] = static_cast<double>(rss1) / 1048576.0;
      out["server_cpu_seconds"] = cpu1 - cpu0;
      out["server_cpu_percent_of_one_core"] = 100.0 * (cpu1 - cpu0) / secs;
    }
  } catch (const std::exception& e) {
    out["error"] = e.what();
  }
  for (auto& s : servers) s.Stop();
  std::cout << out.dump(2) << std::endl;
  return out.contains("error") ? 1 : 0;
}
