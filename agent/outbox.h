// Outbox: the writes made on this machine that the server has not accepted
// yet, in the order they were made (docs/team-sync.md, "Offline writes").
// A table in the replica's SQLite file; the Replica owns the connection and
// the transaction, and this class only says how ops are stored.
//
// An op is `pending` until the server accepts it (then it is deleted) or
// refuses it for good (then it is `failed`, kept with the refusal so the
// user can see why, and contributes nothing to the local view).
#pragma once

#include "mgteam/model.h"
#include "mgteam/sqlite.h"
#include "mgteam/status.h"

#include <optional>
#include <string>
#include <vector>

namespace mgteam::agent {

enum class OpKind { kMemoryCreate, kMemoryUpdate, kMemoryDelete, kRelationshipCreate, kRelationshipDelete };
const char* OpKindName(OpKind k);  // "memory.create", ...
std::optional<OpKind> ParseOpKind(std::string_view s);
bool IsMemoryOp(OpKind k);

enum class OpState { kPending, kFailed };
const char* OpStateName(OpState s);  // "pending" | "failed"

struct OutboxOp {
  int64_t seq = 0;        // creation order
  std::string op_id;      // sent as Idempotency-Key, so a resend applies once
  std::string workspace_id;
  OpKind kind = OpKind::kMemoryCreate;
  std::string entity_id;
  json payload;           // the request body
  OpState state = OpState::kPending;
  int attempts = 0;
  std::string last_error;       // "reason: message" of the last failure
  Status refusal;               // a failed op: the server's answer, code included
  std::string next_attempt_at;  // RFC 3339; empty: now
  std::string created_at;
  json ToJson() const;
};

class Outbox {
 public:
  explicit Outbox(sql::Db& db) : db_(db) {}

  // Stores a new pending op (seq and created_at filled in).
  Status Insert(OutboxOp& op);
  Result<std::optional<OutboxOp>> Find(const std::string& op_id);
  // The workspace's oldest pending op.
  Result<std::optional<OutboxOp>> Next(const std::string& ws);
  // An entity's pending ops, oldest first.
  Result<std::vector<OutboxOp>> Pending(const std::string& ws, const std::string& entity_id);
  Result<bool> HasPending(const std::string& ws, const std::string& entity_id);
  // Every op (pending and failed), oldest first; ws "" for all workspaces.
  Result<std::vector<OutboxOp>> All(const std::string& ws = "");
  // The entities with ops (any state) in a workspace, memory ops first.
  Result<std::vector<std::pair<OpKind, std::string>>> Entities(const std::string& ws);
  // kPending if any op of the entity is pending, else kFailed if one failed,
  // else none.
  Result<std::optional<OpState>> EntityState(const std::string& ws, const std::string& entity_id);

  Status Remove(const std::string& op_id);
  Status MarkFailed(const std::string& op_id, const Status& why);
  Status Defer(const std::string& op_id, const std::string& error, const std::string& next_attempt_at);
  Status MarkPending(const std::string& op_id);
  Status SetPayload(const std::string& op_id, const json& payload);
  Status RemoveWorkspace(const std::string& ws);

 private:
  sql::Db& db_;
};

}  // namespace mgteam::agent
