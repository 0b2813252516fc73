// SharedBus between "instances" (two buses in this process) over a real
// redis-server: hints reach the other side, an instance never hears its own
// twice, and a dead or silent Redis is noticed and re-subscribed, with a
// catch-up call to every listener (docs/deploy.md, "What a Redis outage
// costs").
#include "bus/redis_link.h"
#include "bus/shared_bus.h"
#include "peers.h"

#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <csignal>
#include <mutex>

using namespace mgteam::server;
using namespace mgteam::test;

namespace {

class Recorder final : public BusListener {
 public:
  void OnAdvance(const std::string& ws, int64_t head) override { Add("advance " + ws + " " + std::to_string(head)); }
  void OnWorkspaceDeleted(const std::string& ws) override { Add("deleted " + ws); }
  void OnTokenRevoked(const std::string& t) override { Add("revoked " + t); }
  void OnBusReconnected() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++reconnects_;
    cv_.notify_all();
  }

  // Waits until `line` was heard (at least `times` times).
  bool Await(const std::string& line, int times = 1, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, Scaled(timeout), [&] { return Count(line) >= times; });
  }
  bool AwaitReconnects(int n, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, Scaled(timeout), [&] { return reconnects_ >= n; });
  }
  int Heard(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    return Count(line);
  }
  int reconnects() {
    std::lock_guard<std::mutex> lock(mu_);
    return reconnects_;
  }

 private:
  int Count(const std::string& line) const {
    int n = 0;
    for (const auto& l : lines_) n += l == line;
    return n;
  }
  void Add(std::string line) {
    std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(std::move(line));
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  int reconnects_ = 0;
};

SharedBusOptions Quick() {
  SharedBusOptions o;
  o.probe_interval = std::chrono::milliseconds(200);
  o.dead_after = std::chrono::milliseconds(1500);
  o.max_backoff = std::chrono::milliseconds(300);
  return o;
}

struct Pair {
  Recorder heard_a, heard_b;
  std::unique_ptr<SharedBus> a, b;
  explicit Pair(const RedisProcess& redis) {
    // spdlog's registry is built on first use, inside the uninstrumented
    // libspdlog: build it here, before the bus threads log (as the server's
    // main() does), or TSan sees the first use from two threads as a race.
    spdlog::set_level(spdlog::level::info);
    auto addr = ParseRedisUrl(redis.url());
    REQUIRE(addr.ok());
    a = std::make_unique<SharedBus>(std::make_unique<RedisLink>(*addr), Quick());
    b = std::make_unique<SharedBus>(std::make_unique<RedisLink>(*addr), Quick());
    a->Subscribe(&heard_a);
    b->Subscribe(&heard_b);
    a->Start();
    b->Start();
    REQUIRE(heard_a.AwaitReconnects(1));
    REQUIRE(heard_b.AwaitReconnects(1));
  }
};

}  // namespace

TEST_CASE("bus over redis: a hint published on one instance reaches the other, and its own listeners once") {
  auto redis = RedisProcess::Start();
  REQUIRE(redis);
  Pair p(*redis);
  p.a->PublishAdvance("w1", 7);
  p.a->PublishTokenRevoked("tok1");
  p.b->PublishWorkspaceDeleted("w2");
  CHECK(p.heard_b.Await("advance w1 7"));
  CHECK(p.heard_b.Await("revoked tok1"));
  CHECK(p.heard_a.Await("deleted w2"));
  // Its own publications: heard at once, on the publishing thread, and not
  // again when Redis echoes them. A marker published after them by the
  // other side orders the check after the echo would have arrived.
  CHECK(p.heard_a.Heard("advance w1 7") == 1);
  p.b->PublishAdvance("marker", 1);
  REQUIRE(p.heard_a.Await("advance marker 1"));
  CHECK(p.heard_a.Heard("advance w1 7") == 1);
  CHECK(p.heard_a.Heard("revoked tok1") == 1);
}

TEST_CASE("bus over redis: kill -9 of redis-server, restarted: both sides re-subscribe, catch up and hear again") {
  auto redis = RedisProcess::Start();
  REQUIRE(redis);
  Pair p(*redis);
  redis->Kill9();
  // Published while Redis is gone: dropped (the catch-up covers it), and
  // the publisher neither blocks nor crashes.
  for (int i = 1; i <= 50; ++i) p.a->PublishAdvance("w1", i);
  REQUIRE(redis->Restart());
  CHECK(p.heard_a.AwaitReconnects(2));
  CHECK(p.heard_b.AwaitReconnects(2));
  p.a->PublishAdvance("w1", 51);
  CHECK(p.heard_b.Await("advance w1 51"));
}

TEST_CASE("bus over redis: a subscription that goes silent is noticed by its probes and replaced") {
  auto redis = RedisProcess::Start();
  REQUIRE(redis);
  Pair p(*redis);
  // SIGSTOP: every connection stays open and nothing answers, which no
  // socket error reveals. Only the probes can tell.
  redis->Signal(SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // longer than dead_after: the outage itself
  redis->Signal(SIGCONT);
  CHECK(p.heard_b.AwaitReconnects(2));
  p.a->PublishAdvance("after", 3);
  CHECK(p.heard_b.Await("advance after 3"));
}
