#include "replica.h"

#include "replica_schema.h"

#include "mgteam/clock.h"
#include "mgteam/digest.h"
#include "mgteam/ids.h"
#include "mgteam/sql_rows.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

namespace mgteam::agent {

namespace {

const std::string kWorkspaceColumns =
    "id, name, slug, kind, role, epoch, cursor, head_seq, synced, last_sync_at, last_error";

ReplicaWorkspace ReadWorkspace(sql::Stmt& q) {
  ReplicaWorkspace w;
  w.id = q.Text(0);
  w.name = q.Text(1);
  w.slug = q.Text(2);
  w.kind = q.Text(3);
  w.role = q.Text(4);
  w.epoch = q.Text(5);
  w.cursor = q.Int(6);
  w.head_seq = q.Int(7);
  w.synced = q.Int(8) != 0;
  w.last_sync_at = q.Text(9);
  w.last_error = q.Text(10);
  return w;
}

// The body a memory.create op sends, from a draft.
json CreateBody(const Memory& m) {
  json b = {{"id", m.id},           {"type", m.type},           {"title", m.title},
            {"content", m.content}, {"tags", m.tags},           {"importance", m.importance},
            {"confidence", m.confidence}, {"context", m.context}, {"created_at", m.created_at}};
  if (m.summary) b["summary"] = *m.summary;
  return b;
}

}  // namespace

Replica::Replica(sql::Db db) : db_(std::move(db)), outbox_(db_), rows_(db_, outbox_, user_id_) {}

Result<std::unique_ptr<Replica>> Replica::Open(const std::string& path) {
  // Long busy timeout: the agent and a CLI may write at the same moment.
  MG_ASSIGN_OR_RETURN(sql::Db db, sql::Db::Open(path, false, 15000, "NORMAL"));
  MG_RETURN_IF_ERROR(sql::Migrate(db, ReplicaMigrations()).status());
  std::unique_ptr<Replica> r(new Replica(std::move(db)));
  auto user = r->db_.Prepared("SELECT value FROM meta WHERE key = 'user_id'");
  if (user.ok() && (*user)->Step()) r->user_id_ = (*user)->Text(0);
  return r;
}

Status Replica::Tx(const std::function<Status()>& fn) {
  return db_.Transaction(
      [&]() -> Status {
        MG_RETURN_IF_ERROR(fn());
        return SyncSearchIndex();
      },
      true);
}

// The first noted text of a row is what the index holds for it (a row first
// seen as inserted holds nothing), so: remove that, then index what the rows
// say now. A row changed many times in one batch costs the index once.
Status Replica::SyncSearchIndex() {
  MG_ASSIGN_OR_RETURN(auto any, db_.Prepared("SELECT 1 FROM fts_dirty LIMIT 1"));
  bool dirty = any->Step();
  MG_RETURN_IF_ERROR(any->status());
  if (!dirty) return Status::Ok();
  MG_RETURN_IF_ERROR(db_.Run(
      "INSERT INTO memories_fts(memories_fts, rowid, title, content, summary, tags) "
      "SELECT 'delete', rid, old_title, old_content, old_summary, old_tags FROM fts_dirty WHERE indexed = 1"));
  MG_RETURN_IF_ERROR(db_.Run(
      "INSERT INTO memories_fts(rowid, title, content, summary, tags) "
      "SELECT m.rowid, m.title, m.content, coalesce(m.summary, ''), m.tags "
      "FROM fts_dirty d JOIN memories m ON m.rowid = d.rid"));
  return db_.Run("DELETE FROM fts_dirty");
}

Status Replica::Bind(const std::string& server, const std::string& user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() -> Status {
    std::string bound_server, bound_user;
    {
      MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT key, value FROM meta"));
      while (q->Step()) (q->Text(0) == "server" ? bound_server : bound_user) = q->Text(1);
      MG_RETURN_IF_ERROR(q->status());
    }
    if (bound_server == server && bound_user == user_id) return Status::Ok();
    if (!bound_user.empty())
      for (const char* table : {"memories", "relationships", "outbox", "workspaces"})
        MG_RETURN_IF_ERROR(db_.Exec(std::string("DELETE FROM ") + table));
    MG_RETURN_IF_ERROR(db_.Run("INSERT INTO meta(key, value) VALUES('server', ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", server));
    MG_RETURN_IF_ERROR(db_.Run("INSERT INTO meta(key, value) VALUES('user_id', ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", user_id));
    user_id_ = user_id;
    return Status::Ok();
  });
}

