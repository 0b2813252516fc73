// LoginThrottle: brute-force protection for password logins.
//
// Failed logins are counted per account (the normalised email) and per client
// address. Each key gets a few free failures; after that every further
// attempt has to wait, 1 s after the first failure past the allowance and
// twice as long after each further one, up to a cap. A refused attempt costs
// the server nothing (no password hash), and neither does it count: only a
// wrong password does. A successful login forgets the account's failures and
// takes as many off its address, so a user who mistyped a few times is not
// left closer to the address limit, while failures against other accounts
// from that address are not washed away by one valid account.
//
// Attempts still in progress count against the allowance too, so a burst of
// concurrent guesses gets no more tries than the same guesses one after the
// other; past the allowance only one attempt per key is in flight at a time.
//
// Memory is bounded: only keys with failures (or an attempt in flight) are
// kept, a key untouched for `forget_after` is dropped, and past `max_keys` the
// least recently used key makes room.
//
// Pure logic plus a mutex; the clock is injected so tests need not sleep.
#pragma once

#include "mgteam/status.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mgteam::server {

struct LoginThrottlePolicy {
  int account_free_failures = 5;    // failures an account may have before attempts wait
  int address_free_failures = 20;   // the same for one client address (a shared NAT has many users)
  std::chrono::milliseconds base_delay{1000};
  std::chrono::milliseconds max_delay{15 * 60 * 1000};
  // A key that saw no attempt for this long starts over. Longer than
  // max_delay, so a lock never outlives its key.
  std::chrono::milliseconds forget_after{24 * 3600 * 1000};
  size_t max_keys = 100000;  // accounts and addresses together: ~100 bytes each

  Status Check() const;
};

// How long a key with `failures` failures must wait after the last of them:
// nothing while failures < free_failures, then base, doubling per further
// failure, at most max.
std::chrono::milliseconds ThrottleDelay(int failures, int free_failures, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max);

// The key a client address is counted under: IPv4 as is, an IPv4-mapped IPv6
// address as its IPv4, any other IPv6 address by its /64 (one subscriber
// usually holds a whole /64, so counting single addresses would let them
// rotate freely). Anything unparseable is used verbatim.
std::string ClientAddressKey(std::string_view remote_addr);

class LoginThrottle {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  enum class Outcome {
    kSuccess,    // right password
    kFailure,    // wrong password or unknown account
    kAbandoned,  // the attempt could not be decided (a database error): not counted
  };

  // One admitted attempt. Report its outcome once; destroying it unreported
  // counts as kAbandoned, so an early error return cannot leak a slot.
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept;
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket();

    void Report(Outcome outcome);

   private:
    friend class LoginThrottle;
    Ticket(LoginThrottle* throttle, std::string account, std::string address)
        : throttle_(throttle), account_(std::move(account)), address_(std::move(address)) {}
    LoginThrottle* throttle_ = nullptr;
    std::string account_;
    std::string address_;
  };

  explicit LoginThrottle(LoginThrottlePolicy policy, Clock clock = std::chrono::steady_clock::now);

  // An attempt to log in to `account` from `address` (ClientAddressKey):
  // a ticket, or 429 too_many_attempts whose `retry_after` detail is the
  // whole seconds (at least 1) until an attempt may be admitted.
  Result<Ticket> Admit(const std::string& account, const std::string& address);

  // A login decided on another instance sharing the database (docs/deploy.md):
  // counted as if it had been made here, so N instances do not allow N times
  // the attempts. No ticket: nothing was in flight here.
  void NoteElsewhere(const std::string& account, const std::string& address, Outcome outcome);

  // Keys held (for tests and the memory bound).
  size_t size() const;
  const LoginThrottlePolicy& policy() const { return policy_; }

 private:
  struct Entry {
    int failures = 0;
    int in_flight = 0;
    std::chrono::steady_clock::time_point last_failure{};
    std::chrono::steady_clock::time_point touched{};
    std::list<std::string>::iterator lru;  // position in lru_ (front: most recent)
  };
  using Table = std::unordered_map<std::string, Entry>;

  void Finish(const std::string& account, const std::string& address, Outcome outcome, bool in_flight = true);
  // Until when the key refuses attempts; nullopt if it admits one now.
  std::optional<std::chrono::steady_clock::time_point> RefusedUntil(
      const Entry& e, int free_failures, std::chrono::steady_clock::time_point now) const;
  Entry& Touch(const std::string& key, std::chrono::steady_clock::time_point now);
  void EraseIfIdle(const std::string& key);
  void ForgetStale(std::chrono::steady_clock::time_point now);

  const LoginThrottlePolicy policy_;
  const Clock clock_;
  mutable std::mutex mu_;
  Table table_;
  std::list<std::string> lru_;
};

}  // namespace mgteam::server
