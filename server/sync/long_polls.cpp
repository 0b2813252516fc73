#include "sync/long_polls.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vector>

namespace mgteam::server {

LongPolls::LongPolls(LongPollOptions options, Metrics& metrics)
    : options_(options), metrics_(metrics), slots_(std::make_shared<Slots>(options.max_per_user, options.max_total)) {}

LongPolls::~LongPolls() {
  Shutdown();
  if (epoll_ >= 0) ::close(epoll_);
  if (wake_ >= 0) ::close(wake_);
}

Status LongPolls::Start() {
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_ < 0 || wake_ < 0) return Status::Internal("cannot create the long-polls' epoll set");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // entry ids start at 1
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev) != 0) return Status::Internal("cannot watch the wake-up fd");
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

namespace {
void Ring(int fd) {
  uint64_t one = 1;
  ssize_t n = ::write(fd, &one, sizeof one);
  (void)n;  // EAGAIN: a wake-up is pending already
}
}  // namespace

void LongPolls::Shutdown() {
  std::vector<std::unique_ptr<ParkedRequest>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    all = TakeIfLocked([](const Entry&) { return true; });
  }
  if (wake_ >= 0) Ring(wake_);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
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
    // Also missed: a revocation or deletion announced between the poll's
    // access check and now (its resumed pass is refused at once).
    const bool missed = (known != heads_.end() && known->second > wait.seen_head) ||
                        gone_.count(wait.token_id) || gone_.count(wait.workspace_id);
    if (!stopped_ && !missed && Clock::now() < wait.deadline) {
      const uint64_t id = next_id_++;
      // Watched for the client hanging up only (not for data: a request
      // pipelined behind this one waits in the socket until it is answered).
      epoll_event ev{};
      ev.events = EPOLLRDHUP;
      ev.data.u64 = id;
      if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, request->fd(), &ev) != 0) {
        // Resuming would only park it again: close it (the client retries).
        spdlog::warn("cannot watch a parked long-poll's socket; closing it");
        return;
      }
      by_workspace_.emplace(wait.workspace_id, id);
      const bool earliest = by_deadline_.empty() || wait.deadline < by_deadline_.begin()->first;
      by_deadline_.emplace(wait.deadline, id);
      parked_.emplace(id, Entry{std::move(request), std::move(wait)});
      metrics_.long_polls_waiting++;
      if (earliest) Ring(wake_);
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
  ResumeGone(ws, [&](const Entry& e) { return e.wait.workspace_id == ws; });
}

void LongPolls::OnTokenRevoked(const std::string& token_id) {
  ResumeGone(token_id, [&](const Entry& e) { return e.wait.token_id == token_id; });
}

// Resumes the polls that waited on something now gone; their resumed pass is
// refused (401 / 404) by the router.
template <typename Pred>
void LongPolls::ResumeGone(const std::string& id, Pred waited_on_it) {
  std::vector<std::unique_ptr<ParkedRequest>> ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    NoteGoneLocked(id);
    ready = TakeIfLocked(waited_on_it);
  }
  ResumeAll(std::move(ready));
}

void LongPolls::Loop() {
  epoll_event events[64];
  while (true) {
    int timeout_ms = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      if (!by_deadline_.empty()) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(by_deadline_.begin()->first - Clock::now());
        timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
      }
    }
    const int n = ::epoll_wait(epoll_, events, 64, timeout_ms);
    std::vector<std::unique_ptr<ParkedRequest>> due, gone;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == 0) {
          uint64_t count = 0;
          ssize_t r = ::read(wake_, &count, sizeof count);
          (void)r;  // drained; a concurrent ring leaves it readable again
        } else if (auto request = TakeLocked(events[i].data.u64)) {
          gone.push_back(std::move(request));
        }
      }
      const auto now = Clock::now();
      while (!by_deadline_.empty() && by_deadline_.begin()->first <= now)
        due.push_back(TakeLocked(by_deadline_.begin()->second));
    }
    if (!gone.empty()) spdlog::debug("{} waiting long-poll(s) dropped: the client hung up", gone.size());
    gone.clear();  // closes their connections and gives their slots back
    ResumeAll(std::move(due));
  }
}

// Kept two minutes (longer than any wait), then forgotten.
void LongPolls::NoteGoneLocked(const std::string& id) {
  const auto now = Clock::now();
  std::erase_if(gone_, [&](const auto& e) { return now - e.second > std::chrono::minutes(2); });
  gone_[id] = now;
}

std::unique_ptr<ParkedRequest> LongPolls::TakeLocked(uint64_t id) {
  auto it = parked_.find(id);
  if (it == parked_.end()) return nullptr;
  Entry e = std::move(it->second);
  parked_.erase(it);
  // Still open: the request owns the connection until it is resumed or dropped.
  ::epoll_ctl(epoll_, EPOLL_CTL_DEL, e.request->fd(), nullptr);
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
