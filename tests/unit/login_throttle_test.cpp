#include "login_throttle.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <optional>
#include <vector>

using namespace mgteam;
using namespace mgteam::server;
using namespace std::chrono_literals;

namespace {

// A clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
  LoginThrottle::Clock fn() {
    return [this] { return now; };
  }
};

LoginThrottlePolicy SmallPolicy() {
  LoginThrottlePolicy p;
  p.account_free_failures = 5;
  p.address_free_failures = 20;
  p.base_delay = 1s;
  p.max_delay = 60s;
  p.forget_after = 3600s;
  p.max_keys = 1000;
  return p;
}

// One attempt that ends in `outcome`; false if it was refused.
bool Attempt(LoginThrottle& t, const std::string& account, const std::string& address,
             LoginThrottle::Outcome outcome) {
  auto ticket = t.Admit(account, address);
  if (!ticket.ok()) return false;
  ticket->Report(outcome);
  return true;
}

bool Fail(LoginThrottle& t, const std::string& account, const std::string& address) {
  return Attempt(t, account, address, LoginThrottle::Outcome::kFailure);
}

// The refusal's retry_after, or nullopt when the attempt would be admitted
// (the probe attempt is abandoned, so it counts nothing).
std::optional<int64_t> RetryAfter(LoginThrottle& t, const std::string& account, const std::string& address) {
  auto ticket = t.Admit(account, address);
  if (ticket.ok()) return std::nullopt;
  CHECK(ticket.status().code() == Code::kTooManyRequests);
  CHECK(ticket.status().reason() == "too_many_attempts");
  return ticket.status().details()["retry_after"].get<int64_t>();
}

}  // namespace

TEST_CASE("login throttle delay: none within the allowance, then doubling up to the cap") {
  CHECK(ThrottleDelay(0, 5, 1000ms, 900s) == 0ms);
  CHECK(ThrottleDelay(4, 5, 1000ms, 900s) == 0ms);
  CHECK(ThrottleDelay(5, 5, 1000ms, 900s) == 1000ms);
  CHECK(ThrottleDelay(6, 5, 1000ms, 900s) == 2000ms);
  CHECK(ThrottleDelay(9, 5, 1000ms, 900s) == 16000ms);
  CHECK(ThrottleDelay(15, 5, 1000ms, 900s) == 900s);   // 1024 s capped
  CHECK(ThrottleDelay(5000, 5, 1000ms, 900s) == 900s);  // no overflow
}

TEST_CASE("login throttle: an account gets its free failures, then waits longer after each further one") {
  FakeClock clock;
  LoginThrottle t(SmallPolicy(), clock.fn());
  for (int i = 0; i < 5; ++i) CHECK(Fail(t, "alice@example.com", "198.51.100.1"));
  CHECK(RetryAfter(t, "alice@example.com", "198.51.100.1") == 1);
  clock.now += 999ms;
  CHECK(RetryAfter(t, "alice@example.com", "198.51.100.1") == 1);  // rounded up
  clock.now += 1ms;
  CHECK(Fail(t, "alice@example.com", "198.51.100.1"));  // the sixth
  CHECK(RetryAfter(t, "alice@example.com", "198.51.100.1") == 2);
  clock.now += 2s;
  CHECK(Fail(t, "alice@example.com", "198.51.100.1"));  // the seventh
  CHECK(RetryAfter(t, "alice@example.com", "198.51.100.1") == 4);
  // The refusals in between counted nothing: the delay is still 4 s, not more.
  CHECK(RetryAfter(t, "alice@example.com", "203.0.113.9") == 4);  // any address: it is the account
  // The message says which limit applies and when to come back.
  auto refused = t.Admit("alice@example.com", "198.51.100.1");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() == "too many failed logins for this account; try again in 4 seconds");
}

