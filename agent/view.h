// The local view rule (docs/team-sync.md, "What a replica shows"): what this
// machine shows for an entity is the server's latest state of it with the
// entity's *pending* ops replayed on top, in the order they were made.
// Failed and completed ops contribute nothing. Pure functions, so the rule is
// tested without a database and the replica can recompute any row from
// scratch to check itself (Replica::CheckView).
#pragma once

#include "outbox.h"

#include "mgteam/model.h"

#include <optional>
#include <span>
#include <string>

namespace mgteam::agent {

// `server`: the server's state (none while the memory exists only here).
// `pending`: the memory's pending ops, oldest first. `user_id`: who made them.
// None: nothing to show (no server state and no pending create).
std::optional<Memory> MemoryView(const std::string& ws, std::optional<Memory> server,
                                 std::span<const OutboxOp> pending, const std::string& user_id);

std::optional<Relationship> RelationshipView(const std::string& ws, std::optional<Relationship> server,
                                             std::span<const OutboxOp> pending, const std::string& user_id);

// The first field in which two memories (or relationships) differ, "" if
// none: every field of their JSON forms is compared.
std::string FirstDifference(const json& a, const json& b);

}  // namespace mgteam::agent
