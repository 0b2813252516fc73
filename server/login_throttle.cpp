#include "login_throttle.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

namespace mgteam::server {
namespace {

using std::chrono::milliseconds;
using TimePoint = std::chrono::steady_clock::time_point;

// Accounts and addresses share one table (and so one memory bound); the
// prefixes keep an address from ever naming an account.
std::string AccountKey(const std::string& account) { return "account:" + account; }
std::string AddressKey(const std::string& address) { return "address:" + address; }

}  // namespace

Status LoginThrottlePolicy::Check() const {
  if (account_free_failures < 1 || address_free_failures < 1)
    return Status::Invalid("invalid_config", "the login attempt allowances must be at least 1");
  if (base_delay <= milliseconds(0) || max_delay < base_delay)
    return Status::Invalid("invalid_config", "the login delay must be positive and at most the maximum delay");
  if (forget_after <= max_delay)
    return Status::Invalid("invalid_config", "failed logins must be remembered longer than the longest delay");
  if (max_keys < 16) return Status::Invalid("invalid_config", "the login throttle needs room for 16 keys");
  return Status::Ok();
}

milliseconds ThrottleDelay(int failures, int free_failures, milliseconds base, milliseconds max) {
  if (failures < free_failures) return milliseconds(0);
  const int doublings = failures - free_failures;
  // 2^40 ms is 35 years: any cap is reached long before, and the shift stays defined.
  if (doublings >= 40) return max;
  const auto factor = int64_t{1} << doublings;
  if (base.count() > max.count() / factor) return max;
  return std::min(max, base * factor);
}

std::string ClientAddressKey(std::string_view remote_addr) {
  std::string text(remote_addr);
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return text;  // IPv4 (or unparseable): as is
  static constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char buf[INET6_ADDRSTRLEN] = {0};
  if (std::memcmp(v6.s6_addr, kMappedPrefix, sizeof kMappedPrefix) == 0) {
    inet_ntop(AF_INET, v6.s6_addr + 12, buf, sizeof buf);
    return buf;
  }
  std::memset(v6.s6_addr + 8, 0, 8);
  inet_ntop(AF_INET6, &v6, buf, sizeof buf);
  return std::string(buf) + "/64";
}

LoginThrottle::Ticket::Ticket(Ticket&& other) noexcept
    : throttle_(std::exchange(other.throttle_, nullptr)),
      account_(std::move(other.account_)),
      address_(std::move(other.address_)) {}

LoginThrottle::Ticket& LoginThrottle::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    Report(Outcome::kAbandoned);
    throttle_ = std::exchange(other.throttle_, nullptr);
    account_ = std::move(other.account_);
    address_ = std::move(other.address_);
  }
  return *this;
}

LoginThrottle::Ticket::~Ticket() { Report(Outcome::kAbandoned); }

void LoginThrottle::Ticket::Report(Outcome outcome) {
  if (!throttle_) return;
  std::exchange(throttle_, nullptr)->Finish(account_, address_, outcome);
}

LoginThrottle::LoginThrottle(LoginThrottlePolicy policy, Clock clock)
    : policy_(policy), clock_(std::move(clock)) {}

size_t LoginThrottle::size() const {
  std::lock_guard lock(mu_);
  return table_.size();
}

std::optional<TimePoint> LoginThrottle::RefusedUntil(const Entry& e, int free_failures, TimePoint now) const {
  // Within the allowance, attempts in flight are counted as if they had
  // already failed: concurrency buys no extra guesses.
  if (e.failures + e.in_flight < free_failures) return std::nullopt;
  const TimePoint lock_end =
      e.last_failure + ThrottleDelay(e.failures, free_failures, policy_.base_delay, policy_.max_delay);
  // Past it, one attempt at a time, and only once the delay has passed.
  if (e.in_flight == 0 && now >= lock_end) return std::nullopt;
  return std::max(lock_end, now);
}

