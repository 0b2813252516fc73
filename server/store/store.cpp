// What every Store implementation shares: the names of unique-key
// violations, and the token record's derived fields.
#include "store/store.h"

#include <array>
#include <utility>

namespace mgteam::server {

Status UniqueViolation(std::string_view constraint, std::string detail) {
  // Matched by prefix: SQLite names "table.column", PostgreSQL names
  // "table_column_key" or "table_pkey".
  struct Name {
    std::string_view prefix;
    std::string_view reason;
    std::string_view message;
  };
  static constexpr std::array<Name, 9> kNames = {{
      {"users", "email_taken", "an account with this email already exists; use `mgteam login`"},
      {"workspaces_slug", "slug_taken", "another workspace already has this slug; choose another"},
      {"workspaces.slug", "slug_taken", "another workspace already has this slug; choose another"},
      {"memories", "already_exists", "a memory with this id already exists"},
      {"relationships", "already_exists", "a relationship with this id already exists"},
      {"conflicts", "already_exists", "a conflict record with this id already exists"},
      {"memberships", "already_member", "this user is already a member"},
      {"idempotency", "idempotency_key_in_use", "this Idempotency-Key is being used by another request; retry"},
      {"tokens", "token_collision", "a token with this secret already exists; retry"},
  }};
  for (const Name& n : kNames)
    if (constraint.substr(0, n.prefix.size()) == n.prefix)
      return Status::Conflict(std::string(n.reason), std::string(n.message));
  return Status::Conflict("duplicate", "this already exists (" + std::move(detail) + ")");
}

json TokenRecord::ToJson() const {
  return {{"id", id},
          {"name", name},
          {"kind", session() ? "session" : "token"},
          {"prefix", prefix},
          {"created_at", created_at},
          {"last_used_at", last_used_at ? json(*last_used_at) : json(nullptr)},
          {"revoked_at", revoked_at ? json(*revoked_at) : json(nullptr)},
          {"expires_at", expires_at ? json(*expires_at) : json(nullptr)}};
}

// Both sides are FormatRfc3339 output (UTC, fixed width), so text order is
// time order.
bool TokenRecord::expired(const std::string& now_rfc3339) const { return expires_at && *expires_at <= now_rfc3339; }

}  // namespace mgteam::server
