#include "sync/long_polls.h"

#include <vector>

namespace mgteam::server {

LongPolls::LongPolls(LongPollOptions options, Metrics& metrics)
    : options_(options), metrics_(metrics), slots_(std::make_shared<Slots>(options.max_per_user, options.max_total)) {}

LongPolls::~LongPolls() { Shutdown(); }

Status LongPolls::Start() {
  timer_ = std::thread([this] { Timer(); });
  return Status::Ok();
}

void LongPolls::Shutdown() {
  std::vector<std::unique_ptr<ParkedRequest>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    all = TakeIfLocked([](const Entry&) { return true; });
  }
  timer_cv_.notify_all();
  if (timer_.joinable() && timer_.get_id() != std::this_thread::get_id()) timer_.join();
  ResumeAll(std::move(all));
}

bool LongPolls::stopped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_;
}

Result<std::shared_ptr<void>> LongPolls::Reserve(const std::string& user_id) {
  Slots::Refusal why = Slots::Refusal::kNone;
  auto slot = slots_->Reserve(user_id, &why);
  if (slot) return slot;
  return Status(Code::kTooManyRequests, "too_many_long_polls",
                why == Slots::Refusal::kPerKey
                    ? "you already have " + std::to_string(slots_->per_key_cap()) +
                          " long-polls waiting; wait for one to return (or use the stream)"
                    : "the server has as many long-polls waiting as it allows; retry in a second (or use the stream)")
      .with("retry_after", 1);
}

void LongPolls::Park(std::unique_ptr<ParkedRequest> request, Wait wait) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto known = heads_.find(wait.workspace_id);
    const bool missed = known != heads_.end() && known->second > wait.seen_head;
    if (!stopped_ && !missed && Clock::now() < wait.deadline) {
      const uint64_t id = next_id_++;
      by_workspace_.emplace(wait.workspace_id, id);
      const bool earliest = by_deadline_.empty() || wait.deadline < by_deadline_.begin()->first;
      by_deadline_.emplace(wait.deadline, id);
      parked_.emplace(id, Entry{std::move(request), std::move(wait)});
      metrics_.long_polls_waiting++;
      if (earliest) timer_cv_.notify_one();
      return;
    }
  }
  request->Resume();
}

size_t LongPolls::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return parked_.size();
}

void LongPolls::OnAdvance(const std::string& ws, int64_t head) {
  std::vector<std::unique_ptr<ParkedRequest>> ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& known = heads_[ws];
    known = std::max(known, head);
    auto [from, to] = by_workspace_.equal_range(ws);
    std::vector<uint64_t> ids;
    for (auto it = from; it != to; ++it)
      if (parked_.at(it->second).wait.seen_head < head) ids.push_back(it->second);
    for (uint64_t id : ids) ready.push_back(TakeLocked(id));
  }
  ResumeAll(std::move(ready));
}

void LongPolls::OnWorkspaceDeleted(const std::string& ws) {
  std::vector<std::unique_ptr<ParkedRequest>> ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready = TakeIfLocked([&](const Entry& e) { return e.wait.workspace_id == ws; });
  }
  ResumeAll(std::move(ready));
}

void LongPolls::OnTokenRevoked(const std::string& token_id) {
  std::vector<std::unique_ptr<ParkedRequest>> ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready = TakeIfLocked([&](const Entry& e) { return e.wait.token_id == token_id; });
  }
  ResumeAll(std::move(ready));
}

void LongPolls::Timer() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_) {
    if (by_deadline_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    const Clock::time_point next = by_deadline_.begin()->first;
    if (Clock::now() < next) {
      timer_cv_.wait_until(lock, next);
      continue;
    }
    std::vector<std::unique_ptr<ParkedRequest>> due;
    const auto now = Clock::now();
    while (!by_deadline_.empty() && by_deadline_.begin()->first <= now)
      due.push_back(TakeLocked(by_deadline_.begin()->second));
    lock.unlock();
    ResumeAll(std::move(due));
    lock.lock();
  }
}

std::unique_ptr<ParkedRequest> LongPolls::TakeLocked(uint64_t id) {
  auto it = parked_.find(id);
  if (it == parked_.end()) return nullptr;
  Entry e = std::move(it->second);
  parked_.erase(it);
  metrics_.long_polls_waiting--;
  by_deadline_.erase({e.wait.deadline, id});
  auto [from, to] = by_workspace_.equal_range(e.wait.workspace_id);
  for (auto w = from; w != to; ++w)
    if (w->second == id) {
      by_workspace_.erase(w);
      break;
    }
  return std::move(e.request);
}

template <typename Pred>
std::vector<std::unique_ptr<ParkedRequest>> LongPolls::TakeIfLocked(Pred pred) {
  std::vector<uint64_t> ids;
  for (const auto& [id, e] : parked_)
    if (pred(e)) ids.push_back(id);
  std::vector<std::unique_ptr<ParkedRequest>> out;
  for (uint64_t id : ids) out.push_back(TakeLocked(id));
  return out;
}

// Outside mu_: resuming takes the workers' queue lock.
void LongPolls::ResumeAll(std::vector<std::unique_ptr<ParkedRequest>> requests) {
  for (auto& r : requests)
    if (r) r->Resume();
}

}  // namespace mgteam::server
