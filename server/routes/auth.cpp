// Accounts: sign-up, login, logout, the caller, and access tokens.
#include "auth.h"
#include "bus/bus.h"
#include "domain/accounts.h"
#include "domain/workspaces.h"
#include "http/browser_session.h"
#include "login_throttle.h"
#include "metrics.h"
#include "mgteam/text.h"
#include "mgteam/validate.h"
#include "routes/routes.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <optional>

namespace mgteam::server {
namespace {

constexpr FieldReader::TextRule kName{1, limits::kNameMax, false, true};

// Login verifies a password even for unknown emails so that response times do
// not reveal which addresses have accounts.
const std::string& DummyHash() {
  static const std::string hash = [] {
    auto h = HashPassword("mgteam-dummy-password");
    if (h.ok()) return h.value();
    // Logins still work, but unknown emails are then answered faster.
    spdlog::error("computing the dummy password hash failed: {}; login times may reveal which emails have accounts",
                  h.status().ToString());
    return std::string();
  }();
  return hash;
}

Result<std::string> PasswordField(FieldReader& r) {
  auto pw = r.Text("password", {0, 100000, true, false}, true);
  if (!r.ok()) return r.status();
  if (pw->size() < limits::kPasswordMin || pw->size() > limits::kPasswordMax)
    return Status::Invalid("weak_password", "the password must be 8 to 1024 bytes long")
        .with("field", "password");
  return *pw;
}

json TokenReply(const IssuedToken& t) {
  json j = t.record.ToJson();
  j["token"] = t.secret;
  return j;
}

// The login throttle lives as long as the routes, with the policy of the
// server's configuration. With several instances on one database it hears
// the others' logins over the bus (docs/deploy.md), and tells them of its own.
class LoginGuard final : public BusListener {
 public:
  explicit LoginGuard(const ServerConfig& c) : throttle_(PolicyOf(c)) {}

  LoginThrottle& throttle() { return throttle_; }

  void OnAdvance(const std::string&, int64_t) override {}
  void OnWorkspaceDeleted(const std::string&) override {}
  void OnTokenRevoked(const std::string&) override {}
  void OnLoginElsewhere(const std::string& account, const std::string& address, bool success) override {
    throttle_.NoteElsewhere(account, address,
                            success ? LoginThrottle::Outcome::kSuccess : LoginThrottle::Outcome::kFailure);
  }

