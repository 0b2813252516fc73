// ElasticTaskQueue: the HTTP server's worker pool. It never makes a new
// connection wait for a busy worker: when every thread is busy it starts
// another (up to a cap), and threads above the minimum retire after being
// idle for a while. Long-polls and slow clients can therefore never starve
// REST calls; streams do not hold workers at all (see http_server.h).
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mgteam::server {

class ElasticTaskQueue final : public httplib::TaskQueue {
 public:
  ElasticTaskQueue(size_t min_threads, size_t max_threads, std::chrono::seconds idle_retire);
  ~ElasticTaskQueue() override;

  void enqueue(std::function<void()> fn) override;
  // Runs what is queued, then joins every thread.
  void shutdown() override;

  size_t threads() const;

 private:
  void Work();
  void SpawnLocked();
  void ReapLocked();

  const size_t min_threads_;
  const size_t max_threads_;
  const std::chrono::seconds idle_retire_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> finished_;  // retired threads waiting to be joined
  size_t live_ = 0;
  size_t idle_ = 0;
  bool shutdown_ = false;
};

}  // namespace mgteam::server
