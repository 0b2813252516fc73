// Row mapping for memories and relationships, shared by the server's store
// and the client replica, which keep them in the same columns.
#pragma once

#include "mgteam/model.h"
#include "mgteam/sqlite.h"

namespace mgteam::sql {

// Column lists in the order the readers expect.
inline constexpr const char* kMemoryColumns =
    "workspace_id, id, type, title, content, summary, tags, importance, confidence, context, "
    "created_by, updated_by, created_at, updated_at, version, deleted";
inline constexpr const char* kRelationshipColumns =
    "workspace_id, id, from_memory_id, to_memory_id, type, strength, confidence, context, "
    "evidence_count, created_by, updated_by, created_at, updated_at, version, deleted";

// A column list above with each column qualified: ("a, b", "m") -> "m.a, m.b".
std::string Qualified(const char* columns, const char* alias);

// Reads the columns above, starting at column `first`.
Memory ReadMemoryRow(Stmt& q, int first = 0);
Relationship ReadRelationshipRow(Stmt& q, int first = 0);

// Binds the columns above to parameters first..first+15 / first..first+14.
void BindMemoryRow(Stmt& q, const Memory& m, int first = 1);
void BindRelationshipRow(Stmt& q, const Relationship& r, int first = 1);

// JSON stored in a TEXT column, or `fallback` if unreadable.
nlohmann::json ParseStoredJson(const std::string& s, nlohmann::json fallback);
std::string DumpJson(const nlohmann::json& j);

}  // namespace mgteam::sql
