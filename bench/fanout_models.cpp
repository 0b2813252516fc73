// fanout_models: measures the two ways to fan one event out to N open
// connections on this machine, over real loopback TCP, with the receiving
// side drained by one epoll thread on the other core (like a load generator):
//
//   thread  - one thread per connection, each parked on its own condition
//             variable and woken for every event to write its frame (what a
//             cpp-httplib content provider per stream amounts to);
//   epoll   - one thread writes the frame to every connection with
//             non-blocking sends (what mgteam's StreamHub does).
//
// Prints a JSON line per model: deliveries/s and delivery latency.
//   fanout_models --connections 9000 --events 50
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <iostream>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using Clock = std::chrono::steady_clock;

namespace {

void Pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

// N connected loopback TCP pairs: senders[i] -> receivers[i].
void MakePairs(int n, std::vector<int>& senders, std::vector<int>& receivers) {
  int lst = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(lst, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(lst, reinterpret_cast<sockaddr*>(&a), &len);
  ::listen(lst, SOMAXCONN);
  for (int i = 0; i < n; ++i) {
    int c = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
    int s = ::accept(lst, nullptr, nullptr);
    int one = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    senders.push_back(s);
    receivers.push_back(c);
  }
  ::close(lst);
}

struct Receiver {
  std::atomic<int64_t> bytes{0};
  std::vector<float> latency_ms;
  std::atomic<bool> stop{false};
  Clock::time_point event_at;  // when the current event was published
  std::mutex mu;

  void Run(const std::vector<int>& fds, int cpu) {
    Pin(cpu);
    int ep = ::epoll_create1(0);
    for (int fd : fds) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    epoll_event evs[1024];
    char buf[4096];
    while (!stop) {
      int n = ::epoll_wait(ep, evs, 1024, 20);
      auto now = Clock::now();
      for (int i = 0; i < n; ++i) {
        ssize_t r = ::recv(evs[i].data.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0) {
          bytes += r;
          std::lock_guard<std::mutex> lock(mu);
          latency_ms.push_back(std::chrono::duration<float, std::milli>(now - event_at).count());
        }
      }
    }
    ::close(ep);
  }
};

nlohmann::json Summary(const char* model, int conns, int events, double secs, Receiver& r) {
  auto& v = r.latency_ms;
  std::sort(v.begin(), v.end());
  auto at = [&](double p) { return v.empty() ? 0.f : v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))]; };
  return {{"model", model},
          {"connections", conns},
          {"events", events},
          {"deliveries", v.size()},
          {"deliveries_per_second", static_cast<double>(v.size()) / secs},
          {"latency_ms", {{"p50", at(0.5)}, {"p99", at(0.99)}, {"max", v.empty() ? 0.f : v.back()}}}};
}

}  // namespace

int main(int argc, char** argv) {
  int conns = 9000, events = 50, send_cpu = 0, recv_cpu = 1;
  std::string only;
  CLI::App app{"fan-out model micro-benchmark"};
  app.add_option("--connections", conns);
  app.add_option("--events", events);
  app.add_option("--model", only, "thread or epoll (default both)");
  CLI11_PARSE(app, argc, argv);
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  const std::string frame = "id: 1\ndata: " + std::string(400, 'x') + "\n\n";

  for (const std::string model : {"thread", "epoll"}) {
    if (!only.empty() && only != model) continue;
    std::vector<int> senders, receivers;
    MakePairs(conns, senders, receivers);
    Receiver rx;
    std::thread reader([&] { rx.Run(receivers, recv_cpu); });
    Pin(send_cpu);
    double secs = 0;
    if (model == "thread") {
      struct Slot {
        std::mutex mu;
        std::condition_variable cv;
        int64_t generation = 0;
      };
      std::vector<Slot> slots(static_cast<size_t>(conns));
      std::atomic<int64_t> done{0};
      std::atomic<bool> quit{false};
      std::vector<std::thread> threads;
      for (int i = 0; i < conns; ++i)
        threads.emplace_back([&, i] {
          Pin(send_cpu);
          Slot& s = slots[static_cast<size_t>(i)];
          int64_t seen = 0;
          std::unique_lock<std::mutex> lock(s.mu);
          while (true) {
            s.cv.wait(lock, [&] { return s.generation != seen || quit; });
            if (quit) return;
            seen = s.generation;
            lock.unlock();
            ::send(senders[static_cast<size_t>(i)], frame.data(), frame.size(), MSG_NOSIGNAL);
            ++done;
            lock.lock();
          }
        });
      auto t0 = Clock::now();
      for (int e = 1; e <= events; ++e) {
        {
          std::lock_guard<std::mutex> lock(rx.mu);
          rx.event_at = Clock::now();
        }
        for (auto& s : slots) {
          std::lock_guard<std::mutex> lock(s.mu);
          s.generation = e;
          s.cv.notify_one();
        }
        while (done < static_cast<int64_t>(e) * conns) std::this_thread::yield();
      }
      secs = std::chrono::duration<double>(Clock::now() - t0).count();
      quit = true;
      for (auto& s : slots) {
        std::lock_guard<std::mutex> lock(s.mu);
        s.cv.notify_one();
      }
      for (auto& t : threads) t.join();
    } else {
      auto t0 = Clock::now();
      for (int e = 1; e <= events; ++e) {
        {
          std::lock_guard<std::mutex> lock(rx.mu);
          rx.event_at = Clock::now();
        }
        for (int fd : senders) ::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      secs = std::chrono::duration<double>(Clock::now() - t0).count();
    }
    // Let the reader drain what is in flight.
    auto until = Clock::now() + std::chrono::seconds(2);
    while (rx.bytes < static_cast<int64_t>(conns) * events * static_cast<int64_t>(frame.size()) &&
           Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    rx.stop = true;
    reader.join();
    std::cout << Summary(model.c_str(), conns, events, secs, rx).dump() << std::endl;
    for (int fd : senders) ::close(fd);
    for (int fd : receivers) ::close(fd);
  }
  return 0;
}