TEST_CASE("login throttle: the right password waits too, and a success resets the account") {
  FakeClock clock;
  LoginThrottle t(SmallPolicy(), clock.fn());
  for (int i = 0; i < 5; ++i) CHECK(Fail(t, "alice@example.com", "198.51.100.1"));
  // The throttle decides before any password is looked at.
  CHECK_FALSE(Attempt(t, "alice@example.com", "198.51.100.1", LoginThrottle::Outcome::kSuccess));
  clock.now += 1s;
  CHECK(Attempt(t, "alice@example.com", "198.51.100.1", LoginThrottle::Outcome::kSuccess));
  // A full allowance again: five failures before the next wait.
  for (int i = 0; i < 5; ++i) CHECK(Fail(t, "alice@example.com", "198.51.100.1"));
  CHECK(RetryAfter(t, "alice@example.com", "198.51.100.1") == 1);
}

TEST_CASE("login throttle: attempts in flight count against the allowance") {
  FakeClock clock;
  LoginThrottle t(SmallPolicy(), clock.fn());
  std::vector<LoginThrottle::Ticket> tickets;
  for (int i = 0; i < 5; ++i) {
    auto ticket = t.Admit("alice@example.com", "198.51.100." + std::to_string(i));
    REQUIRE(ticket.ok());
    tickets.push_back(std::move(ticket).value());
  }
  // Five guesses at once use up the allowance as five in a row would.
  CHECK(RetryAfter(t, "alice@example.com", "198.51.100.99") == 1);
  // An attempt that ends undecided (a database error) gives its slot back.
  tickets.pop_back();
  CHECK_FALSE(RetryAfter(t, "alice@example.com", "198.51.100.99").has_value());
  for (auto& ticket : tickets) ticket.Report(LoginThrottle::Outcome::kFailure);
  CHECK(Fail(t, "alice@example.com", "198.51.100.99"));  // the fifth failure
  // Past the allowance only one attempt at a time, even once the delay is over.
  clock.now += 1s;
  auto one = t.Admit("alice@example.com", "198.51.100.99");
  REQUIRE(one.ok());
  CHECK(RetryAfter(t, "alice@example.com", "198.51.100.98") == 1);
  one->Report(LoginThrottle::Outcome::kFailure);
  CHECK(RetryAfter(t, "alice@example.com", "198.51.100.98") == 2);
}

TEST_CASE("login throttle: one account's failures do not lock others until the address limit") {
  FakeClock clock;
  LoginThrottle t(SmallPolicy(), clock.fn());
  // Four accounts locked from one address: 20 failures in all.
  for (int a = 0; a < 4; ++a)
    for (int i = 0; i < 5; ++i) CHECK(Fail(t, "user" + std::to_string(a) + "@example.com", "198.51.100.1"));
  CHECK(RetryAfter(t, "user0@example.com", "198.51.100.1") == 1);
  // The twentieth failure locked the address: a fresh account from it waits...
  CHECK(RetryAfter(t, "fresh@example.com", "198.51.100.1") == 1);
  auto refused = t.Admit("fresh@example.com", "198.51.100.1");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("from your address") != std::string::npos);
  // ...but not from another address.
  CHECK_FALSE(RetryAfter(t, "fresh@example.com", "203.0.113.9").has_value());

  // Below the address limit, a locked account leaves its neighbours alone.
  LoginThrottle u(SmallPolicy(), clock.fn());
  for (int i = 0; i < 5; ++i) CHECK(Fail(u, "mallory@example.com", "198.51.100.1"));
  CHECK(RetryAfter(u, "mallory@example.com", "198.51.100.1") == 1);
  CHECK_FALSE(RetryAfter(u, "bob@example.com", "198.51.100.1").has_value());
}

TEST_CASE("login throttle: a success takes the account's own failures off its address, no more") {
  FakeClock clock;
  LoginThrottle t(SmallPolicy(), clock.fn());
  for (int i = 0; i < 3; ++i) CHECK(Fail(t, "alice@example.com", "198.51.100.1"));  // her typos
  for (int a = 0; a < 5; ++a)
    for (int i = 0; i < 3; ++i) CHECK(Fail(t, "other" + std::to_string(a) + "@example.com", "198.51.100.1"));
  // The address has 18 failures; alice's success takes her 3 off: 15.
  CHECK(Attempt(t, "alice@example.com", "198.51.100.1", LoginThrottle::Outcome::kSuccess));
  // So exactly five more failures fit before the address limit of 20.
  for (int i = 0; i < 5; ++i) CHECK(Fail(t, "spray" + std::to_string(i) + "@example.com", "198.51.100.1"));
  CHECK(RetryAfter(t, "spray9@example.com", "198.51.100.1") == 1);
}