std::string Replica::user_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return user_id_;
}

// ---- workspaces ---------------------------------------------------------------

Status Replica::RememberWorkspace(const Workspace& w, const std::string& role) {
  std::lock_guard<std::mutex> lock(mu_);
  return UpsertWorkspace(w, role);
}

Status Replica::UpsertWorkspace(const Workspace& w, const std::string& role) {
  return db_.Run(
      "INSERT INTO workspaces(id, name, slug, kind, role) VALUES(?, ?, ?, ?, ?) "
      "ON CONFLICT(id) DO UPDATE SET name = excluded.name, slug = excluded.slug, role = excluded.role",
      w.id, w.name, w.slug, w.kind, role);
}

Result<int64_t> Replica::Forgotten() {
  std::lock_guard<std::mutex> lock(mu_);
  return ReadForgotten();
}

Result<int64_t> Replica::ReadForgotten() {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT value FROM meta WHERE key = 'forgotten'"));
  int64_t n = q->Step() ? std::atoll(q->Text(0).c_str()) : 0;
  MG_RETURN_IF_ERROR(q->status());
  return n;
}

Result<bool> Replica::RememberWorkspaces(const std::vector<std::pair<Workspace, std::string>>& list,
                                         int64_t forgotten) {
  std::lock_guard<std::mutex> lock(mu_);
  bool applied = false;
  MG_RETURN_IF_ERROR(Tx([&]() -> Status {
    MG_ASSIGN_OR_RETURN(int64_t now, ReadForgotten());
    if (now != forgotten) return Status::Ok();
    for (const auto& [w, role] : list) MG_RETURN_IF_ERROR(UpsertWorkspace(w, role));
    applied = true;
    return Status::Ok();
  }));
  return applied;
}

Result<std::vector<ReplicaWorkspace>> Replica::Workspaces() {
  std::lock_guard<std::mutex> lock(mu_);
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kWorkspaceColumns +
                                           " FROM workspaces ORDER BY kind = 'team', name, id"));
  std::vector<ReplicaWorkspace> out;
  while (q->Step()) out.push_back(ReadWorkspace(*q));
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Result<std::optional<ReplicaWorkspace>> Replica::FindWorkspace(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kWorkspaceColumns + " FROM workspaces WHERE id = ?"));
  q->BindAll(id);
  std::optional<ReplicaWorkspace> out;
  if (q->Step()) out = ReadWorkspace(*q);
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Status Replica::ForgetWorkspace(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_RETURN_IF_ERROR(Tx([&]() -> Status {
    for (const char* table : {"memories", "relationships", "outbox", "conflicts"})
      MG_RETURN_IF_ERROR(db_.Run(std::string("DELETE FROM ") + table + " WHERE workspace_id = ?", id));
    MG_RETURN_IF_ERROR(db_.Run("INSERT INTO meta(key, value) VALUES('forgotten', '1') ON CONFLICT(key) DO UPDATE "
                               "SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"));
    return db_.Run("DELETE FROM workspaces WHERE id = ?", id);
  }));
  return Scrub();
}

// The rows are gone, but their words may not be: FTS5 keeps the terms of
// deleted rows in its segments until they are merged, free space inside and
// between pages still holds old bytes (of these rows and of their earlier
// versions), and the write-ahead log holds copies of every page written since
// the last checkpoint. So: merge the index, rebuild the file from its live
// content (VACUUM), and truncate the log. Seconds for a large replica, and
// only when a workspace goes; zeroing every delete as it happens
// (secure_delete) instead cost a third of the event apply rate.
Status Replica::Scrub() {
  MG_RETURN_IF_ERROR(db_.Exec("INSERT INTO memories_fts(memories_fts) VALUES('optimize')"));
  MG_RETURN_IF_ERROR(db_.Exec("VACUUM"));
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepare("PRAGMA wal_checkpoint(TRUNCATE)"));
  bool busy = q.Step() && q.Int(0) != 0;
  MG_RETURN_IF_ERROR(q.status());
  // Another process is reading (an agent mid-query): its copy goes at the
  // next checkpoint; say so rather than pretend.
  if (busy) spdlog::warn("the replica's journal could not be truncated now (another process is reading it)");
  return Status::Ok();
}