 private:
  static LoginThrottlePolicy PolicyOf(const ServerConfig& c) {
    LoginThrottlePolicy p;
    p.account_free_failures = c.login_attempts;
    p.address_free_failures = c.login_attempts_per_address;
    p.base_delay = std::chrono::seconds(c.login_delay_seconds);
    return p;
  }
  LoginThrottle throttle_;
};

// A new browser session for `user`: its record, and the cookie that
// carries its secret (the secret is never in the body).
Result<Reply> StartSession(Request& r, Tx& tx, const User& user) {
  MG_ASSIGN_OR_RETURN(IssuedToken t, IssueToken(tx, user.id, "browser session", r.config().session_ttl,
                                                CredentialKind::kSession));
  Reply reply{200, {{"session", {{"id", t.record.id}, {"expires_at", *t.record.expires_at}}}}};
  reply.headers.emplace_back("Set-Cookie", SessionSetCookie(t.secret, r.config().session_ttl.count(),
                                                            r.SecureOrigin()));
  return reply;
}

Result<Reply> Signup(Request& r) {
  FieldReader f(r.body(), {"email", "password", "name", "invitation_token", "token_name", "session"});
  auto email = f.Email("email", true);
  auto name = f.Text("name", kName);
  auto invitation = f.Text("invitation_token", {1, 200, false, true});
  auto token_name = f.Text("token_name", kName);
  const bool session = f.Boolean("session").value_or(false);
  MG_ASSIGN_OR_RETURN(std::string password, PasswordField(f));
  if (!f.ok()) return f.status();
  // The dashboard signs up into a cookie session: only its own pages may.
  if (session) MG_RETURN_IF_ERROR(CheckSameOrigin(r.Origin()));
  NewAccount a;
  a.email = Trim(r.body()["email"].get<std::string>());
  a.email_norm = *email;
  a.name = name ? *name : a.email.substr(0, a.email.find('@'));
  // Everything that can refuse the sign-up, in the order it is reported.
  // Signing up through an invitation works even when sign-up is closed.
  auto gates = [&](Tx& tx) -> Status {
    if (!invitation) return CheckSignupAllowed(tx, a, r.config().open_signup, SignupGate::kFirstOrOpen);
    MG_ASSIGN_OR_RETURN(auto inv, FindUsableInvitation(tx, *invitation));
    if (inv.email_norm != a.email_norm)
      return Status(Code::kPermissionDenied, "invitation_email_mismatch",
                    "this invitation was sent to a different email address; sign up with the "
                    "address it was sent to");
    return CheckSignupAllowed(tx, a, r.config().open_signup, SignupGate::kInvited);
  };
  // Checked before the password is hashed, so a refused sign-up costs no
  // argon2id work, and again in the write transaction, where it counts (the
  // state may change while the hash runs).
  MG_RETURN_IF_ERROR(r.store().Read(gates));
  // Hash outside the write transaction: argon2id is slow on purpose.
  MG_ASSIGN_OR_RETURN(a.password_hash, HashPassword(password));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    // Locks in the order of store/store.h (accounts, then the workspace,
    // then slugs), although the new account's personal workspace takes the
    // slugs lock before the invitation is accepted.
    if (invitation) {
      MG_RETURN_IF_ERROR(tx.Lock(LockKey::Accounts()));
      MG_ASSIGN_OR_RETURN(auto inv, FindUsableInvitation(tx, *invitation));
      MG_RETURN_IF_ERROR(tx.Lock(LockKey::Workspace(inv.workspace_id)));
    }
    MG_RETURN_IF_ERROR(gates(tx));
    json out;
    User user;
    if (invitation) {
      MG_ASSIGN_OR_RETURN(user, CreateAccount(tx, a, r.config().open_signup, SignupGate::kInvited));
      MG_ASSIGN_OR_RETURN(Member m, AcceptInvitation(tx, user, a.email_norm, *invitation));
      out["membership"] = m.ToJson();
    } else {
      MG_ASSIGN_OR_RETURN(user, CreateAccount(tx, a, r.config().open_signup, SignupGate::kFirstOrOpen));
    }
    out["user"] = user.ToJson();
    if (session) {
      MG_ASSIGN_OR_RETURN(Reply reply, StartSession(r, tx, user));
      out["session"] = reply.body["session"];
      reply.status = 201;
      reply.body = out;
      return reply;
    }
    MG_ASSIGN_OR_RETURN(IssuedToken t, IssueToken(tx, user.id, token_name ? *token_name : "signup"));
    out["token"] = t.secret;
    out["token_id"] = t.record.id;
    return Reply{201, out};
  });
}

// Streams opened with a revoked token end at once.
Result<Reply> AnnounceRevoked(Request& r, Result<Reply> reply, const std::string& token_id) {
  if (reply.ok() && r.server().bus) r.server().bus->PublishTokenRevoked(token_id);
  return reply;
}

// The account behind an email and password, through the login throttle.
Result<UserRecord> CheckPassword(Request& r, LoginGuard& guard, const std::string& email,
                                 const std::string& password) {
  // A throttled attempt is refused before the account is looked up or any
  // password is hashed: the refusal costs nothing, and since the account key
  // is the email as typed (normalised), it says nothing about whether an
  // account has that email.
  // The account is counted under a hash of the email: the throttle's memory
  // and the bus between instances then never hold addresses.
  const std::string account = HashHex("login\n" + email);
  const std::string address = ClientAddressKey(r.RemoteAddress());
  auto ticket = guard.throttle().Admit(account, address);
  if (!ticket.ok()) {
    if (r.server().metrics) r.server().metrics->logins_throttled++;
    return ticket.status();
  }
  // Returning early from here on (a database error) leaves the attempt
  // uncounted: the ticket is abandoned when it goes out of scope.
  MG_ASSIGN_OR_RETURN(auto found, r.store().ReadValue<std::optional<UserRecord>>(
                                      [&](Tx& tx) { return tx.FindUserByEmail(email); }));
  bool ok = VerifyPassword(found ? found->password_hash : DummyHash(), password);
  if (r.server().bus) r.server().bus->PublishLogin(account, address, found && ok);
  if (!found || !ok) {
    ticket->Report(LoginThrottle::Outcome::kFailure);
    return Status(Code::kUnauthenticated, "invalid_credentials", "wrong email or password");
  }
  ticket->Report(LoginThrottle::Outcome::kSuccess);
  return std::move(*found);
}

