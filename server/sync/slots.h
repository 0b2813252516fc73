// Slots: counts things a client holds for a while (live streams, waiting
// long-polls) per key (the account) and in all, against caps. A reserved
// slot is a shared_ptr whose last owner gives it back, so every path that
// ends the thing — normal close, error, shutdown — releases it exactly once.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace mgteam::server {

class Slots : public std::enable_shared_from_this<Slots> {
 public:
  enum class Refusal { kNone, kPerKey, kTotal };

  // Caps of 0 mean none.
  Slots(size_t per_key, size_t total) : per_key_(per_key), total_(total) {}

  // A slot for `key`, or null with `why` set.
  std::shared_ptr<void> Reserve(const std::string& key, Refusal* why);
  size_t held(const std::string& key) const;
  size_t per_key_cap() const { return per_key_; }
  size_t total_cap() const { return total_; }

 private:
  const size_t per_key_, total_;
  mutable std::mutex mu_;
  std::map<std::string, size_t> by_key_;
  size_t held_ = 0;
};

}  // namespace mgteam::server
