#include "sync/slots.h"

namespace mgteam::server {

std::shared_ptr<void> Slots::Reserve(const std::string& key, Refusal* why) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_key_.find(key);
  size_t mine = it == by_key_.end() ? 0 : it->second;
  *why = per_key_ > 0 && mine >= per_key_ ? Refusal::kPerKey
         : total_ > 0 && held_ >= total_  ? Refusal::kTotal
                                          : Refusal::kNone;
  if (*why != Refusal::kNone) return nullptr;
  ++by_key_[key];
  ++held_;
  // The slot keeps the counter alive: it may outlive its owner's other parts.
  std::shared_ptr<Slots> self = shared_from_this();
  return std::shared_ptr<void>(reinterpret_cast<void*>(1), [self, key](void*) {
    std::lock_guard<std::mutex> release(self->mu_);
    --self->held_;
    auto k = self->by_key_.find(key);
    if (k != self->by_key_.end() && --k->second == 0) self->by_key_.erase(k);
  });
}

size_t Slots::held(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_key_.find(key);
  return it == by_key_.end() ? 0 : it->second;
}

}  // namespace mgteam::server