LoginThrottle::Entry& LoginThrottle::Touch(const std::string& key, TimePoint now) {
  auto it = table_.find(key);
  if (it != table_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    it->second.touched = now;
    return it->second;
  }
  if (table_.size() >= policy_.max_keys && !lru_.empty()) {
    // Full: the least recently used key goes. A ticket still out for it
    // finds no entry when it reports, and counts only if it failed.
    table_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(key);
  Entry& e = table_[key];
  e.lru = lru_.begin();
  e.touched = now;
  return e;
}

void LoginThrottle::EraseIfIdle(const std::string& key) {
  auto it = table_.find(key);
  if (it == table_.end() || it->second.failures > 0 || it->second.in_flight > 0) return;
  lru_.erase(it->second.lru);
  table_.erase(it);
}

void LoginThrottle::ForgetStale(TimePoint now) {
  while (!lru_.empty()) {
    auto it = table_.find(lru_.back());
    if (it->second.in_flight > 0 || now - it->second.touched < policy_.forget_after) return;
    table_.erase(it);
    lru_.pop_back();
  }
}

Result<LoginThrottle::Ticket> LoginThrottle::Admit(const std::string& account, const std::string& address) {
  const std::string account_key = AccountKey(account);
  const std::string address_key = AddressKey(address);
  std::lock_guard lock(mu_);
  const TimePoint now = clock_();
  ForgetStale(now);

  std::optional<TimePoint> until;
  const char* which = "";
  auto consider = [&](const std::string& key, int free_failures, const char* what) {
    auto it = table_.find(key);
    if (it == table_.end()) return;
    auto refused = RefusedUntil(it->second, free_failures, now);
    if (refused && (!until || *refused > *until)) {
      until = refused;
      which = what;
    }
  };
  consider(account_key, policy_.account_free_failures, "for this account");
  consider(address_key, policy_.address_free_failures, "from your address");

  if (until) {
    // Whole seconds, rounded up, at least 1: what Retry-After can say.
    auto wait = std::chrono::ceil<std::chrono::seconds>(*until - now);
    int64_t seconds = std::max<int64_t>(1, wait.count());
    return Status(Code::kTooManyRequests, "too_many_attempts",
                  std::string("too many failed logins ") + which + "; try again in " +
                      std::to_string(seconds) + (seconds == 1 ? " second" : " seconds"))
        .with("retry_after", seconds);
  }

  // Move an existing key to the front before creating the other, so that
  // making room for one can never evict the other.
  const bool account_known = table_.count(account_key) > 0;
  Entry& first = Touch(account_known ? account_key : address_key, now);
  first.in_flight++;
  Entry& second = Touch(account_known ? address_key : account_key, now);
  second.in_flight++;
  return Ticket(this, account, address);
}

void LoginThrottle::NoteElsewhere(const std::string& account, const std::string& address, Outcome outcome) {
  Finish(account, address, outcome, /*in_flight=*/false);
}

void LoginThrottle::Finish(const std::string& account, const std::string& address, Outcome outcome,
                           bool in_flight) {
  const std::string account_key = AccountKey(account);
  const std::string address_key = AddressKey(address);
  std::lock_guard lock(mu_);
  const TimePoint now = clock_();

  auto settle = [&](const std::string& key) -> Entry* {
    auto it = table_.find(key);
    if (it == table_.end()) {
      // Evicted while in flight (or never seen here): only a failure is
      // worth remembering.
      if (outcome != Outcome::kFailure) return nullptr;
      return &Touch(key, now);
    }
    Entry& e = Touch(key, now);
    if (in_flight) e.in_flight = std::max(0, e.in_flight - 1);
    return &e;
  };
  Entry* account_entry = settle(account_key);
  Entry* address_entry = settle(address_key);

  if (outcome == Outcome::kFailure) {
    for (Entry* e : {account_entry, address_entry}) {
      e->failures++;
      e->last_failure = now;
    }
  } else if (outcome == Outcome::kSuccess) {
    // The account's own failures were this user's typos: take them off the
    // address too, and no more than that.
    const int explained = account_entry ? account_entry->failures : 0;
    if (account_entry) account_entry->failures = 0;
    if (address_entry) address_entry->failures = std::max(0, address_entry->failures - explained);
  }
  EraseIfIdle(account_key);
  EraseIfIdle(address_key);
}

}  // namespace mgteam::server
