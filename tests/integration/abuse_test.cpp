// A server that stays up under abuse (issue 11), replayed at small scale
// against a real mgteam-server: login throttling, the bound on concurrent
// password hashing, cheap refusals before any hashing, and the
// case-insensitive Bearer scheme.
#include "http.h"
#include "process.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

using namespace mgteam::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

HttpResponse Login(Http& http, const std::string& email, const std::string& password,
                   const std::map<std::string, std::string>& headers = {}) {
  return http.Post("/api/v1/auth/login", {{"email", email}, {"password", password}}, "", headers);
}

std::string Password(const TestUser& u) { return "password-" + u.name; }  // as SignUp sets it

std::string HeaderOf(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() != name.size()) continue;
    if (std::equal(k.begin(), k.end(), name.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return v;
  }
  return "";
}

// One sample from /metrics, -1 if it is missing.
int64_t Metric(Http& http, const std::string& name) {
  std::istringstream text(http.Get("/metrics").raw);
  std::string line;
  while (std::getline(text, line))
    if (line.rfind(name + " ", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  return -1;
}

// The most resident memory the process has had (VmHWM), in MiB.
int64_t PeakRssMiB(pid_t pid) {
  long kb = ProcStatusKb(pid, "VmHWM");
  return kb < 0 ? -1 : kb / 1024;
}

// Tries `attempt` every 50 ms until it gives something other than 429 or
// `limit` passes; returns the last answer.
template <class F>
HttpResponse UntilNotThrottled(F attempt, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  HttpResponse r = attempt();
  while (r.status == 429 && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    r = attempt();
  }
  return r;
}

}  // namespace

TEST_CASE("login throttling: after five wrong passwords even the right one gets 429 with Retry-After until the delay passes") {
  auto server = ServerProcess::Start();  // the defaults: 5 free failures per account, then 1 s
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");

  for (int i = 0; i < 5; ++i) {
    auto r = Login(http, alice.email, "wrong-password-" + std::to_string(i));
    CHECK(r.status == 401);
    CHECK(r.error_code() == "invalid_credentials");
  }
  const int64_t hashes = Metric(http, "mgteam_password_hashes_total");
  REQUIRE(hashes > 0);

  auto refused = Login(http, alice.email, Password(alice));
  CHECK(refused.status == 429);
  CHECK(refused.error_code() == "too_many_attempts");
  CHECK(refused.body["error"]["retry_after"] == 1);
  CHECK(HeaderOf(refused, "Retry-After") == "1");
  CHECK(refused.body["error"]["message"].get<std::string>().find("try again in 1 second") != std::string::npos);
  // The account is the normalised address, whatever case it is typed in.
  std::string shouted = alice.email;
  std::transform(shouted.begin(), shouted.end(), shouted.begin(), [](unsigned char c) { return std::toupper(c); });
  CHECK(Login(http, shouted, Password(alice)).status == 429);
  // Refused without checking the password: no argon2id work was done.
  CHECK(Metric(http, "mgteam_password_hashes_total") == hashes);
  CHECK(Metric(http, "mgteam_logins_throttled_total") == 2);

  // Once the delay has passed, the right password works.
  auto ok = UntilNotThrottled([&] { return Login(http, alice.email, Password(alice)); }, 5s);
  CHECK(ok.status == 200);
  CHECK(ok.body["token"].get<std::string>().rfind("mg_", 0) == 0);

  // The success reset the account: five more failures before the next 429
  // (without the reset the sixth failure would already be throttled).
  for (int i = 0; i < 5; ++i) CHECK(Login(http, alice.email, "wrong-again-" + std::to_string(i)).status == 401);
  CHECK(Login(http, alice.email, Password(alice)).status == 429);
}

TEST_CASE("login throttling: one account's failures leave the others alone until the address limit, which no header can dodge") {
  ServerProcess::Options o;
  o.args = {"--login-attempts", "3", "--login-attempts-per-address", "7"};
  auto server = ServerProcess::Start(o);
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  TestUser bob = SignUp(http, "bob");
  TestUser carol = SignUp(http, "carol");

  for (int i = 0; i < 3; ++i) CHECK(Login(http, alice.email, "wrong-password-" + std::to_string(i)).status == 401);
  auto locked = Login(http, alice.email, Password(alice));
  CHECK(locked.status == 429);
  CHECK(locked.body["error"]["message"].get<std::string>().find("for this account") != std::string::npos);
  // Same address, another account: not locked.
  CHECK(Login(http, bob.email, Password(bob)).status == 200);

  // Three more for bob and one for carol: seven from this address.
  for (int i = 0; i < 3; ++i) CHECK(Login(http, bob.email, "wrong-password-" + std::to_string(i)).status == 401);
  CHECK(Login(http, carol.email, "wrong-password").status == 401);
  auto address_locked = Login(http, carol.email, Password(carol));
  CHECK(address_locked.status == 429);
  CHECK(address_locked.body["error"]["message"].get<std::string>().find("from your address") != std::string::npos);
  CHECK(HeaderOf(address_locked, "Retry-After") == "1");
  // The address is the socket's: headers claiming another one change nothing.
  auto spoofed = Login(http, carol.email, Password(carol),
                       {{"X-Forwarded-For", "203.0.113.9"}, {"X-Real-IP", "203.0.113.9"},
                        {"REMOTE_ADDR", "203.0.113.9"}});
  CHECK(spoofed.status == 429);
  // It passes: carol gets in once the address's delay is over.
  CHECK(UntilNotThrottled([&] { return Login(http, carol.email, Password(carol)); }, 5s).status == 200);
}

TEST_CASE("sign-up refusals come before the password is hashed") {
  ServerProcess::Options closed;
  closed.open_signup = false;
  auto server = ServerProcess::Start(closed);
  Http http(server->port());
  auto owner = http.Post("/api/v1/auth/signup", {{"email", "owner@example.com"}, {"password", "owner-password"}});
  REQUIRE(owner.status == 201);
  const std::string owner_token = owner.body["token"];
  const int64_t hashes = Metric(http, "mgteam_password_hashes_total");
  REQUIRE(hashes > 0);

  auto no = http.Post("/api/v1/auth/signup", {{"email", "bob@example.com"}, {"password", "bob-password"}});
  CHECK(no.status == 403);
  CHECK(no.error_code() == "signup_closed");
  auto bogus = http.Post("/api/v1/auth/signup", {{"email", "bob@example.com"}, {"password", "bob-password"},
                                                  {"invitation_token", "mgi_not-a-real-invitation"}});
  CHECK(bogus.status == 404);
  CHECK(bogus.error_code() == "invitation_not_found");
  std::string team = http.Post("/api/v1/teams", {{"name", "Core"}}, owner_token).body["id"];
  auto inv = http.Post("/api/v1/teams/" + team + "/invite", {{"email", "bob@example.com"}}, owner_token);
  REQUIRE(inv.status == 201);
  const std::string invitation = inv.body["token"];
  auto mismatch = http.Post("/api/v1/auth/signup", {{"email", "eve@example.com"}, {"password", "eve-password"},
                                                     {"invitation_token", invitation}});
  CHECK(mismatch.status == 403);
  CHECK(mismatch.error_code() == "invitation_email_mismatch");
  CHECK(Metric(http, "mgteam_password_hashes_total") == hashes);

  // The one sign-up that is allowed hashes exactly once.
  auto bob = http.Post("/api/v1/auth/signup", {{"email", "bob@example.com"}, {"password", "bob-password"},
                                                {"invitation_token", invitation}});
  CHECK(bob.status == 201);
  CHECK(Metric(http, "mgteam_password_hashes_total") == hashes + 1);

  // A taken address on an open server: refused before hashing as well.
  auto open = ServerProcess::Start();
  Http open_http(open->port());
  TestUser alice = SignUp(open_http, "alice");
  const int64_t open_hashes = Metric(open_http, "mgteam_password_hashes_total");
  auto taken = open_http.Post("/api/v1/auth/signup", {{"email", alice.email}, {"password", "another-password"}});
  CHECK(taken.status == 409);
  CHECK(taken.error_code() == "email_taken");
  CHECK(Metric(open_http, "mgteam_password_hashes_total") == open_hashes);
}

TEST_CASE("64 concurrent bad logins: memory stays within the hashing bound and a real login still gets in") {
  constexpr int kHashConcurrency = 4;
  constexpr int kFlood = 64;
  ServerProcess::Options o;
  // The throttle out of the way: this is about the hashing bound alone.
  o.args = {"--password-hash-concurrency", std::to_string(kHashConcurrency), "--login-attempts", "1000000",
            "--login-attempts-per-address", "1000000"};
  auto server = ServerProcess::Start(o);
  Http http(server->port());
  TestUser victim = SignUp(http, "victim");
  TestUser real = SignUp(http, "real");

  std::atomic<int> unauthorized{0};
  std::vector<std::thread> flood;
  for (int i = 0; i < kFlood; ++i)
    flood.emplace_back([&, i] {
      Http mine(server->port());
      if (Login(mine, victim.email, "wrong-password-" + std::to_string(i)).status == 401) unauthorized++;
    });

  // Wait until the flood is queued for the hash slots (the server reports
  // it), watching that no more than the bound ever run at once.
  int64_t most_running = 0;
  bool queued = false;
  for (auto deadline = Clock::now() + 20s; Clock::now() < deadline && !queued;) {
    most_running = std::max(most_running, Metric(http, "mgteam_password_hashes_running"));
    queued = Metric(http, "mgteam_password_hashes_waiting") >= kFlood / 4;
    if (!queued) std::this_thread::sleep_for(10ms);
  }
  CHECK(queued);

  // A real login, behind the queue, still gets through in bounded time.
  HttpResponse real_login;
  std::chrono::duration<double> real_took{};
  std::thread real_thread([&] {
    Http mine(server->port());
    auto t0 = Clock::now();
    real_login = Login(mine, real.email, Password(real));
    real_took = Clock::now() - t0;
  });
  while (Metric(http, "mgteam_password_hashes_waiting") > 0) {
    most_running = std::max(most_running, Metric(http, "mgteam_password_hashes_running"));
    std::this_thread::sleep_for(10ms);
  }
  real_thread.join();
  for (auto& t : flood) t.join();

  CHECK(unauthorized == kFlood);
  CHECK(real_login.status == 200);
  CHECK(real_took < Scaled(25s));
  CHECK(most_running <= kHashConcurrency);
  CHECK(most_running >= 1);
  const int64_t peak = PeakRssMiB(server->pid());
  const auto bound = static_cast<int64_t>(((kHashConcurrency + 2) * 64 + 150) * MemoryOverhead());
  MESSAGE("peak RSS " << peak << " MiB (bound " << bound << " MiB), real login " << real_took.count() << " s");
  CHECK(peak > 0);
  CHECK(peak < bound);
}

TEST_CASE("the Bearer scheme is case-insensitive") {
  auto server = ServerProcess::Start();
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  for (const char* scheme : {"Bearer ", "bearer ", "BEARER ", "bEaReR "}) {
    auto me = http.Send("GET", "/api/v1/me", "", "", {{"Authorization", scheme + alice.token}});
    CHECK_MESSAGE(me.status == 200, scheme);
    CHECK(me.body["user"]["id"] == alice.id);
  }
  CHECK(http.Send("GET", "/api/v1/me", "", "", {{"Authorization", "Basic " + alice.token}}).status == 401);
  CHECK(http.Send("GET", "/api/v1/me", "", "", {{"Authorization", "Bearer"}}).status == 401);
}

TEST_CASE("behind a --trusted-proxy: its X-Forwarded-For names the client for throttling, and it is not capped per address") {
  ServerProcess::Options o;
  o.args = {"--login-attempts-per-address", "3", "--trusted-proxy", "127.0.0.1", "--max-connections-per-address", "4"};
  auto server = ServerProcess::Start(o);
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  TestUser bob = SignUp(http, "bob");
  const std::map<std::string, std::string> from_a = {{"X-Forwarded-For", "203.0.113.9, 198.51.100.1"}};
  const std::map<std::string, std::string> from_b = {{"X-Forwarded-For", "198.51.100.2"}};
  for (int i = 0; i < 3; ++i) CHECK(Login(http, alice.email, "wrong-password-" + std::to_string(i), from_a).status == 401);
  // The proxy appended 198.51.100.1: that client is throttled...
  CHECK(Login(http, bob.email, Password(bob), from_a).status == 429);
  // ...whatever it claims earlier in the list, and another client is not.
  CHECK(Login(http, bob.email, Password(bob), {{"X-Forwarded-For", "10.9.9.9, 198.51.100.1"}}).status == 429);
  CHECK(Login(http, bob.email, Password(bob), from_b).status == 200);

  // The proxy holds many connections: the per-address cap (4) is not for it.
  std::vector<std::unique_ptr<Http>> held;
  for (int i = 0; i < 10; ++i) {
    held.push_back(std::make_unique<Http>(server->port()));
    CHECK(held.back()->Get("/healthz").status == 200);
  }
}

TEST_CASE("without --trusted-proxy, X-Forwarded-For is ignored") {
  ServerProcess::Options o;
  o.args = {"--login-attempts-per-address", "3"};
  auto server = ServerProcess::Start(o);
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  TestUser bob = SignUp(http, "bob");
  for (int i = 0; i < 3; ++i)
    CHECK(Login(http, alice.email, "wrong-password-" + std::to_string(i), {{"X-Forwarded-For", "198.51.100." + std::to_string(i)}})
              .status == 401);
  CHECK(Login(http, bob.email, Password(bob), {{"X-Forwarded-For", "198.51.100.200"}}).status == 429);
}

TEST_CASE("--metrics-listen moves /metrics off the API port") {
  ServerProcess::Options o;
  o.args = {"--metrics-listen", "127.0.0.1:0"};
  auto server = ServerProcess::Start(o);
  Http http(server->port());
  auto api = http.Get("/metrics");
  CHECK(api.status == 404);
  // The server logs where it serves them (port 0: any free port).
  const std::string log = server->log();
  auto at = log.find("metrics on http://127.0.0.1:");
  REQUIRE(at != std::string::npos);
  int port = std::stoi(log.substr(at + std::string("metrics on http://127.0.0.1:").size()));
  Http metrics(port);
  auto r = metrics.Get("/metrics");
  CHECK(r.status == 200);
  CHECK(r.raw.find("mgteam_") != std::string::npos);
}
