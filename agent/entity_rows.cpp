#include "entity_rows.h"

#include "view.h"

#include "mgteam/sql_rows.h"

namespace mgteam::agent {
namespace {

const std::string kMemoryValues = "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const std::string kRelationshipValues = "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

// Every column but the key, so one upsert writes a whole row.
const std::string kMemorySet =
    "ON CONFLICT(workspace_id, id) DO UPDATE SET type = excluded.type, title = excluded.title, "
    "content = excluded.content, summary = excluded.summary, tags = excluded.tags, "
    "importance = excluded.importance, confidence = excluded.confidence, context = excluded.context, "
    "created_by = excluded.created_by, updated_by = excluded.updated_by, created_at = excluded.created_at, "
    "updated_at = excluded.updated_at, version = excluded.version, deleted = excluded.deleted, "
    "server = excluded.server";
const std::string kRelationshipSet =
    "ON CONFLICT(workspace_id, id) DO UPDATE SET from_memory_id = excluded.from_memory_id, "
    "to_memory_id = excluded.to_memory_id, type = excluded.type, strength = excluded.strength, "
    "confidence = excluded.confidence, context = excluded.context, evidence_count = excluded.evidence_count, "
    "created_by = excluded.created_by, updated_by = excluded.updated_by, created_at = excluded.created_at, "
    "updated_at = excluded.updated_at, version = excluded.version, deleted = excluded.deleted, "
    "server = excluded.server";

// The version of the server state a row holds: NULL when it holds none.
const std::string kHeldVersion = "CASE WHEN server IS NULL THEN NULL WHEN server = '=' THEN version "
                                 "ELSE json_extract(server, '$.version') END";

// With nothing pending the row is the server state itself: one guarded
// upsert does it (the path almost every event takes).
const std::string kFastGuard =
    " WHERE memories.server IS NULL OR (memories.server = '=' AND memories.version < excluded.version) OR "
    "(memories.server <> '=' AND json_extract(memories.server, '$.version') < excluded.version)";

std::string Describe(const char* what, const std::string& ws, const std::string& id, const std::string& problem) {
  return std::string(what) + " " + id + " in " + ws + ": " + problem;
}

}  // namespace

Result<std::optional<Memory>> EntityRows::ServerMemory(const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT server, " + std::string(sql::kMemoryColumns) +
                                           " FROM memories WHERE workspace_id = ? AND id = ?"));
  q->BindAll(ws, id);
  std::optional<Memory> out;
  if (q->Step() && !q->IsNull(0)) {
    std::string server = q->Text(0);
    out = server == "=" ? std::optional<Memory>(sql::ReadMemoryRow(*q, 1))
                        : Memory::FromJson(sql::ParseStoredJson(server, json()));
  }
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Result<std::optional<Relationship>> EntityRows::ServerRelationship(const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT server, " + std::string(sql::kRelationshipColumns) +
                                           " FROM relationships WHERE workspace_id = ? AND id = ?"));
  q->BindAll(ws, id);
  std::optional<Relationship> out;
  if (q->Step() && !q->IsNull(0)) {
    std::string server = q->Text(0);
    out = server == "=" ? std::optional<Relationship>(sql::ReadRelationshipRow(*q, 1))
                        : Relationship::FromJson(sql::ParseStoredJson(server, json()));
  }
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Status EntityRows::PutServerMemory(const Memory& m) {
  MG_ASSIGN_OR_RETURN(bool pending, outbox_.HasPending(m.workspace_id, m.id));
  if (!pending) {
    MG_ASSIGN_OR_RETURN(auto up, db_.Prepared("INSERT INTO memories(" + std::string(sql::kMemoryColumns) +
                                              ", server) " + kMemoryValues + " " + kMemorySet + kFastGuard));
    sql::BindMemoryRow(*up, m);
    up->Bind(17, "=");
    return up->Run();
  }
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kHeldVersion +
                                             " FROM memories WHERE workspace_id = ? AND id = ?"));
    q->BindAll(m.workspace_id, m.id);
    if (q->Step() && !q->IsNull(0) && q->Int(0) >= m.version) return Status::Ok();  // not newer
    MG_RETURN_IF_ERROR(q->status());
  }
  MG_ASSIGN_OR_RETURN(std::vector<OutboxOp> ops, outbox_.Pending(m.workspace_id, m.id));
  return WriteMemory(m.workspace_id, m.id, m, ops);
}