Status Replica::NoteSync(const std::string& ws, std::optional<int64_t> head, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!error.empty()) return db_.Run("UPDATE workspaces SET last_error = ? WHERE id = ?", error, ws);
  return db_.Run(
      "UPDATE workspaces SET last_error = '', last_sync_at = ?, head_seq = max(head_seq, ?) WHERE id = ?",
      NowRfc3339(), head.value_or(0), ws);
}

// ---- snapshots -------------------------------------------------------------------

Status Replica::BeginSnapshot(const std::string& ws) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() -> Status {
    // Rows of the server copy go; local-only rows (pending creates) stay.
    MG_RETURN_IF_ERROR(db_.Run("DELETE FROM memories WHERE workspace_id = ? AND server IS NOT NULL", ws));
    MG_RETURN_IF_ERROR(db_.Run("DELETE FROM relationships WHERE workspace_id = ? AND server IS NOT NULL", ws));
    MG_RETURN_IF_ERROR(db_.Run("DELETE FROM conflicts WHERE workspace_id = ?", ws));
    return db_.Run("UPDATE workspaces SET synced = 0, cursor = 0 WHERE id = ?", ws);
  });
}

Status Replica::LoadSnapshot(const std::string& ws, const std::vector<Memory>& memories,
                             const std::vector<Relationship>& relationships, const std::vector<Conflict>& conflicts) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() -> Status {
    for (const auto& c : conflicts)
      if (c.workspace_id == ws) MG_RETURN_IF_ERROR(StoreConflict(c));
    for (const auto& m : memories)
      if (m.workspace_id == ws) MG_RETURN_IF_ERROR(rows_.PutServerMemory(m));
    for (const auto& r : relationships)
      if (r.workspace_id == ws) MG_RETURN_IF_ERROR(rows_.PutServerRelationship(r));
    return Status::Ok();
  });
}

Status Replica::FinishSnapshot(const std::string& ws, int64_t head, const std::string& epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() -> Status {
    // Replay pending ops on top of the fresh server copy.
    MG_ASSIGN_OR_RETURN(auto touched, outbox_.Entities(ws));
    for (const auto& [kind, id] : touched) MG_RETURN_IF_ERROR(rows_.Recompute(kind, ws, id));
    return db_.Run(
        "UPDATE workspaces SET synced = 1, cursor = ?, head_seq = max(head_seq, ?), epoch = ?, "
        "last_sync_at = ?, last_error = '' WHERE id = ?",
        head, head, epoch, NowRfc3339(), ws);
  });
}

// ---- events ---------------------------------------------------------------------------

