// Memory and relationship changes: versions, tombstones and their events.
// Inputs are already validated (mgteam/validate.h); these functions enforce
// the rules that need the store (existence, versions, references).
#pragma once

#include "domain/change_log.h"
#include "mgteam/validate.h"

namespace mgteam::server {

// `draft` as ParseMemoryCreate returns it. An id already used in the
// workspace is a 409 (already_exists). `draft.updated_at` (set only by an
// import) is kept, clamped between created_at and now.
Result<Memory> CreateMemory(Tx& tx, const Actor& a, const std::string& ws, Memory draft);
// What an update or delete did.
struct ChangeOutcome {
  Memory memory;                   // the memory afterwards (the tombstone, if deleted)
  std::vector<Conflict> conflicts;  // the conflict records it created
  // The update reached a deleted memory: nothing was applied, and the one
  // conflict record keeps the update (the route answers 409 memory_deleted).
  bool hit_tombstone = false;
};

// An update names the version it was based on (`patch.base_version`; none:
// the current one). Based on the current version it applies; based on an
// older one it is merged field by field with what changed since
// (mgteam/merge.h), and values that lost are kept as conflict records. A base
// newer than the memory is a 409 (version_conflict). An update that changes
// nothing and loses nothing appends no event.
Result<ChangeOutcome> UpdateMemory(Tx& tx, const Actor& a, const std::string& ws, const std::string& id,
                                   const MemoryPatch& patch);
// Tombstones the memory and every live relationship touching it (one event
// each). A delete based on an older version still deletes; the changes it
// never saw are kept as a delete_over_update conflict record.
Result<ChangeOutcome> DeleteMemory(Tx& tx, const Actor& a, const std::string& ws, const std::string& id,
                                   std::optional<int64_t> base_version = std::nullopt);
// Undeletes a memory with `patch` applied (resolving a delete conflict).
Result<Memory> RestoreMemory(Tx& tx, const Actor& a, const std::string& ws, const std::string& id,
                             const MemoryPatch& patch);

// `draft.created_at`/`updated_at`, set only by an import, are kept (clamped
// to now); otherwise both are now.
Result<Relationship> CreateRelationship(Tx& tx, const Actor& a, const std::string& ws,
                                        Relationship draft);
Result<Relationship> UpdateRelationship(Tx& tx, const Actor& a, const std::string& ws,
                                        const std::string& id, const RelationshipPatch& patch);
Result<Relationship> DeleteRelationship(Tx& tx, const Actor& a, const std::string& ws,
                                        const std::string& id);

}  // namespace mgteam::server