Result<Reply> Login(Request& r, LoginGuard& guard) {
  FieldReader f(r.body(), {"email", "password", "token_name"});
  auto email = f.Email("email", true);
  auto token_name = f.Text("token_name", kName);
  MG_ASSIGN_OR_RETURN(std::string password, PasswordField(f));
  if (!f.ok()) return f.status();
  MG_ASSIGN_OR_RETURN(UserRecord found, CheckPassword(r, guard, *email, password));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(IssuedToken t,
                        IssueToken(tx, found.user.id, token_name ? *token_name : "login"));
    return Reply{200, {{"user", found.user.ToJson()}, {"token", t.secret}, {"token_id", t.record.id}}};
  });
}

// Dashboard sign-in: the same check as a login, answered with a session
// cookie instead of a token (docs/dashboard.md). No Idempotency-Key replay:
// a replayed answer could not set the cookie again.
Result<Reply> SignIn(Request& r, LoginGuard& guard) {
  FieldReader f(r.body(), {"email", "password"});
  auto email = f.Email("email", true);
  MG_ASSIGN_OR_RETURN(std::string password, PasswordField(f));
  if (!f.ok()) return f.status();
  MG_RETURN_IF_ERROR(CheckSameOrigin(r.Origin()));
  MG_ASSIGN_OR_RETURN(UserRecord found, CheckPassword(r, guard, *email, password));
  // A session this browser held until now ends here: its cookie is about
  // to be replaced, and a session nobody holds should not stay valid.
  std::optional<std::string> replaced;
  if (r.signed_in() && r.by_session()) replaced = r.auth().token.id;
  auto answer = r.store().WriteValue<Reply>([&](Tx& tx) -> Result<Reply> {
    if (replaced) MG_RETURN_IF_ERROR(RevokeToken(tx, r.auth().user.id, *replaced).status());
    MG_ASSIGN_OR_RETURN(Reply reply, StartSession(r, tx, found.user));
    reply.body["user"] = found.user.ToJson();
    return reply;
  });
  if (replaced) return AnnounceRevoked(r, std::move(answer), *replaced);
  return answer;
}


Result<Reply> Logout(Request& r) {
  return AnnounceRevoked(r, r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(TokenRecord t, RevokeToken(tx, r.auth().user.id, r.auth().token.id));
    return Reply{200, {{"revoked", t.ToJson()}}};
  }), r.auth().token.id);
}

// Ends the dashboard session the request came with and clears its cookie.
// Public, so that a cookie the server no longer honours (expired, revoked
// elsewhere) is cleared too instead of answering 401 and staying behind.
Result<Reply> SignOut(Request& r) {
  if (r.Header("Authorization") || (r.signed_in() && !r.by_session()))
    return Status::BadRequest("not_a_session",
                              "this ends a dashboard session; to revoke a token use POST /api/v1/auth/logout");
  // Public routes skip the router's same-origin check: make it here, so
  // another site cannot sign a visitor out either.
  MG_RETURN_IF_ERROR(CheckSameOrigin(r.Origin()));
  Result<Reply> reply = Reply{200, {{"revoked", nullptr}}};
  if (r.signed_in())
    reply = AnnounceRevoked(r, r.store().WriteValue<Reply>([&](Tx& tx) -> Result<Reply> {
      MG_ASSIGN_OR_RETURN(TokenRecord t, RevokeToken(tx, r.auth().user.id, r.auth().token.id));
      return Reply{200, {{"revoked", t.ToJson()}}};
    }), r.auth().token.id);
  if (reply.ok()) {
    // A second session cookie planted under a longer path (browser_session.h)
    // goes too when it sits where such cookies usually do.
    for (const char* path : {"/", "/api", "/api/v1"})
      reply->headers.emplace_back("Set-Cookie", ClearedSessionCookie(r.SecureOrigin(), path));
  }
  return reply;
}