Result<ApplyResult> Replica::ApplyEvents(const std::string& ws, const std::vector<Event>& events) {
  std::lock_guard<std::mutex> lock(mu_);
  ApplyResult result;
  Status s = Tx([&]() -> Status {
    int64_t cursor = 0;
    {
      MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT cursor FROM workspaces WHERE id = ?"));
      q->BindAll(ws);
      if (!q->Step()) {
        MG_RETURN_IF_ERROR(q->status());
        return Status::NotFound("workspace " + ws + " is not in the replica");
      }
      cursor = q->Int(0);
    }
    for (const auto& e : events) {
      if (e.seq <= cursor) {
        ++result.skipped;
        continue;
      }
      // The log is dense: a hole means events were lost on the way. Refuse,
      // so the caller catches up from the durable cursor instead.
      if (e.seq != cursor + 1)
        return Status::Internal("event " + std::to_string(e.seq) + " follows " + std::to_string(cursor) +
                                ": events are missing");
      if (e.entity_type == "memory") {
        if (auto m = Memory::FromJson(e.entity); m && m->workspace_id == ws)
          MG_RETURN_IF_ERROR(rows_.PutServerMemory(*m));
      } else if (e.entity_type == "relationship") {
        if (auto r = Relationship::FromJson(e.entity); r && r->workspace_id == ws)
          MG_RETURN_IF_ERROR(rows_.PutServerRelationship(*r));
      } else if (e.entity_type == "conflict") {
        if (auto c = Conflict::FromJson(e.entity)) {
          if (c->seq == 0) c->seq = e.seq;  // recorded by this very event
          MG_RETURN_IF_ERROR(StoreConflict(*c));
        }
      } else if (e.entity_type == "member" && StringField(e.entity, "user_id") == user_id_) {
        if (e.type == "member_removed") result.removed_from_workspace = true;
        else MG_RETURN_IF_ERROR(db_.Run("UPDATE workspaces SET role = ? WHERE id = ?", StringField(e.entity, "role"), ws));
      } else if (e.entity_type == "workspace" && e.type == "workspace_updated") {
        MG_RETURN_IF_ERROR(db_.Run("UPDATE workspaces SET name = ?, slug = ? WHERE id = ?",
                                   StringField(e.entity, "name"), StringField(e.entity, "slug"), ws));
      }
      cursor = e.seq;
      ++result.applied;
    }
    // Events applied: the copy was current a moment ago (`sync status`'s
    // LAST SYNC), not only at the last snapshot or catch-up.
    return db_.Run("UPDATE workspaces SET cursor = ?, head_seq = max(head_seq, ?), last_sync_at = ? WHERE id = ?",
                   cursor, cursor, NowRfc3339(), ws);
  });
  if (!s.ok()) return s;
  return result;
}

// ---- local writes ----------------------------------------------------------------------

Status Replica::CheckRole(const std::string& ws, Permission p) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT role FROM workspaces WHERE id = ?"));
  q->BindAll(ws);
  std::optional<Role> role;
  if (q->Step()) role = ParseRole(q->Text(0));
  MG_RETURN_IF_ERROR(q->status());
  // A role not known yet (an old replica): let the server decide.
  if (!role) return Status::Ok();
  Status s = Require(*role, p);
  if (s.ok()) return s;
  return Status(s.code(), s.reason(),
                "your role in this workspace (" + std::string(RoleName(*role)) + ") does not allow " +
                    std::string(PermissionName(p)) + "; nothing was saved")
      .with("permission", std::string(PermissionName(p)))
      .with("role", std::string(RoleName(*role)));
}

// The version this edit was made on, for the server's merge: the server
// state we hold, unless an earlier op of ours on the memory is still queued
// (then the base is that op's result, filled in by RebaseNextOp when known).
Result<OutboxOp> Replica::Enqueue(const std::string& ws, OpKind kind, const std::string& entity_id, json payload) {
  if (kind == OpKind::kMemoryUpdate || kind == OpKind::kMemoryDelete) {
    MG_ASSIGN_OR_RETURN(bool queued, outbox_.HasPending(ws, entity_id));
    MG_ASSIGN_OR_RETURN(auto server, rows_.ServerMemory(ws, entity_id));
    if (!queued && server && !payload.contains("base_version")) payload["base_version"] = server->version;
    if (kind == OpKind::kMemoryUpdate && !payload.contains("edited_at")) payload["edited_at"] = NowRfc3339();
  }
  OutboxOp op;
  op.op_id = NewUuidV7();
  op.workspace_id = ws;
  op.kind = kind;
  op.entity_id = entity_id;
  op.payload = std::move(payload);
  MG_RETURN_IF_ERROR(outbox_.Insert(op));
  MG_RETURN_IF_ERROR(rows_.Recompute(kind, ws, entity_id));
  return op;
}

namespace {

// An edit of a memory the view shows as deleted: the server would keep it
// only as a conflict record, so say so now (exit 6) instead of queueing it.
Status DeletedMemory(const LocalMemory& m) {
  return Status::Conflict("memory_deleted", "memory " + m.memory.id + " (\"" + m.memory.title +
                                                "\") was deleted; nothing was saved. `mgteam conflicts list` "
                                                "shows edits kept from it")
      .with("id", m.memory.id);
}

}  // namespace

