#include "outbox.h"

#include "mgteam/clock.h"
#include "mgteam/sql_rows.h"

#include <array>

namespace mgteam::agent {
namespace {

constexpr std::array<std::pair<OpKind, const char*>, 5> kKinds = {{
    {OpKind::kMemoryCreate, "memory.create"},
    {OpKind::kMemoryUpdate, "memory.update"},
    {OpKind::kMemoryDelete, "memory.delete"},
    {OpKind::kRelationshipCreate, "relationship.create"},
    {OpKind::kRelationshipDelete, "relationship.delete"},
}};

const std::string kColumns =
    "seq, op_id, workspace_id, kind, entity_id, payload, state, attempts, last_error, next_attempt_at, "
    "created_at, error_status, error_reason";

OutboxOp ReadOp(sql::Stmt& q) {
  OutboxOp op;
  op.seq = q.Int(0);
  op.op_id = q.Text(1);
  op.workspace_id = q.Text(2);
  // The table's CHECK constraints keep kind and state to the known names.
  op.kind = ParseOpKind(q.Text(3)).value_or(OpKind::kMemoryCreate);
  op.entity_id = q.Text(4);
  op.payload = sql::ParseStoredJson(q.Text(5), json::object());
  op.state = q.Text(6) == "failed" ? OpState::kFailed : OpState::kPending;
  op.attempts = static_cast<int>(q.Int(7));
  op.last_error = q.Text(8);
  op.next_attempt_at = q.Text(9);
  op.created_at = q.Text(10);
  if (op.state == OpState::kFailed) {
    // Failed before the refusal's status was stored: an unnamed refusal.
    int http = static_cast<int>(q.Int(11));
    std::string reason = q.Text(12);
    op.refusal = Status(http ? CodeForHttpStatus(http) : Code::kInvalid, reason.empty() ? "refused" : reason,
                        op.last_error);
  }
  return op;
}

}  // namespace

const char* OpKindName(OpKind k) {
  for (const auto& [kind, name] : kKinds)
    if (kind == k) return name;
  return "memory.create";
}

std::optional<OpKind> ParseOpKind(std::string_view s) {
  for (const auto& [kind, name] : kKinds)
    if (s == name) return kind;
  return std::nullopt;
}

bool IsMemoryOp(OpKind k) {
  return k == OpKind::kMemoryCreate || k == OpKind::kMemoryUpdate || k == OpKind::kMemoryDelete;
}

const char* OpStateName(OpState s) { return s == OpState::kFailed ? "failed" : "pending"; }

json OutboxOp::ToJson() const {
  json j = {{"op_id", op_id},           {"workspace_id", workspace_id}, {"kind", OpKindName(kind)},
            {"entity_id", entity_id},   {"state", OpStateName(state)},  {"attempts", attempts},
            {"last_error", last_error}, {"next_attempt_at", next_attempt_at}, {"created_at", created_at}};
  if (state == OpState::kFailed) j["refusal"] = {{"code", refusal.reason()}, {"status", HttpStatusFor(refusal.code())}};
  return j;
}

Status Outbox::Insert(OutboxOp& op) {
  if (op.created_at.empty()) op.created_at = NowRfc3339();
  MG_RETURN_IF_ERROR(db_.Run(
      "INSERT INTO outbox(op_id, workspace_id, kind, entity_id, payload, created_at) VALUES(?, ?, ?, ?, ?, ?)",
      op.op_id, op.workspace_id, OpKindName(op.kind), op.entity_id, sql::DumpJson(op.payload), op.created_at));
  op.seq = sqlite3_last_insert_rowid(db_.raw());
  op.state = OpState::kPending;
  return Status::Ok();
}

Result<std::optional<OutboxOp>> Outbox::Find(const std::string& op_id) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kColumns + " FROM outbox WHERE op_id = ?"));
  q->BindAll(op_id);
  std::optional<OutboxOp> out;
  if (q->Step()) out = ReadOp(*q);
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Result<std::optional<OutboxOp>> Outbox::Next(const std::string& ws) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kColumns +
                                           " FROM outbox WHERE workspace_id = ? AND state = 'pending' "
                                           "ORDER BY seq LIMIT 1"));
  q->BindAll(ws);
  std::optional<OutboxOp> out;
  if (q->Step()) out = ReadOp(*q);
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Result<std::vector<OutboxOp>> Outbox::Pending(const std::string& ws, const std::string& entity_id) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kColumns +
                                           " FROM outbox WHERE workspace_id = ? AND entity_id = ? "
                                           "AND state = 'pending' ORDER BY seq"));
  q->BindAll(ws, entity_id);
  std::vector<OutboxOp> ops;
  while (q->Step()) ops.push_back(ReadOp(*q));
  MG_RETURN_IF_ERROR(q->status());
  return ops;
}

