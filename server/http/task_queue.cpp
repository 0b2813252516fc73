#include "http/task_queue.h"

#include <algorithm>

namespace mgteam::server {

ElasticTaskQueue::ElasticTaskQueue(size_t min_threads, size_t max_threads, std::chrono::seconds idle_retire)
    : min_threads_(min_threads), max_threads_(std::max(min_threads, max_threads)), idle_retire_(idle_retire) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < min_threads_; ++i) SpawnLocked();
}

ElasticTaskQueue::~ElasticTaskQueue() { shutdown(); }

void ElasticTaskQueue::SpawnLocked() {
  ++live_;
  threads_.emplace_back([this] { Work(); });
}

void ElasticTaskQueue::ReapLocked() {
  for (auto id : finished_) {
    auto it = std::find_if(threads_.begin(), threads_.end(), [&](const std::thread& t) { return t.get_id() == id; });
    if (it != threads_.end()) {
      it->join();  // it has left Work(); at most waits for its last instructions
      threads_.erase(it);
    }
  }
  finished_.clear();
}

void ElasticTaskQueue::enqueue(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return;
  jobs_.push_back(std::move(fn));
  ReapLocked();
  if (idle_ < jobs_.size() && live_ < max_threads_) SpawnLocked();
  cv_.notify_one();
}

void ElasticTaskQueue::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    ++idle_;
    bool timed_out = !cv_.wait_for(lock, idle_retire_, [&] { return shutdown_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) {
      if (shutdown_ || (timed_out && live_ > min_threads_)) break;
      continue;
    }
    auto fn = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    fn();
    lock.lock();
  }
  --live_;
  if (!shutdown_) finished_.push_back(std::this_thread::get_id());
}

void ElasticTaskQueue::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_ && threads_.empty()) return;
    shutdown_ = true;
    threads.swap(threads_);
    finished_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
}

size_t ElasticTaskQueue::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

}  // namespace mgteam::server