Result<LocalMemory> Replica::CreateMemory(const std::string& ws, Memory draft, std::string* op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (draft.id.empty()) draft.id = NewUuidV7();
  if (draft.created_at.empty()) draft.created_at = NowRfc3339();
  MG_RETURN_IF_ERROR(Tx([&]() -> Status {
    MG_RETURN_IF_ERROR(CheckRole(ws, Permission::kMemoryWrite));
    MG_ASSIGN_OR_RETURN(auto existing, LoadMemory(ws, draft.id));
    if (existing)
      return Status::Conflict("already_exists", "a memory with id " + draft.id + " already exists")
          .with("id", draft.id);
    MG_ASSIGN_OR_RETURN(OutboxOp op, Enqueue(ws, OpKind::kMemoryCreate, draft.id, CreateBody(draft)));
    if (op_id) *op_id = op.op_id;
    return Status::Ok();
  }));
  return LiveMemory(ws, draft.id);
}

Result<LocalMemory> Replica::UpdateMemory(const std::string& ws, const std::string& id, const MemoryPatch& patch,
                                          std::string* op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_RETURN_IF_ERROR(Tx([&]() -> Status {
    MG_ASSIGN_OR_RETURN(auto m, LoadMemory(ws, id));
    if (!m) return NotInReplica("memory", id);
    MG_RETURN_IF_ERROR(CheckRole(ws, Permission::kMemoryWrite));
    if (m->memory.deleted) return DeletedMemory(*m);
    MG_ASSIGN_OR_RETURN(OutboxOp op, Enqueue(ws, OpKind::kMemoryUpdate, id, patch.ToJson()));
    if (op_id) *op_id = op.op_id;
    return Status::Ok();
  }));
  return LiveMemory(ws, id);
}

Result<LocalMemory> Replica::DeleteMemory(const std::string& ws, const std::string& id, std::string* op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_RETURN_IF_ERROR(Tx([&]() -> Status {
    MG_ASSIGN_OR_RETURN(auto m, LoadMemory(ws, id));
    if (!m || m->memory.deleted) return NotInReplica("memory", id);
    // A memory only here (its create still queued) is yours to drop whatever
    // your role; anything on the server needs the delete permission.
    MG_ASSIGN_OR_RETURN(auto server, rows_.ServerMemory(ws, id));
    if (server) MG_RETURN_IF_ERROR(CheckRole(ws, Permission::kMemoryDelete));
    MG_ASSIGN_OR_RETURN(OutboxOp op, Enqueue(ws, OpKind::kMemoryDelete, id, json::object()));
    if (op_id) *op_id = op.op_id;
    return Status::Ok();
  }));
  MG_ASSIGN_OR_RETURN(auto m, LoadMemory(ws, id));
  if (!m) return NotInReplica("memory", id);  // a local-only memory is simply gone
  return std::move(*m);
}

Result<LocalRelationship> Replica::CreateRelationship(const std::string& ws, Relationship draft,
                                                     std::string* op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (draft.id.empty()) draft.id = NewUuidV7();
  MG_RETURN_IF_ERROR(Tx([&]() -> Status {
    MG_RETURN_IF_ERROR(CheckRole(ws, Permission::kMemoryWrite));
    for (const auto* end : {&draft.from_memory_id, &draft.to_memory_id}) {
      auto m = LiveMemory(ws, *end);
      if (!m.ok())
        return Status(Code::kNotFound, "memory_not_found", "no memory " + *end + " in this workspace")
            .with("field", end == &draft.from_memory_id ? "from_memory_id" : "to_memory_id");
    }
    // The server allows one live relationship per (from, to, type).
    MG_ASSIGN_OR_RETURN(auto same, db_.Prepared("SELECT id FROM relationships WHERE workspace_id = ? AND "
                                                "from_memory_id = ? AND to_memory_id = ? AND type = ? AND deleted = 0"));
    same->BindAll(ws, draft.from_memory_id, draft.to_memory_id, draft.type);
    if (same->Step())
      return Status::Conflict("relationship_exists", "these memories are already related by " + draft.type +
                                                         " (relationship " + same->Text(0) + "); nothing was saved")
          .with("id", same->Text(0));
    MG_RETURN_IF_ERROR(same->status());
    json body = draft.ToJson();
    for (const char* k : {"workspace_id", "created_by", "updated_by", "created_at", "updated_at", "version", "deleted"})
      body.erase(k);
    if (body["context"].is_null()) body.erase("context");
    MG_ASSIGN_OR_RETURN(OutboxOp op, Enqueue(ws, OpKind::kRelationshipCreate, draft.id, std::move(body)));
    if (op_id) *op_id = op.op_id;
    return Status::Ok();
  }));
  MG_ASSIGN_OR_RETURN(auto r, LoadRelationship(ws, draft.id));
  if (!r) return NotInReplica("relationship", draft.id);
  return std::move(*r);
}

