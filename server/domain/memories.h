// Memory and relationship changes: versions, tombstones and their events.
// Inputs are already validated (mgteam/validate.h); these functions enforce
// the rules that need the store (existence, versions, references).
#pragma once

#include "domain/change_log.h"
#include "mgteam/validate.h"

namespace mgteam::server {

// `draft` as ParseMemoryCreate returns it. An id already used in the
// workspace is a 409 (already_exists).
Result<Memory> CreateMemory(Tx& tx, const Actor& a, const std::string& ws, Memory draft);
// A stale base_version is a 409 (version_conflict) naming the current version;
// an update of a deleted memory is a 409 (memory_deleted). An update that
// changes nothing returns the memory as it is and appends no event.
Result<Memory> UpdateMemory(Tx& tx, const Actor& a, const std::string& ws, const std::string& id,
                            const MemoryPatch& patch);
// Tombstones the memory and every live relationship touching it (one event
// each).
Result<Memory> DeleteMemory(Tx& tx, const Actor& a, const std::string& ws, const std::string& id);

Result<Relationship> CreateRelationship(Tx& tx, const Actor& a, const std::string& ws,
                                        Relationship draft);
Result<Relationship> UpdateRelationship(Tx& tx, const Actor& a, const std::string& ws,
                                        const std::string& id, const RelationshipPatch& patch);
Result<Relationship> DeleteRelationship(Tx& tx, const Actor& a, const std::string& ws,
                                        const std::string& id);

}  // namespace mgteam::server
