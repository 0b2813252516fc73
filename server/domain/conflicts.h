// Conflict records: keeping what lost a merge, and resolving it
// (docs/conflicts.md, ADR 0005).
#pragma once

#include "domain/change_log.h"

#include <vector>

namespace mgteam::server {

// Stores each record (open) and appends a `conflict_created` event for it.
// `seq` is the event that decided the conflict (0: the conflict_created
// event itself, for an update that reached a deleted memory).
Result<std::vector<Conflict>> RecordConflicts(Tx& tx, const Actor& a, std::vector<Conflict> records, int64_t seq);

// How to resolve: keep the value in place ("current"), restore the value that
// lost ("lost"), or put `value` in ("value"). For the delete kinds, "lost" and
// "value" (an object of memory fields) restore the memory.
struct Resolution {
  std::string keep;
  json value;
};
Result<Resolution> ParseResolution(const json& body);

struct Resolved {
  Conflict conflict;
  Memory memory;
};
// Resolving is an ordinary versioned change of the memory (when it changes
// anything) followed by a `conflict_resolved` event. A resolved conflict is a
// 409 (conflict_resolved).
Result<Resolved> ResolveConflict(Tx& tx, const Actor& a, const std::string& ws, const std::string& id,
                                 const Resolution& how);

}  // namespace mgteam::server