Status EntityRows::PutServerRelationship(const Relationship& r) {
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kHeldVersion +
                                             " FROM relationships WHERE workspace_id = ? AND id = ?"));
    q->BindAll(r.workspace_id, r.id);
    if (q->Step() && !q->IsNull(0) && q->Int(0) >= r.version) return Status::Ok();
    MG_RETURN_IF_ERROR(q->status());
  }
  MG_ASSIGN_OR_RETURN(std::vector<OutboxOp> ops, outbox_.Pending(r.workspace_id, r.id));
  return WriteRelationship(r.workspace_id, r.id, r, ops);
}

Status EntityRows::ReplaceServerMemory(const std::string& ws, const std::string& id, const std::optional<Memory>& m) {
  MG_ASSIGN_OR_RETURN(std::vector<OutboxOp> ops, outbox_.Pending(ws, id));
  return WriteMemory(ws, id, m, ops);
}

Status EntityRows::ReplaceServerRelationship(const std::string& ws, const std::string& id,
                                             const std::optional<Relationship>& r) {
  MG_ASSIGN_OR_RETURN(std::vector<OutboxOp> ops, outbox_.Pending(ws, id));
  return WriteRelationship(ws, id, r, ops);
}

Status EntityRows::Recompute(OpKind kind, const std::string& ws, const std::string& id) {
  return IsMemoryOp(kind) ? RecomputeMemory(ws, id) : RecomputeRelationship(ws, id);
}

Status EntityRows::RecomputeMemory(const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(std::optional<Memory> server, ServerMemory(ws, id));
  MG_ASSIGN_OR_RETURN(std::vector<OutboxOp> ops, outbox_.Pending(ws, id));
  return WriteMemory(ws, id, server, ops);
}

Status EntityRows::RecomputeRelationship(const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(std::optional<Relationship> server, ServerRelationship(ws, id));
  MG_ASSIGN_OR_RETURN(std::vector<OutboxOp> ops, outbox_.Pending(ws, id));
  return WriteRelationship(ws, id, server, ops);
}

// The whole row, from the rule: with nothing pending, the server state
// itself ('='); else the view, with the server state kept beside it.
Status EntityRows::WriteMemory(const std::string& ws, const std::string& id, const std::optional<Memory>& server,
                               const std::vector<OutboxOp>& pending) {
  std::optional<Memory> view = MemoryView(ws, server, pending, user_id_);
  if (!view) return db_.Run("DELETE FROM memories WHERE workspace_id = ? AND id = ?", ws, id);
  MG_ASSIGN_OR_RETURN(auto up, db_.Prepared("INSERT INTO memories(" + std::string(sql::kMemoryColumns) +
                                            ", server) " + kMemoryValues + " " + kMemorySet));
  sql::BindMemoryRow(*up, *view);
  if (pending.empty()) up->Bind(17, "=");
  else if (server) up->Bind(17, sql::DumpJson(server->ToJson()));
  else up->Bind(17, nullptr);
  return up->Run();
}

Status EntityRows::WriteRelationship(const std::string& ws, const std::string& id,
                                     const std::optional<Relationship>& server, const std::vector<OutboxOp>& pending) {
  std::optional<Relationship> view = RelationshipView(ws, server, pending, user_id_);
  if (!view) return db_.Run("DELETE FROM relationships WHERE workspace_id = ? AND id = ?", ws, id);
  MG_ASSIGN_OR_RETURN(auto up, db_.Prepared("INSERT INTO relationships(" + std::string(sql::kRelationshipColumns) +
                                            ", server) " + kRelationshipValues + " " + kRelationshipSet));
  sql::BindRelationshipRow(*up, *view);
  if (pending.empty()) up->Bind(16, "=");
  else if (server) up->Bind(16, sql::DumpJson(server->ToJson()));
  else up->Bind(16, nullptr);
  return up->Run();
}

