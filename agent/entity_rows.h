// EntityRows: the replica's memories and relationships tables, which hold for
// each entity both the local view (the row's columns, what reads return) and
// the server's latest state of it (the `server` column):
//
//   server IS NULL   the entity exists only here (a pending create);
//   server = '='     nothing of ours is pending: the row *is* the server's
//                    state (the common case, stored once);
//   otherwise        the server's state as JSON, and the columns are the view.
//
// Every change goes through two steps: store a server state (version-guarded,
// so an older answer or event never replaces a newer one, whichever arrives
// first), then rewrite the row from the view rule (view.h) with the pending
// ops of that moment. Nothing else writes these tables, so a row is always
// exactly what the rule says (Replica::CheckView proves it).
//
// Not thread-safe: the Replica calls it under its lock, inside a transaction.
#pragma once

#include "outbox.h"

#include "mgteam/model.h"
#include "mgteam/sqlite.h"
#include "mgteam/status.h"

#include <optional>
#include <string>
#include <vector>

namespace mgteam::agent {

class EntityRows {
 public:
  // `user_id` is read at each call (the replica may be re-bound).
  EntityRows(sql::Db& db, Outbox& outbox, const std::string& user_id)
      : db_(db), outbox_(outbox), user_id_(user_id) {}

  // A state from the server (event, snapshot row, write answer). Ignored if
  // the state held is as new or newer; else stored and the view rewritten.
  Status PutServerMemory(const Memory& m);
  Status PutServerRelationship(const Relationship& r);

  // Replaces the server state outright, whatever its version (none: the
  // server has no live entity of that id), and rewrites the view. For
  // `sync verify --repair`.
  Status ReplaceServerMemory(const std::string& ws, const std::string& id, const std::optional<Memory>& m);
  Status ReplaceServerRelationship(const std::string& ws, const std::string& id,
                                   const std::optional<Relationship>& r);

  Result<std::optional<Memory>> ServerMemory(const std::string& ws, const std::string& id);
  Result<std::optional<Relationship>> ServerRelationship(const std::string& ws, const std::string& id);

  // Rewrites the row from the server state and the pending ops.
  Status Recompute(OpKind kind, const std::string& ws, const std::string& id);
  Status RecomputeMemory(const std::string& ws, const std::string& id);
  Status RecomputeRelationship(const std::string& ws, const std::string& id);

  // Every row of `ws` (all workspaces if empty) recomputed from scratch and
  // compared with what is stored; the first mismatches, described.
  Result<std::vector<std::string>> Check(const std::string& ws);

  // The server states held for a workspace's live entities, in id order
  // (what the server's digest covers).
  Result<std::vector<Memory>> ServerMemories(const std::string& ws);
  Result<std::vector<Relationship>> ServerRelationships(const std::string& ws);

 private:
  Status WriteMemory(const std::string& ws, const std::string& id, const std::optional<Memory>& server,
                     const std::vector<OutboxOp>& pending);
  Status WriteRelationship(const std::string& ws, const std::string& id, const std::optional<Relationship>& server,
                           const std::vector<OutboxOp>& pending);

  sql::Db& db_;
  Outbox& outbox_;
  const std::string& user_id_;
};

}  // namespace mgteam::agent