Result<bool> Outbox::HasPending(const std::string& ws, const std::string& entity_id) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT 1 FROM outbox WHERE workspace_id = ? AND entity_id = ? "
                                           "AND state = 'pending' LIMIT 1"));
  q->BindAll(ws, entity_id);
  bool found = q->Step();
  MG_RETURN_IF_ERROR(q->status());
  return found;
}

Result<std::vector<OutboxOp>> Outbox::All(const std::string& ws) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kColumns +
                                           " FROM outbox WHERE ?1 = '' OR workspace_id = ?1 ORDER BY seq"));
  q->Bind(1, ws);
  std::vector<OutboxOp> out;
  while (q->Step()) out.push_back(ReadOp(*q));
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Result<std::vector<std::pair<OpKind, std::string>>> Outbox::Entities(const std::string& ws) {
  // Memories first: a relationship's view does not depend on them, but a
  // reader sees a consistent order.
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT kind, entity_id FROM outbox WHERE workspace_id = ? "
                                           "GROUP BY entity_id ORDER BY kind NOT LIKE 'memory.%', min(seq)"));
  q->BindAll(ws);
  std::vector<std::pair<OpKind, std::string>> out;
  while (q->Step())
    if (auto k = ParseOpKind(q->Text(0))) out.emplace_back(*k, q->Text(1));
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Result<std::optional<OpState>> Outbox::EntityState(const std::string& ws, const std::string& entity_id) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT max(state = 'pending'), max(state = 'failed') FROM outbox "
                                           "WHERE workspace_id = ? AND entity_id = ?"));
  q->BindAll(ws, entity_id);
  std::optional<OpState> s;
  if (q->Step()) {
    if (!q->IsNull(0) && q->Int(0)) s = OpState::kPending;
    else if (!q->IsNull(1) && q->Int(1)) s = OpState::kFailed;
  }
  MG_RETURN_IF_ERROR(q->status());
  return s;
}

Status Outbox::Remove(const std::string& op_id) { return db_.Run("DELETE FROM outbox WHERE op_id = ?", op_id); }

Status Outbox::MarkFailed(const std::string& op_id, const Status& why) {
  return db_.Run("UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, error_status = ?, "
                 "error_reason = ? WHERE op_id = ?",
                 why.reason() + ": " + why.message(), HttpStatusFor(why.code()), why.reason(), op_id);
}

Status Outbox::Defer(const std::string& op_id, const std::string& error, const std::string& next_attempt_at) {
  return db_.Run("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE op_id = ?",
                 error, next_attempt_at, op_id);
}

Status Outbox::MarkPending(const std::string& op_id) {
  return db_.Run("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = '', error_status = 0, "
                 "error_reason = '' WHERE op_id = ?", op_id);
}

Status Outbox::SetPayload(const std::string& op_id, const json& payload) {
  return db_.Run("UPDATE outbox SET payload = ? WHERE op_id = ?", sql::DumpJson(payload), op_id);
}

Status Outbox::RemoveWorkspace(const std::string& ws) {
  return db_.Run("DELETE FROM outbox WHERE workspace_id = ?", ws);
}

}  // namespace mgteam::agent
