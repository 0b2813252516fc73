// Test support: a replica's view of a workspace against the server's state,
// field by field, and both sides' RowDigest. Used to check convergence: once
// nothing is pending anywhere and every cursor is at the server's head, each
// replica must hold exactly the server's live rows, all of them "synced".
#pragma once

#include "http.h"

#include <map>
#include <string>
#include <vector>

namespace mgteam::test {

// Live (not deleted) rows of one workspace by id, as Memory::ToJson and
// Relationship::ToJson write them. std::map keeps them in id order, the
// order RowDigest wants.
struct Rows {
  std::map<std::string, json> memories;
  std::map<std::string, json> relationships;
  // Replica side only: each row's sync_state ("synced", "pending", "failed").
  std::map<std::string, std::string> sync_state;
};

// The server's live rows, paged through GET .../snapshot (REQUIREs 200s).
Rows ServerRows(Http& http, const std::string& ws, const std::string& token);

// What a replica file shows for `ws` (its local view: the server state with
// pending writes on top), read with the agent's own Replica class. The file
// may be in use by a running agent (SQLite WAL).
Rows ReplicaRows(const std::string& replica_file, const std::string& ws);

// One difference: `field` is a ToJson key, "sync_state", or "(row)" when the
// row exists on one side only (then local or server is "(absent)").
struct RowDiff {
  std::string kind;  // memory | relationship
  std::string id;
  std::string field;
  std::string local;
  std::string server;
};

// Every field of every row, both ways; a local row not "synced" is a
// difference too.
std::vector<RowDiff> DiffRows(const Rows& local, const Rows& server);

// The first `max` differences, one per line, prefixed with `who`.
std::string Describe(const std::string& who, const std::vector<RowDiff>& diffs, size_t max = 20);

// {"memories": {count, digest}, "relationships": {count, digest}} computed
// with RowDigest, the rule GET .../digest uses.
json DigestOf(const Rows& rows);

}  // namespace mgteam::test