Result<LocalRelationship> Replica::DeleteRelationship(const std::string& ws, const std::string& id,
                                                     std::string* op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_RETURN_IF_ERROR(Tx([&]() -> Status {
    MG_ASSIGN_OR_RETURN(auto r, LoadRelationship(ws, id));
    if (!r || r->relationship.deleted) return NotInReplica("relationship", id);
    MG_ASSIGN_OR_RETURN(auto server, rows_.ServerRelationship(ws, id));
    if (server) MG_RETURN_IF_ERROR(CheckRole(ws, Permission::kMemoryDelete));
    MG_ASSIGN_OR_RETURN(OutboxOp op, Enqueue(ws, OpKind::kRelationshipDelete, id, json::object()));
    if (op_id) *op_id = op.op_id;
    return Status::Ok();
  }));
  MG_ASSIGN_OR_RETURN(auto r, LoadRelationship(ws, id));
  if (!r) return NotInReplica("relationship", id);
  return std::move(*r);
}

// ---- the outbox ------------------------------------------------------------------

Result<std::optional<OutboxOp>> Replica::NextOp(const std::string& ws) {
  std::lock_guard<std::mutex> lock(mu_);
  return outbox_.Next(ws);
}

Result<std::optional<OutboxOp>> Replica::FindOp(const std::string& op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return outbox_.Find(op_id);
}

// The answer is a server state like any event: stored version-guarded
// (an event for the same change may have come first, or a newer one), and
// the view rewritten without the op.
Status Replica::CompleteOp(const OutboxOp& op, const json& entity) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() -> Status {
    MG_RETURN_IF_ERROR(outbox_.Remove(op.op_id));
    if (IsMemoryOp(op.kind)) {
      if (auto m = Memory::FromJson(entity); m && m->workspace_id == op.workspace_id && m->id == op.entity_id)
        MG_RETURN_IF_ERROR(rows_.PutServerMemory(*m));
      MG_RETURN_IF_ERROR(RebaseNextOp(op.workspace_id, op.entity_id, entity));
    } else if (auto r = Relationship::FromJson(entity);
               r && r->workspace_id == op.workspace_id && r->id == op.entity_id) {
      MG_RETURN_IF_ERROR(rows_.PutServerRelationship(*r));
    }
    // Conflicts this op caused, known now rather than when the log says so.
    if (entity.is_object())
      if (auto list = entity.find("conflicts"); list != entity.end() && list->is_array())
        for (const auto& j : *list)
          if (auto c = Conflict::FromJson(j); c && c->workspace_id == op.workspace_id)
            MG_RETURN_IF_ERROR(StoreConflict(*c));
    return rows_.Recompute(op.kind, op.workspace_id, op.entity_id);
  });
}

// The next queued edit of the memory was made on top of the op that just
// completed: its base is the version the server gave that op.
Status Replica::RebaseNextOp(const std::string& ws, const std::string& id, const json& entity) {
  int64_t version = IntField(entity, "version");
  if (version <= 0) return Status::Ok();
  MG_ASSIGN_OR_RETURN(std::vector<OutboxOp> pending, outbox_.Pending(ws, id));
  if (pending.empty()) return Status::Ok();
  OutboxOp& next = pending.front();
  if ((next.kind != OpKind::kMemoryUpdate && next.kind != OpKind::kMemoryDelete) ||
      next.payload.contains("base_version"))
    return Status::Ok();
  next.payload["base_version"] = version;
  return outbox_.SetPayload(next.op_id, next.payload);
}

