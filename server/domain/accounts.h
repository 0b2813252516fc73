// Accounts and tokens: sign-up (which also creates the user's personal
// workspace), token issue/revoke, and resolving a bearer token to a user.
#pragma once

#include "domain/change_log.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace mgteam::server {

struct NewAccount {
  std::string email;       // as typed (trimmed)
  std::string email_norm;  // lowercased, the unique key
  std::string name;
  std::string password_hash;
};

// Who may sign up: the first user of a server always; later ones only with
// open sign-up or an invitation for that address.
enum class SignupGate { kFirstOrOpen, kInvited };

// The refusals CreateAccount makes before it creates anything: 403
// signup_closed, 409 email_taken. Read-only and cheap, so sign-up checks them
// before hashing the password as well (a closed server must not spend 64 MiB
// and tens of milliseconds on a request it refuses).
Status CheckSignupAllowed(Tx& tx, const NewAccount& a, bool open_signup, SignupGate gate);

// Creates the user and their personal workspace. `open_signup` is the
// server's setting. 409 email_taken if the address has an account.
Result<User> CreateAccount(Tx& tx, const NewAccount& a, bool open_signup, SignupGate gate);

// An access token ("mg_...", sent as a bearer token by the CLI, the agent and
// scripts) or a browser session ("mgs_...", sent only in the dashboard's
// cookie; docs/dashboard.md). Both live in the tokens table, so `mgteam
// token list` shows sessions and revoking works the same for both.
enum class CredentialKind { kToken, kSession };

struct IssuedToken {
  TokenRecord record;
  std::string secret;  // returned to the caller once, never stored
};
// `lifetime`: the token stops working that long from now (none: never).
Result<IssuedToken> IssueToken(Tx& tx, const std::string& user_id, const std::string& name,
                               std::optional<std::chrono::seconds> lifetime = std::nullopt,
                               CredentialKind kind = CredentialKind::kToken);
// Revokes one of the user's tokens; 404 if it is not theirs.
Result<TokenRecord> RevokeToken(Tx& tx, const std::string& user_id, const std::string& token_id);

struct Authenticated {
  User user;
  TokenRecord token;
};
// Revokes every live browser session of the user ("sign out everywhere");
// returns the revoked records.
Result<std::vector<TokenRecord>> RevokeSessions(Tx& tx, const std::string& user_id);

// Resolves a secret of the given kind to its live token and user; 401 with a
// message that says what to do otherwise. A session secret is not a bearer
// token, nor a token a session.
Result<Authenticated> Authenticate(Tx& tx, const std::string& secret,
                                   CredentialKind kind = CredentialKind::kToken);

}  // namespace mgteam::server
