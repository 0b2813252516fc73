#include "domain/accounts.h"

#include "auth.h"
#include "domain/workspaces.h"
#include "mgteam/clock.h"
#include "mgteam/ids.h"

namespace mgteam::server {

Status CheckSignupAllowed(Tx& tx, const NewAccount& a, bool open_signup, SignupGate gate) {
  if (gate == SignupGate::kFirstOrOpen && !open_signup) {
    MG_ASSIGN_OR_RETURN(int64_t users, tx.CountUsers());
    if (users > 0)
      return Status(Code::kPermissionDenied, "signup_closed",
                    "sign-up on this server needs an invitation; ask a team owner to run "
                    "`mgteam invite " + a.email + "`");
  }
  MG_ASSIGN_OR_RETURN(auto existing, tx.FindUserByEmail(a.email_norm));
  if (existing)
    return Status::Conflict("email_taken",
                            "an account with this email already exists; use `mgteam login`");
  return Status::Ok();
}

Result<User> CreateAccount(Tx& tx, const NewAccount& a, bool open_signup, SignupGate gate) {
  // "Am I the first user?" and "is this email free?" must hold at commit.
  MG_RETURN_IF_ERROR(tx.Lock(LockKey::Accounts()));
  MG_RETURN_IF_ERROR(CheckSignupAllowed(tx, a, open_signup, gate));
  UserRecord rec;
  rec.user.id = NewUuidV7();
  rec.user.email = a.email;
  rec.user.name = a.name;
  rec.user.created_at = NowRfc3339();
  rec.email_norm = a.email_norm;
  rec.password_hash = a.password_hash;
  MG_RETURN_IF_ERROR(tx.InsertUser(rec));
  MG_RETURN_IF_ERROR(CreatePersonalWorkspace(tx, rec.user).status());
  return rec.user;
}

Result<IssuedToken> IssueToken(Tx& tx, const std::string& user_id, const std::string& name,
                               std::optional<std::chrono::seconds> lifetime, CredentialKind kind) {
  MintedToken minted = MintToken(kind == CredentialKind::kSession ? "mgs_" : "mg_");
  IssuedToken out;
  out.secret = minted.secret;
  out.record.id = NewUuidV7();
  out.record.user_id = user_id;
  out.record.name = name;
  out.record.hash = minted.hash;
  out.record.prefix = minted.prefix;
  const TimePoint now = Now();
  out.record.created_at = FormatRfc3339(now);
  if (lifetime) out.record.expires_at = FormatRfc3339(now + *lifetime);
  MG_RETURN_IF_ERROR(tx.InsertToken(out.record));
  return out;
}

Result<TokenRecord> RevokeToken(Tx& tx, const std::string& user_id, const std::string& token_id) {
  MG_ASSIGN_OR_RETURN(auto tokens, tx.ListTokens(user_id));
  for (auto& t : tokens) {
    if (t.id != token_id) continue;
    if (t.revoked_at) return Status::NotFound("token " + token_id + " is already revoked");
    t.revoked_at = NowRfc3339();
    MG_RETURN_IF_ERROR(tx.UpdateToken(t));
    return t;
  }
  return Status::NotFound("you have no token " + token_id + "; see `mgteam token list`");
}

Result<std::vector<TokenRecord>> RevokeSessions(Tx& tx, const std::string& user_id) {
  MG_ASSIGN_OR_RETURN(auto tokens, tx.ListTokens(user_id));
  std::vector<TokenRecord> revoked;
  const std::string now = NowRfc3339();
  for (auto& t : tokens) {
    if (!t.session() || t.revoked_at || t.expired(now)) continue;
    t.revoked_at = now;
    MG_RETURN_IF_ERROR(tx.UpdateToken(t));
    revoked.push_back(t);
  }
  return revoked;
}

Result<Authenticated> Authenticate(Tx& tx, const std::string& secret, CredentialKind kind) {
  const bool session = kind == CredentialKind::kSession;
  const Status invalid =
      session ? Status(Code::kUnauthenticated, "session_ended",
                       "your dashboard session has ended (signed out, revoked or expired); sign in again")
              : Status::Unauthenticated(
                    "the token is not valid (revoked, mistyped, or for another server); run `mgteam login`");
  if (secret.rfind(session ? "mgs_" : "mg_", 0) != 0 || secret.size() > 200) return invalid;
  std::string hash = HashSecret(secret);
  MG_ASSIGN_OR_RETURN(auto token, tx.FindTokenByHash(hash));
  // The lookup is by hash; comparing again in constant time costs nothing and
  // keeps the guarantee independent of how the store implements the lookup.
  if (!token || !ConstantTimeEquals(token->hash, hash) || token->revoked_at) return invalid;
  if (token->expired(NowRfc3339()))
    return session ? invalid : Status(Code::kUnauthenticated, "token_expired",
                  "the token '" + token->name + "' expired at " + *token->expires_at +
                      "; create a new one (mgteam token create) or log in again");
  MG_ASSIGN_OR_RETURN(auto user, tx.FindUser(token->user_id));
  if (!user) return invalid;
  return Authenticated{std::move(*user), std::move(*token)};
}

}  // namespace mgteam::server