Status Replica::FailOp(const OutboxOp& op, const Status& why) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() -> Status {
    MG_RETURN_IF_ERROR(outbox_.MarkFailed(op.op_id, why));
    return rows_.Recompute(op.kind, op.workspace_id, op.entity_id);
  });
}

Status Replica::DeferOp(const OutboxOp& op, const std::string& error, const std::string& next_attempt_at) {
  std::lock_guard<std::mutex> lock(mu_);
  return outbox_.Defer(op.op_id, error, next_attempt_at);
}

Status Replica::DismissOp(const std::string& op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() -> Status {
    MG_ASSIGN_OR_RETURN(auto op, outbox_.Find(op_id));
    if (!op) return Status::Ok();
    MG_RETURN_IF_ERROR(outbox_.Remove(op_id));
    return rows_.Recompute(op->kind, op->workspace_id, op->entity_id);
  });
}

Result<std::vector<OutboxOp>> Replica::Ops(const std::string& ws) {
  std::lock_guard<std::mutex> lock(mu_);
  return outbox_.All(ws);
}

Result<int> Replica::RetryFailed(const std::string& ws) {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  MG_RETURN_IF_ERROR(Tx([&]() -> Status {
    MG_ASSIGN_OR_RETURN(auto ops, outbox_.All(ws));
    for (const auto& op : ops) {
      if (op.state != OpState::kFailed) continue;
      MG_RETURN_IF_ERROR(outbox_.MarkPending(op.op_id));
      MG_RETURN_IF_ERROR(rows_.Recompute(op.kind, op.workspace_id, op.entity_id));
      ++n;
    }
    return Status::Ok();
  }));
  return n;
}

// ---- conflicts ---------------------------------------------------------------------

Status Replica::StoreConflict(const Conflict& c) {
  return db_.Run("INSERT INTO conflicts(workspace_id, id, memory_id, status, data) VALUES(?, ?, ?, ?, ?) "
                 "ON CONFLICT(workspace_id, id) DO UPDATE SET status = excluded.status, data = excluded.data",
                 c.workspace_id, c.id, c.memory_id, c.status, sql::DumpJson(c.ToJson()));
}

// ---- checking against the server -------------------------------------------------------

Result<json> Replica::ServerDigest(const std::string& ws) {
  std::lock_guard<std::mutex> lock(mu_);
  RowDigest memories, relationships;
  MG_ASSIGN_OR_RETURN(auto ms, rows_.ServerMemories(ws));
  for (const auto& m : ms) memories.Add(m);
  MG_ASSIGN_OR_RETURN(auto rs, rows_.ServerRelationships(ws));
  for (const auto& r : rs) relationships.Add(r);
  return json{{"memories", memories.ToJson()}, {"relationships", relationships.ToJson()}};
}

Result<std::vector<Memory>> Replica::ServerMemories(const std::string& ws) {
  std::lock_guard<std::mutex> lock(mu_);
  return rows_.ServerMemories(ws);
}

Result<std::vector<Relationship>> Replica::ServerRelationships(const std::string& ws) {
  std::lock_guard<std::mutex> lock(mu_);
  return rows_.ServerRelationships(ws);
}

Status Replica::RepairMemory(const std::string& ws, const std::string& id, const std::optional<Memory>& m) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() { return rows_.ReplaceServerMemory(ws, id, m); });
}

Status Replica::RepairRelationship(const std::string& ws, const std::string& id,
                                   const std::optional<Relationship>& r) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() { return rows_.ReplaceServerRelationship(ws, id, r); });
}

Status Replica::CheckView() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> problems;
  MG_RETURN_IF_ERROR(db_.Transaction(
      [&]() -> Status {
        MG_ASSIGN_OR_RETURN(problems, rows_.Check(""));
        return Status::Ok();
      },
      // A write transaction although it changes nothing: the index check is
      // an INSERT, and upgrading a read snapshot while the agent writes
      // fails at once instead of waiting.
      true));
  if (problems.empty()) return Status::Ok();
  std::string text;
  for (const auto& p : problems) text += (text.empty() ? "" : "; ") + p;
  return Status::Internal("the replica's view does not follow from its server state and outbox: " + text);
}

}  // namespace mgteam::agent
