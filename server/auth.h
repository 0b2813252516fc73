// Credentials: password hashing (argon2id via libsodium), token minting and
// hashing, and constant-time comparison. Tokens look like "mg_<48 hex>" so
// secret scanners recognise them; only their SHA-256 is ever stored.
#pragma once

#include "mgteam/status.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace mgteam::server {

// Must be called once before any other function here (idempotent).
Status InitCrypto();

// argon2id in libsodium's self-describing string format. Slow on purpose
// (~64 MiB, tens of milliseconds): never call while holding the store's
// writer lock. At most PasswordHashConcurrency() hashes and verifications run
// at once; further callers wait their turn, first come first served, so the
// memory they take is bounded however many logins arrive together.
Result<std::string> HashPassword(std::string_view password);
bool VerifyPassword(const std::string& hash, std::string_view password);

// The bound on concurrent hashes: min(4, cores) unless set. argon2id here is
// single-threaded, so running more at once than there are cores only adds
// memory (64 MiB each), never throughput. Set it before serving.
void SetPasswordHashConcurrency(int n);
int PasswordHashConcurrency();
int DefaultPasswordHashConcurrency();
// Hashes running, callers waiting for a turn, and hashes started since the
// process began (for /metrics and the tests that prove a refusal hashed nothing).
struct PasswordHashLoad {
  int running = 0;
  int waiting = 0;
  uint64_t started = 0;
};
PasswordHashLoad CurrentPasswordHashLoad();

struct MintedToken {
  std::string secret;  // shown to the user once
  std::string hash;    // stored
  std::string prefix;  // stored, for display ("mg_1a2b3c")
};
MintedToken MintToken(std::string_view kind_prefix = "mg_");
// Hex SHA-256.
std::string HashSecret(std::string_view secret);
std::string HashHex(std::string_view data);  // generic hash, hex
// Constant-time equality of two equal-length strings (false if lengths differ).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Authenticated encryption with a key derived from `key_material` (used for
// stored idempotent answers: only a client holding the original request can
// derive the key).
std::string Seal(std::string_view plaintext, std::string_view key_material);
Result<std::string> Unseal(std::string_view sealed, std::string_view key_material);

}  // namespace mgteam::server