TEST_CASE("login throttle: memory stays bounded") {
  FakeClock clock;
  LoginThrottlePolicy p = SmallPolicy();
  p.max_keys = 16;
  LoginThrottle t(p, clock.fn());
  // Successes without failures leave nothing behind.
  for (int i = 0; i < 50; ++i)
    CHECK(Attempt(t, fmt::format("u{}@example.com", i), "198.51.100.1", LoginThrottle::Outcome::kSuccess));
  CHECK(t.size() == 0);
  // A spray of distinct accounts and addresses never holds more than the cap.
  for (int i = 0; i < 500; ++i) {
    CHECK(Fail(t, "spray" + std::to_string(i) + "@example.com", "10.0." + std::to_string(i / 250) + "." +
                                                                     std::to_string(i % 250)));
    CHECK(t.size() <= 16);
  }
  CHECK(t.size() == 16);
  // The most recent keys are the ones kept.
  for (int i = 0; i < 4; ++i) CHECK(Fail(t, "spray499@example.com", "10.0.1.249"));
  CHECK(RetryAfter(t, "spray499@example.com", "10.0.1.249") == 1);
  // Keys quiet for `forget_after` are dropped on the next attempt.
  clock.now += 3600s;
  CHECK_FALSE(RetryAfter(t, "spray499@example.com", "10.0.1.249").has_value());
  CHECK(t.size() == 0);
}

TEST_CASE("login throttle: client addresses are keyed by IPv4 address or IPv6 /64") {
  CHECK(ClientAddressKey("203.0.113.7") == "203.0.113.7");
  CHECK(ClientAddressKey("::ffff:203.0.113.7") == "203.0.113.7");
  CHECK(ClientAddressKey("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
  CHECK(ClientAddressKey("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64");
  CHECK(ClientAddressKey("2001:db8:1:3::1") == "2001:db8:1:3::/64");
  CHECK(ClientAddressKey("::1") == "::/64");
  CHECK(ClientAddressKey("") == "");
}

TEST_CASE("login throttle policy: nonsense settings are refused") {
  CHECK(SmallPolicy().Check().ok());
  LoginThrottlePolicy p = SmallPolicy();
  p.account_free_failures = 0;
  CHECK_FALSE(p.Check().ok());
  p = SmallPolicy();
  p.max_delay = 500ms;  // below the base delay
  CHECK_FALSE(p.Check().ok());
  p = SmallPolicy();
  p.forget_after = p.max_delay;
  CHECK_FALSE(p.Check().ok());
  p = SmallPolicy();
  p.max_keys = 2;
  CHECK_FALSE(p.Check().ok());
}

TEST_CASE("login throttle: failures on other instances count here, and their successes reset the account") {
  FakeClock clock;
  LoginThrottle t(SmallPolicy(), clock.fn());
  // Five failures made on other instances (heard over the bus): this one
  // has seen no attempt, yet the sixth must wait.
  for (int i = 0; i < 5; ++i) t.NoteElsewhere("h(alice)", "198.51.100.7", LoginThrottle::Outcome::kFailure);
  CHECK_FALSE(Attempt(t, "h(alice)", "203.0.113.1", LoginThrottle::Outcome::kFailure));
  clock.now += 1s;
  CHECK(Attempt(t, "h(alice)", "203.0.113.1", LoginThrottle::Outcome::kFailure));
  // A success elsewhere clears the account's count here.
  t.NoteElsewhere("h(alice)", "198.51.100.7", LoginThrottle::Outcome::kSuccess);
  CHECK(Attempt(t, "h(alice)", "203.0.113.1", LoginThrottle::Outcome::kFailure));
  // Nothing was in flight here, so nothing is left held: once idle, keys go.
  t.NoteElsewhere("h(bob)", "198.51.100.8", LoginThrottle::Outcome::kSuccess);
  CHECK(t.size() == 2);  // h(alice) and 203.0.113.1 carry failures; bob's success left nothing
}