Result<std::vector<std::string>> EntityRows::Check(const std::string& ws) {
  constexpr size_t kMaxReported = 20;
  std::vector<std::string> problems;
  // Every row, and every entity with pending ops (a pending create must have
  // a row), recomputed from its server state and pending ops.
  struct Key {
    bool memory;
    std::string ws, id;
  };
  std::vector<Key> keys;
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared(
                                    "SELECT 1, workspace_id, id FROM memories WHERE ?1 = '' OR workspace_id = ?1 "
                                    "UNION SELECT 0, workspace_id, id FROM relationships WHERE ?1 = '' OR workspace_id = ?1 "
                                    "UNION SELECT kind LIKE 'memory.%', workspace_id, entity_id FROM outbox "
                                    "WHERE state = 'pending' AND (?1 = '' OR workspace_id = ?1)"));
    q->Bind(1, ws);
    while (q->Step()) keys.push_back({q->Int(0) != 0, q->Text(1), q->Text(2)});
    MG_RETURN_IF_ERROR(q->status());
  }
  for (const auto& k : keys) {
    if (problems.size() >= kMaxReported) break;
    MG_ASSIGN_OR_RETURN(std::vector<OutboxOp> ops, outbox_.Pending(k.ws, k.id));
    const char* what = k.memory ? "memory" : "relationship";
    const char* table = k.memory ? "memories" : "relationships";
    std::optional<json> expected, stored;
    std::string marker;
    bool has_marker = false;
    {
      MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT server, " +
                                               std::string(k.memory ? sql::kMemoryColumns : sql::kRelationshipColumns) +
                                               " FROM " + table + " WHERE workspace_id = ? AND id = ?"));
      q->BindAll(k.ws, k.id);
      if (q->Step()) {
        has_marker = !q->IsNull(0);
        marker = has_marker ? q->Text(0) : "";
        stored = k.memory ? sql::ReadMemoryRow(*q, 1).ToJson() : sql::ReadRelationshipRow(*q, 1).ToJson();
      }
      MG_RETURN_IF_ERROR(q->status());
    }
    if (k.memory) {
      MG_ASSIGN_OR_RETURN(auto server, ServerMemory(k.ws, k.id));
      if (auto v = MemoryView(k.ws, server, ops, user_id_)) expected = v->ToJson();
    } else {
      MG_ASSIGN_OR_RETURN(auto server, ServerRelationship(k.ws, k.id));
      if (auto v = RelationshipView(k.ws, server, ops, user_id_)) expected = v->ToJson();
    }
    if (!expected && stored) {
      problems.push_back(Describe(what, k.ws, k.id, "a row is stored but the rule says none"));
    } else if (expected && !stored) {
      problems.push_back(Describe(what, k.ws, k.id, "the rule gives a row but none is stored"));
    } else if (expected && stored) {
      if (std::string field = FirstDifference(*expected, *stored); !field.empty())
        problems.push_back(Describe(what, k.ws, k.id,
                                    "field '" + field + "' is " + (stored->contains(field) ? (*stored)[field].dump() : "absent") +
                                        ", the rule gives " +
                                        (expected->contains(field) ? (*expected)[field].dump() : "absent")));
      else if (ops.empty() && marker != "=")
        problems.push_back(Describe(what, k.ws, k.id, "nothing is pending but the row is not marked as the server's"));
      else if (!ops.empty() && marker == "=")
        problems.push_back(Describe(what, k.ws, k.id, "ops are pending but the row is marked as the server's"));
    }
  }
  // The search index must hold exactly the rows' text.
  Status fts = db_.Exec("INSERT INTO memories_fts(memories_fts, rank) VALUES('integrity-check', 1)");
  if (!fts.ok() && problems.size() < kMaxReported)
    problems.push_back("the search index does not match the memories: " + fts.message());
  return problems;
}

Result<std::vector<Memory>> EntityRows::ServerMemories(const std::string& ws) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT server, " + std::string(sql::kMemoryColumns) +
                                           " FROM memories WHERE workspace_id = ? AND server IS NOT NULL ORDER BY id"));
  q->BindAll(ws);
  std::vector<Memory> out;
  while (q->Step()) {
    std::string server = q->Text(0);
    std::optional<Memory> m = server == "=" ? std::optional<Memory>(sql::ReadMemoryRow(*q, 1))
                                            : Memory::FromJson(sql::ParseStoredJson(server, json()));
    if (m && !m->deleted) out.push_back(std::move(*m));
  }
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Result<std::vector<Relationship>> EntityRows::ServerRelationships(const std::string& ws) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT server, " + std::string(sql::kRelationshipColumns) +
                                           " FROM relationships WHERE workspace_id = ? AND server IS NOT NULL "
                                           "ORDER BY id"));
  q->BindAll(ws);
  std::vector<Relationship> out;
  while (q->Step()) {
    std::string server = q->Text(0);
    std::optional<Relationship> r = server == "=" ? std::optional<Relationship>(sql::ReadRelationshipRow(*q, 1))
                                                  : Relationship::FromJson(sql::ParseStoredJson(server, json()));
    if (r && !r->deleted) out.push_back(std::move(*r));
  }
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

}  // namespace mgteam::agent
