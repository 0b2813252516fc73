#include "bus/shared_bus.h"

#include "mgteam/ids.h"

#include <spdlog/spdlog.h>

namespace mgteam::server {

namespace {
constexpr size_t kMaxQueued = 10000;  // others_; past it the oldest go (hints)
constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
}  // namespace

SharedBus::SharedBus(std::unique_ptr<BusLink> link, SharedBusOptions options)
    : link_(std::move(link)), options_(options), instance_(RandomHex(8)) {}

SharedBus::~SharedBus() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (sender_.joinable()) sender_.join();
  if (receiver_.joinable()) receiver_.join();
}

void SharedBus::Start() {
  sender_ = std::thread([this] { SendLoop(); });
  receiver_ = std::thread([this] { ReceiveLoop(); });
}

bool SharedBus::Stopping() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopping_;
}

std::vector<BusListener*> SharedBus::Listeners() {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  return listeners_;
}

void SharedBus::Subscribe(BusListener* listener) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  listeners_.push_back(listener);
}

void SharedBus::Deliver(const BusMessage& m) {
  for (auto* l : Listeners()) {
    switch (m.kind) {
      case BusMessage::Kind::kAdvance: l->OnAdvance(m.id, m.seq); break;
      case BusMessage::Kind::kWorkspaceDeleted: l->OnWorkspaceDeleted(m.id); break;
      case BusMessage::Kind::kTokenRevoked: l->OnTokenRevoked(m.id); break;
      case BusMessage::Kind::kLogin: l->OnLoginElsewhere(m.id, m.address, m.success); break;
      case BusMessage::Kind::kPresence:
        l->OnPresenceElsewhere(m.origin, m.id, m.address, static_cast<int>(m.seq), m.at);
        break;
    }
  }
}

void SharedBus::PublishAdvance(const std::string& workspace_id, int64_t head_seq) {
  Send(BusMessage{BusMessage::Kind::kAdvance, instance_, workspace_id, head_seq, {}, false, {}});
}
void SharedBus::PublishWorkspaceDeleted(const std::string& workspace_id) {
  Send(BusMessage{BusMessage::Kind::kWorkspaceDeleted, instance_, workspace_id, 0, {}, false, {}});
}
void SharedBus::PublishTokenRevoked(const std::string& token_id) {
  Send(BusMessage{BusMessage::Kind::kTokenRevoked, instance_, token_id, 0, {}, false, {}});
}

void SharedBus::PublishLogin(const std::string& account, const std::string& address, bool success) {
  BusMessage m{BusMessage::Kind::kLogin, instance_, account, 0, address, success, {}};
  Send(std::move(m), /*here=*/false);  // this instance's throttle counted it already
}

void SharedBus::PublishPresence(const std::string& ws, const std::string& user, int streams,
                                const std::string& last_seen) {
  BusMessage m{BusMessage::Kind::kPresence, instance_, ws, streams, user, false, last_seen};
  Send(std::move(m), /*here=*/false);  // this instance's Presence counted it already
}

void SharedBus::Send(BusMessage m, bool here) {
  if (here) Deliver(m);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (m.kind == BusMessage::Kind::kAdvance) {
      int64_t& head = advances_[m.id];
      head = std::max(head, m.seq);
    } else {
      if (others_.size() >= kMaxQueued) others_.pop_front();
      others_.push_back(std::move(m));
    }
  }
  cv_.notify_all();
}

void SharedBus::SendLoop() {
  auto backoff = kFirstBackoff;
  bool down = false;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !advances_.empty() || !others_.empty(); });
    if (stopping_) return;
    std::map<std::string, int64_t> advances;
    advances.swap(advances_);
    std::deque<BusMessage> others;
    others.swap(others_);
    lock.unlock();
    Status failed;
    while (!others.empty() && failed.ok()) {
      failed = link_->Publish(EncodeBusMessage(others.front()));
      if (failed.ok()) others.pop_front();
    }
    for (auto it = advances.begin(); it != advances.end() && failed.ok();) {
      failed = link_->Publish(
          EncodeBusMessage(BusMessage{BusMessage::Kind::kAdvance, instance_, it->first, it->second, {}, false, {}}));
      if (failed.ok()) it = advances.erase(it);
    }
    lock.lock();
    // What could not be sent waits for the link, ahead of anything newer
    // (bounded; advances fold into the newest head): a revocation or a
    // deletion has no other way to the other instances.
    for (auto it = others.rbegin(); it != others.rend(); ++it) {
      if (others_.size() >= kMaxQueued) break;
      others_.push_front(std::move(*it));
    }
    for (const auto& [ws, head] : advances) {
      int64_t& queued = advances_[ws];
      queued = std::max(queued, head);
    }
    if (failed.ok()) {
      if (down) spdlog::info("bus {}: publishing again", link_->Describe());
      down = false;
      backoff = kFirstBackoff;
      continue;
    }
    // Wait before trying the link again.
    if (!down) spdlog::warn("bus {}: cannot publish ({}); hints wait until it is back",
                            link_->Describe(), failed.message());
    down = true;
    cv_.wait_for(lock, backoff, [this] { return stopping_; });
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

void SharedBus::ReceiveLoop() {
  using Clock = std::chrono::steady_clock;
  auto backoff = kFirstBackoff;
  bool subscribed = false;
  bool ever = false;
  Clock::time_point last_heard, last_probe;
  std::vector<std::string> payloads;
  while (!Stopping()) {
    if (!subscribed) {
      Status s = link_->Subscribe();
      if (!s.ok()) {
        if (backoff == kFirstBackoff)
          spdlog::warn("bus {}: cannot subscribe ({}); retrying", link_->Describe(), s.message());
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, backoff, [this] { return stopping_; });
        backoff = std::min(backoff * 2, options_.max_backoff);
        continue;
      }
      if (ever) spdlog::info("bus {}: subscribed again; catching up", link_->Describe());
      subscribed = ever = true;
      backoff = kFirstBackoff;
      last_heard = last_probe = Clock::now();
      // Whatever was published while we were not listening is lost: every
      // listener catches up from the database.
      for (auto* l : Listeners()) l->OnBusReconnected();
    }
    payloads.clear();
    bool heard = false;
    Status s = link_->Receive(std::chrono::milliseconds(250), payloads, heard);
    const auto now = Clock::now();
    if (heard) last_heard = now;
    for (const auto& p : payloads) {
      auto m = DecodeBusMessage(p);
      if (m && m->origin != instance_) Deliver(*m);
    }
    if (s.ok() && now - last_heard > options_.dead_after)
      s = Status::Unavailable("bus_silent", "no answer to probes");
    if (s.ok() && now - last_probe >= options_.probe_interval) {
      last_probe = now;
      s = link_->Probe();
    }
    if (!s.ok()) {
      spdlog::warn("bus {}: subscription lost ({}); reconnecting", link_->Describe(), s.message());
      subscribed = false;
    }
  }
}

}  // namespace mgteam::server