// Signs the caller out of every browser (their tokens stay).
Result<Reply> SignOutEverywhere(Request& r) {
  MG_ASSIGN_OR_RETURN(auto revoked, r.store().WriteValue<std::vector<TokenRecord>>(
                                        [&](Tx& tx) { return RevokeSessions(tx, r.auth().user.id); }));
  if (r.server().bus)
    for (const auto& t : revoked) r.server().bus->PublishTokenRevoked(t.id);
  Reply reply{200, {{"revoked", revoked.size()}}};
  if (r.by_session()) reply.headers.emplace_back("Set-Cookie", ClearedSessionCookie(r.SecureOrigin()));
  return reply;
}

Result<Reply> Me(Request& r) {
  return Reply{200, {{"user", r.auth().user.ToJson()}, {"token", r.auth().token.ToJson()}}};
}

Result<Reply> ListTokens(Request& r) {
  MG_ASSIGN_OR_RETURN(auto tokens, r.store().ReadValue<std::vector<TokenRecord>>(
                                       [&](Tx& tx) { return tx.ListTokens(r.auth().user.id); }));
  json out = json::array();
  for (const auto& t : tokens) {
    json j = t.ToJson();
    j["current"] = t.id == r.auth().token.id;
    out.push_back(std::move(j));
  }
  return Reply{200, {{"tokens", out}}};
}

Result<Reply> CreateToken(Request& r) {
  FieldReader f(r.body(), {"name", "expires_in"});
  auto name = f.Text("name", kName, true);
  // Seconds from now; at most ten years. Absent: the token never expires.
  auto expires_in = f.Integer("expires_in", 1, 10LL * 366 * 86400);
  if (!f.ok()) return f.status();
  std::optional<std::chrono::seconds> lifetime;
  if (expires_in) lifetime = std::chrono::seconds(*expires_in);
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(IssuedToken t, IssueToken(tx, r.auth().user.id, *name, lifetime));
    return Reply{201, TokenReply(t)};
  });
}

Result<Reply> DeleteToken(Request& r) {
  return AnnounceRevoked(r, r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(TokenRecord t, RevokeToken(tx, r.auth().user.id, r.Param("id")));
    return Reply{200, t.ToJson()};
  }), r.Param("id"));
}

}  // namespace

void AddAuthRoutes(Router& router) {
  (void)DummyHash();  // computed at start-up, not on the first login
  router.Add({"POST", "/api/v1/auth/signup", Access::kPublic, {}, "", "Create an account", Signup});
  auto guard = std::make_shared<LoginGuard>(router.context().config);
  if (router.context().bus) router.context().bus->Subscribe(guard.get());
  router.Add({"POST", "/api/v1/auth/login", Access::kPublic, {}, "", "Log in: get a new token",
              [guard](Request& r) { return Login(r, *guard); }});
  router.Add({"POST", "/api/v1/auth/logout", Access::kUser, {}, "", "Revoke the calling token", Logout});
  router.Add({"POST", "/api/v1/auth/session", Access::kPublic, {}, "", "Dashboard sign-in: a session cookie",
              [guard](Request& r) { return SignIn(r, *guard); }});
  router.Add({"DELETE", "/api/v1/auth/session", Access::kPublic, {}, "", "Dashboard sign-out", SignOut});
  router.Add({"DELETE", "/api/v1/auth/sessions", Access::kUser, {}, "", "Sign out of every browser",
              SignOutEverywhere});
  router.Add({"GET", "/api/v1/me", Access::kUser, {}, "", "The caller", Me});
  router.Add({"GET", "/api/v1/tokens", Access::kUser, {}, "", "List your tokens", ListTokens});
  router.Add({"POST", "/api/v1/tokens", Access::kUser, {}, "", "Create a named token", CreateToken});
  router.Add({"DELETE", "/api/v1/tokens/{id}", Access::kUser, {}, "", "Revoke a token", DeleteToken});
}

}  // namespace mgteam::server
