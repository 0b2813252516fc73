#include "replica.h"

#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "mgteam/sql_rows.h"

#include <map>

namespace mgteam::agent {

namespace {

using sql::Db;

// Version 1. The memories/relationships columns are the server's, plus
// `server`: the server's state — NULL while the entity exists only here, '='
// when the row itself is the server's state (nothing of ours pending: the
// common case, stored once), else the server's state as JSON. The FTS index
// follows the memories table through triggers (external content).
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;

CREATE TABLE workspaces(
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  slug         TEXT NOT NULL,
  kind         TEXT NOT NULL,
  role         TEXT NOT NULL,
  epoch        TEXT NOT NULL DEFAULT '',
  cursor       INTEGER NOT NULL DEFAULT 0,
  head_seq     INTEGER NOT NULL DEFAULT 0,
  synced       INTEGER NOT NULL DEFAULT 0,
  last_sync_at TEXT NOT NULL DEFAULT '',
  last_error   TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE TABLE memories(
  workspace_id TEXT NOT NULL,
  id           TEXT NOT NULL,
  type         TEXT NOT NULL,
  title        TEXT NOT NULL,
  content      TEXT NOT NULL,
  summary      TEXT,
  tags         TEXT NOT NULL,
  importance   REAL NOT NULL,
  confidence   REAL NOT NULL,
  context      TEXT NOT NULL,
  created_by   TEXT NOT NULL,
  updated_by   TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  version      INTEGER NOT NULL,
  deleted      INTEGER NOT NULL,
  server       TEXT,
  PRIMARY KEY (workspace_id, id)
) STRICT;
CREATE INDEX memories_by_created ON memories(workspace_id, deleted, created_at DESC, id DESC);

CREATE VIRTUAL TABLE memories_fts USING fts5(
  title, content, summary, tags, content='memories', content_rowid='rowid',
  tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
  INSERT INTO memories_fts(rowid, title, content, summary, tags)
  VALUES (new.rowid, new.title, new.content, coalesce(new.summary, ''), new.tags);
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
  INSERT INTO memories_fts(memories_fts, rowid, title, content, summary, tags)
  VALUES ('delete', old.rowid, old.title, old.content, coalesce(old.summary, ''), old.tags);
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF title, content, summary, tags ON memories
WHEN old.title IS NOT new.title OR old.content IS NOT new.content OR old.summary IS NOT new.summary
  OR old.tags IS NOT new.tags BEGIN
  INSERT INTO memories_fts(memories_fts, rowid, title, content, summary, tags)
  VALUES ('delete', old.rowid, old.title, old.content, coalesce(old.summary, ''), old.tags);
  INSERT INTO memories_fts(rowid, title, content, summary, tags)
  VALUES (new.rowid, new.title, new.content, coalesce(new.summary, ''), new.tags);
END;

CREATE TABLE relationships(
  workspace_id   TEXT NOT NULL,
  id             TEXT NOT NULL,
  from_memory_id TEXT NOT NULL,
  to_memory_id   TEXT NOT NULL,
  type           TEXT NOT NULL,
  strength       REAL NOT NULL,
  confidence     REAL NOT NULL,
  context        TEXT,
  evidence_count INTEGER NOT NULL,
  created_by     TEXT NOT NULL,
  updated_by     TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  version        INTEGER NOT NULL,
  deleted        INTEGER NOT NULL,
  server         TEXT,
  PRIMARY KEY (workspace_id, id)
) STRICT;
CREATE INDEX relationships_by_from ON relationships(workspace_id, from_memory_id);
CREATE INDEX relationships_by_to ON relationships(workspace_id, to_memory_id);

CREATE TABLE outbox(
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  op_id           TEXT NOT NULL UNIQUE,
  workspace_id    TEXT NOT NULL,
  kind            TEXT NOT NULL,
  entity_id       TEXT NOT NULL,
  payload         TEXT NOT NULL,
  state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_error      TEXT NOT NULL DEFAULT '',
  next_attempt_at TEXT NOT NULL DEFAULT '',
  created_at      TEXT NOT NULL
) STRICT;
CREATE INDEX outbox_by_entity ON outbox(workspace_id, entity_id, seq);
CREATE INDEX outbox_in_order ON outbox(workspace_id, state, seq);
)sql";

// Version 2. FTS5 flushes its pending terms to disk at every statement
// savepoint, so a trigger that writes the index per row made applying a page
// of events three times slower than the rows themselves. The triggers now
// only note the row (and, the first time, the text the index holds for it) in
// fts_dirty; SyncSearchIndex() brings the index up to date in two statements
// before every write transaction commits. (Not INSERT OR IGNORE: an outer
// statement's conflict policy overrides a trigger's.)
constexpr std::string_view kSchemaV2 = R"sql(
DROP TRIGGER memories_fts_insert;
DROP TRIGGER memories_fts_delete;
DROP TRIGGER memories_fts_update;
CREATE TABLE fts_dirty(
  rid         INTEGER PRIMARY KEY,
  indexed     INTEGER NOT NULL,
  old_title   TEXT,
  old_content TEXT,
  old_summary TEXT,
  old_tags    TEXT
) STRICT;
CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
  INSERT INTO fts_dirty(rid, indexed) SELECT new.rowid, 0
  WHERE NOT EXISTS (SELECT 1 FROM fts_dirty WHERE rid = new.rowid);
END;
CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
  INSERT INTO fts_dirty SELECT old.rowid, 1, old.title, old.content, coalesce(old.summary, ''), old.tags
  WHERE NOT EXISTS (SELECT 1 FROM fts_dirty WHERE rid = old.rowid);
END;
CREATE TRIGGER memories_fts_update AFTER UPDATE OF title, content, summary, tags ON memories
WHEN old.title IS NOT new.title OR old.content IS NOT new.content OR old.summary IS NOT new.summary
  OR old.tags IS NOT new.tags BEGIN
  INSERT INTO fts_dirty SELECT old.rowid, 1, old.title, old.content, coalesce(old.summary, ''), old.tags
  WHERE NOT EXISTS (SELECT 1 FROM fts_dirty WHERE rid = old.rowid);
END;
INSERT INTO memories_fts(memories_fts, rank) VALUES('rank', 'bm25(10.0, 1.0, 4.0, 3.0)');
)sql";

// Version 3: conflict records as the server's log announces them
// (conflict_created / conflict_resolved), so the local view can say which
// memories have open conflicts. `data` is the record's JSON.
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE conflicts(
  workspace_id TEXT NOT NULL,
  id           TEXT NOT NULL,
  memory_id    TEXT NOT NULL,
  status       TEXT NOT NULL,
  data         TEXT NOT NULL,
  PRIMARY KEY (workspace_id, id)
) STRICT;
CREATE INDEX conflicts_by_memory ON conflicts(workspace_id, memory_id, status);
)sql";

const std::vector<std::string_view>& Migrations() {
  static const std::vector<std::string_view> kAll = {kSchemaV1, kSchemaV2, kSchemaV3};
  return kAll;
}

const std::string kMemorySelect = std::string("SELECT ") + sql::kMemoryColumns;
// The memory columns an upsert replaces (all but the key and `server`).
const std::string kUpsertMemorySet =
    "ON CONFLICT(workspace_id, id) DO UPDATE SET type = excluded.type, title = excluded.title, "
    "content = excluded.content, summary = excluded.summary, tags = excluded.tags, "
    "importance = excluded.importance, confidence = excluded.confidence, context = excluded.context, "
    "created_by = excluded.created_by, updated_by = excluded.updated_by, created_at = excluded.created_at, "
    "updated_at = excluded.updated_at, version = excluded.version, deleted = excluded.deleted";
const std::string kRelationshipSelect = std::string("SELECT ") + sql::kRelationshipColumns;
const std::string kOpColumns =
    "seq, op_id, workspace_id, kind, entity_id, payload, state, attempts, last_error, next_attempt_at, "
    "created_at";
const std::string kWorkspaceColumns =
    "id, name, slug, kind, role, epoch, cursor, head_seq, synced, last_sync_at, last_error";

OutboxOp ReadOp(sql::Stmt& q) {
  OutboxOp op;
  op.seq = q.Int(0);
  op.op_id = q.Text(1);
  op.workspace_id = q.Text(2);
  op.kind = q.Text(3);
  op.entity_id = q.Text(4);
  op.payload = sql::ParseStoredJson(q.Text(5), json::object());
  op.state = q.Text(6);
  op.attempts = static_cast<int>(q.Int(7));
  op.last_error = q.Text(8);
  op.next_attempt_at = q.Text(9);
  op.created_at = q.Text(10);
  return op;
}

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

bool IsMemoryOp(const std::string& kind) { return kind.rfind("memory.", 0) == 0; }

// The body a memory.create op sends, from a draft.
json CreateBody(const Memory& m) {
  json b = {{"id", m.id},           {"type", m.type},           {"title", m.title},
            {"content", m.content}, {"tags", m.tags},           {"importance", m.importance},
            {"confidence", m.confidence}, {"context", m.context}, {"created_at", m.created_at}};
  if (m.summary) b["summary"] = *m.summary;
  return b;
}

}  // namespace

const char* SyncStateName(SyncState s) {
  switch (s) {
    case SyncState::kSynced: return "synced";
    case SyncState::kPending: return "pending";
    case SyncState::kFailed: return "failed";
  }
  return "synced";
}

json LocalMemory::ToJson() const {
  json j = memory.ToJson();
  j["sync_state"] = SyncStateName(sync);
  j["open_conflicts"] = open_conflicts;
  return j;
}

json LocalRelationship::ToJson() const {
  json j = relationship.ToJson();
  j["sync_state"] = SyncStateName(sync);
  return j;
}

json ReplicaWorkspace::ToJson() const {
  return {{"id", id},         {"name", name},         {"slug", slug},         {"type", kind},
          {"role", role},     {"epoch", epoch},       {"cursor", cursor},     {"head_seq", head_seq},
          {"synced", synced}, {"last_sync_at", last_sync_at}, {"last_error", last_error}};
}

json OutboxOp::ToJson() const {
  return {{"op_id", op_id},       {"workspace_id", workspace_id}, {"kind", kind},
          {"entity_id", entity_id}, {"state", state},             {"attempts", attempts},
          {"last_error", last_error}, {"next_attempt_at", next_attempt_at}, {"created_at", created_at}};
}

std::string FtsQuery(const std::string& text) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n') {
      if (!cur.empty()) words.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) words.push_back(cur);
  std::string q;
  for (size_t i = 0; i < words.size(); ++i) {
    std::string quoted = "\"";
    for (char c : words[i]) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += "\"";
    if (i + 1 == words.size()) quoted += "*";  // the word being typed
    q += (q.empty() ? "" : " ") + quoted;
  }
  return q;
}

Result<std::unique_ptr<Replica>> Replica::Open(const std::string& path) {
  // Long busy timeout: the agent and a CLI may write at the same moment.
  MG_ASSIGN_OR_RETURN(Db db, Db::Open(path, false, 15000, "NORMAL"));
  MG_RETURN_IF_ERROR(sql::Migrate(db, Migrations()).status());
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
  return db_.Run(
      "INSERT INTO workspaces(id, name, slug, kind, role) VALUES(?, ?, ?, ?, ?) "
      "ON CONFLICT(id) DO UPDATE SET name = excluded.name, slug = excluded.slug, role = excluded.role",
      w.id, w.name, w.slug, w.kind, role);
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
  return Tx([&]() -> Status {
    for (const char* table : {"memories", "relationships", "outbox", "conflicts"})
      MG_RETURN_IF_ERROR(db_.Run(std::string("DELETE FROM ") + table + " WHERE workspace_id = ?", id));
    return db_.Run("DELETE FROM workspaces WHERE id = ?", id);
  });
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
    for (const auto& m : memories) {
      if (m.workspace_id != ws) continue;
      MG_ASSIGN_OR_RETURN(bool pending, HasPending(ws, m.id));
      MG_RETURN_IF_ERROR(StoreServerMemory(m, pending));
    }
    for (const auto& r : relationships) {
      if (r.workspace_id != ws) continue;
      MG_RETURN_IF_ERROR(StoreServerRelationship(r));
    }
    return Status::Ok();
  });
}

Status Replica::FinishSnapshot(const std::string& ws, int64_t head, const std::string& epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() -> Status {
    // Replay pending ops on top of the fresh server copy.
    std::vector<std::pair<std::string, std::string>> touched;
    {
      MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT DISTINCT kind, entity_id FROM outbox WHERE workspace_id = ?"));
      q->BindAll(ws);
      while (q->Step()) touched.emplace_back(q->Text(0), q->Text(1));
      MG_RETURN_IF_ERROR(q->status());
    }
    for (const auto& [kind, id] : touched) MG_RETURN_IF_ERROR(Recompute(ws, kind, id));
    return db_.Run(
        "UPDATE workspaces SET synced = 1, cursor = ?, head_seq = max(head_seq, ?), epoch = ?, "
        "last_sync_at = ?, last_error = '' WHERE id = ?",
        head, head, epoch, NowRfc3339(), ws);
  });
}

// ---- the server's state and the local view ------------------------------------------

Status Replica::StoreServerMemory(const Memory& m, bool has_pending, const json* server_json) {
  if (!has_pending) {
    // Nothing of ours is pending for it: the view is the server's state, so
    // one upsert does it, guarded so an older state never overwrites a newer.
    MG_ASSIGN_OR_RETURN(auto up, db_.Prepared(
                                     "INSERT INTO memories(" + std::string(sql::kMemoryColumns) +
                                     ", server) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) " +
                                     kUpsertMemorySet + ", server = '=' "
                                     "WHERE memories.server IS NULL OR (memories.server = '=' AND "
                                     "memories.version < excluded.version) OR (memories.server <> '=' AND "
                                     "json_extract(memories.server, '$.version') < excluded.version)"));
    sql::BindMemoryRow(*up, m);
    up->Bind(17, "=");
    return up->Run();
  }
  const std::string server_text = sql::DumpJson(server_json ? *server_json : m.ToJson());
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared(
                                    "SELECT CASE server WHEN '=' THEN version ELSE json_extract(server, '$.version') END "
                                    "FROM memories WHERE workspace_id = ? AND id = ?"));
    q->BindAll(m.workspace_id, m.id);
    if (q->Step() && !q->IsNull(0) && q->Int(0) >= m.version) return Status::Ok();  // not newer
    MG_RETURN_IF_ERROR(q->status());
  }
  MG_ASSIGN_OR_RETURN(auto ins, db_.Prepared("INSERT INTO memories(" + std::string(sql::kMemoryColumns) +
                                             ", server) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                             "ON CONFLICT(workspace_id, id) DO UPDATE SET server = excluded.server"));
  sql::BindMemoryRow(*ins, m);
  ins->Bind(17, server_text);
  MG_RETURN_IF_ERROR(ins->Run());
  return RecomputeMemory(m.workspace_id, m.id);
}

Result<std::optional<Memory>> Replica::ServerMemory(const std::string& ws, const std::string& id) {
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

Result<bool> Replica::HasPending(const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT 1 FROM outbox WHERE workspace_id = ? AND entity_id = ? "
                                           "AND state = 'pending' LIMIT 1"));
  q->BindAll(ws, id);
  bool found = q->Step();
  MG_RETURN_IF_ERROR(q->status());
  return found;
}

Status Replica::StoreServerRelationship(const Relationship& r) {
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared(
                                    "SELECT json_extract(server, '$.version') FROM relationships "
                                    "WHERE workspace_id = ? AND id = ?"));
    q->BindAll(r.workspace_id, r.id);
    if (q->Step() && !q->IsNull(0) && q->Int(0) >= r.version) return Status::Ok();
    MG_RETURN_IF_ERROR(q->status());
  }
  MG_ASSIGN_OR_RETURN(auto ins, db_.Prepared("INSERT INTO relationships(" + std::string(sql::kRelationshipColumns) +
                                             ", server) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                                             "ON CONFLICT(workspace_id, id) DO UPDATE SET server = excluded.server"));
  sql::BindRelationshipRow(*ins, r);
  ins->Bind(16, sql::DumpJson(r.ToJson()));
  MG_RETURN_IF_ERROR(ins->Run());
  return RecomputeRelationship(r.workspace_id, r.id);
}

Status Replica::Recompute(const std::string& ws, const std::string& kind, const std::string& id) {
  return IsMemoryOp(kind) ? RecomputeMemory(ws, id) : RecomputeRelationship(ws, id);
}

// An entity's queued ops, oldest first.
Result<std::vector<OutboxOp>> Replica::PendingOps(const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kOpColumns +
                                           " FROM outbox WHERE workspace_id = ? AND entity_id = ? "
                                           "AND state = 'pending' ORDER BY seq"));
  q->BindAll(ws, id);
  std::vector<OutboxOp> ops;
  while (q->Step()) ops.push_back(ReadOp(*q));
  MG_RETURN_IF_ERROR(q->status());
  return ops;
}

// The local view = the server's state with the entity's pending ops replayed
// in order. No server state and no pending create: the row goes.
Status Replica::RecomputeMemory(const std::string& ws, const std::string& id) {
  std::optional<Memory> view;
  MG_ASSIGN_OR_RETURN(view, ServerMemory(ws, id));
  MG_ASSIGN_OR_RETURN(std::vector<OutboxOp> ops, PendingOps(ws, id));
  for (const auto& op : ops) {
    if (op.kind == "memory.create" && !view) {
      auto draft = ParseMemoryCreate(op.payload);
      if (!draft.ok()) continue;
      Memory m = std::move(draft).value();
      m.workspace_id = ws;
      m.created_by = m.updated_by = user_id_;
      if (m.created_at.empty()) m.created_at = op.created_at;
      m.updated_at = m.created_at;
      view = std::move(m);
    } else if (op.kind == "memory.update" && view) {
      auto patch = ParseMemoryPatch(op.payload);
      if (!patch.ok()) continue;
      ApplyPatch(*view, *patch);
      view->updated_by = user_id_;
      view->updated_at = op.created_at;
    } else if (op.kind == "memory.delete" && view) {
      view->deleted = true;
    }
  }
  if (!view) return db_.Run("DELETE FROM memories WHERE workspace_id = ? AND id = ?", ws, id);
  // With nothing pending the row is the server's state again.
  if (ops.empty() && view->version > 0)
    return db_.Run("UPDATE memories SET server = '=' WHERE workspace_id = ? AND id = ?", ws, id);
  MG_ASSIGN_OR_RETURN(auto up, db_.Prepared(
                                   "INSERT INTO memories(" + std::string(sql::kMemoryColumns) +
                                   ", server) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) " +
                                   kUpsertMemorySet));
  sql::BindMemoryRow(*up, *view);
  return up->Run();
}

Status Replica::RecomputeRelationship(const std::string& ws, const std::string& id) {
  std::optional<Relationship> view;
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT server FROM relationships WHERE workspace_id = ? AND id = ?"));
    q->BindAll(ws, id);
    if (q->Step() && !q->IsNull(0)) view = Relationship::FromJson(sql::ParseStoredJson(q->Text(0), json()));
    MG_RETURN_IF_ERROR(q->status());
  }
  MG_ASSIGN_OR_RETURN(std::vector<OutboxOp> ops, PendingOps(ws, id));
  for (const auto& op : ops) {
    if (op.kind == "relationship.create" && !view) {
      auto draft = ParseRelationshipCreate(op.payload);
      if (!draft.ok()) continue;
      Relationship r = std::move(draft).value();
      r.workspace_id = ws;
      r.created_by = r.updated_by = user_id_;
      r.created_at = r.updated_at = op.created_at;
      view = std::move(r);
    } else if (op.kind == "relationship.delete" && view) {
      view->deleted = true;
    }
  }
  if (!view) return db_.Run("DELETE FROM relationships WHERE workspace_id = ? AND id = ?", ws, id);
  MG_ASSIGN_OR_RETURN(auto up, db_.Prepared(
                                   "INSERT INTO relationships(" + std::string(sql::kRelationshipColumns) +
                                   ", server) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) "
                                   "ON CONFLICT(workspace_id, id) DO UPDATE SET type = excluded.type, "
                                   "strength = excluded.strength, confidence = excluded.confidence, "
                                   "context = excluded.context, evidence_count = excluded.evidence_count, "
                                   "updated_by = excluded.updated_by, updated_at = excluded.updated_at, "
                                   "version = excluded.version, deleted = excluded.deleted"));
  sql::BindRelationshipRow(*up, *view);
  return up->Run();
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
        if (auto m = Memory::FromJson(e.entity)) {
          MG_ASSIGN_OR_RETURN(bool pending, HasPending(ws, m->id));
          MG_RETURN_IF_ERROR(StoreServerMemory(*m, pending, &e.entity));
        }
      } else if (e.entity_type == "relationship") {
        if (auto r = Relationship::FromJson(e.entity)) MG_RETURN_IF_ERROR(StoreServerRelationship(*r));
      } else if (e.entity_type == "conflict") {
        if (auto c = Conflict::FromJson(e.entity)) {
          if (c->seq == 0) c->seq = e.seq;  // recorded by this very event
          MG_RETURN_IF_ERROR(StoreConflict(*c));
        }
      } else if (e.entity_type == "member" && e.entity.value("user_id", "") == user_id_) {
        if (e.type == "member_removed") result.removed_from_workspace = true;
        else MG_RETURN_IF_ERROR(db_.Run("UPDATE workspaces SET role = ? WHERE id = ?", e.entity.value("role", ""), ws));
      } else if (e.entity_type == "workspace" && e.type == "workspace_updated") {
        MG_RETURN_IF_ERROR(db_.Run("UPDATE workspaces SET name = ?, slug = ? WHERE id = ?",
                                   e.entity.value("name", ""), e.entity.value("slug", ""), ws));
      }
      cursor = e.seq;
      ++result.applied;
    }
    return db_.Run("UPDATE workspaces SET cursor = ?, head_seq = max(head_seq, ?) WHERE id = ?", cursor, cursor, ws);
  });
  if (!s.ok()) return s;
  return result;
}

// ---- local writes ----------------------------------------------------------------------

Result<OutboxOp> Replica::Enqueue(const std::string& ws, const std::string& kind, const std::string& entity_id,
                                  json payload) {
  if (IsMemoryOp(kind)) {
    MG_ASSIGN_OR_RETURN(auto server, ServerMemory(ws, entity_id));
    // The row is about to differ from the server's state: keep that state.
    if (server)
      MG_RETURN_IF_ERROR(db_.Run("UPDATE memories SET server = ? WHERE workspace_id = ? AND id = ? AND server = '='",
                                 sql::DumpJson(server->ToJson()), ws, entity_id));
    if (kind == "memory.update" || kind == "memory.delete") {
      // The version this edit was made on, for the server's merge: the
      // server's state we hold, unless an earlier op of ours on the memory
      // is still queued — then the base is that op's result, filled in by
      // CompleteOp when it is known.
      MG_ASSIGN_OR_RETURN(bool queued, HasPending(ws, entity_id));
      if (!queued && server && !payload.contains("base_version")) payload["base_version"] = server->version;
      if (kind == "memory.update" && !payload.contains("edited_at")) payload["edited_at"] = NowRfc3339();
    }
  }
  OutboxOp op;
  op.op_id = NewUuidV7();
  op.workspace_id = ws;
  op.kind = kind;
  op.entity_id = entity_id;
  op.payload = std::move(payload);
  op.state = "pending";
  op.created_at = NowRfc3339();
  MG_RETURN_IF_ERROR(db_.Run(
      "INSERT INTO outbox(op_id, workspace_id, kind, entity_id, payload, created_at) VALUES(?, ?, ?, ?, ?, ?)",
      op.op_id, ws, kind, entity_id, sql::DumpJson(op.payload), op.created_at));
  op.seq = sqlite3_last_insert_rowid(db_.raw());
  return op;
}

Result<SyncState> Replica::EntitySync(const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared(
                                  "SELECT max(state = 'pending'), max(state = 'failed') FROM outbox "
                                  "WHERE workspace_id = ? AND entity_id = ?"));
  q->BindAll(ws, id);
  SyncState s = SyncState::kSynced;
  if (q->Step()) {
    if (!q->IsNull(0) && q->Int(0)) s = SyncState::kPending;
    else if (!q->IsNull(1) && q->Int(1)) s = SyncState::kFailed;
  }
  MG_RETURN_IF_ERROR(q->status());
  return s;
}

namespace {
Status NotInReplica(const std::string& what, const std::string& id) {
  return Status::NotFound("no " + what + " " + id + " in this workspace (locally); `mgteam sync now` fetches news");
}
}  // namespace

Result<std::optional<LocalMemory>> Replica::LoadMemory(const std::string& ws, const std::string& id) {
  std::optional<LocalMemory> out;
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared(kMemorySelect + " FROM memories WHERE workspace_id = ? AND id = ?"));
    q->BindAll(ws, id);
    if (q->Step()) out = LocalMemory{sql::ReadMemoryRow(*q), SyncState::kSynced, {}};
    MG_RETURN_IF_ERROR(q->status());
  }
  if (out) {
    MG_ASSIGN_OR_RETURN(out->sync, EntitySync(ws, id));
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT id FROM conflicts WHERE workspace_id = ? AND memory_id = ? "
                                             "AND status = 'open' ORDER BY id"));
    q->BindAll(ws, id);
    while (q->Step()) out->open_conflicts.push_back(q->Text(0));
    MG_RETURN_IF_ERROR(q->status());
  }
  return out;
}

Result<std::optional<LocalRelationship>> Replica::LoadRelationship(const std::string& ws, const std::string& id) {
  std::optional<LocalRelationship> out;
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared(kRelationshipSelect +
                                             " FROM relationships WHERE workspace_id = ? AND id = ?"));
    q->BindAll(ws, id);
    if (q->Step()) out = LocalRelationship{sql::ReadRelationshipRow(*q), SyncState::kSynced};
    MG_RETURN_IF_ERROR(q->status());
  }
  if (out) {
    MG_ASSIGN_OR_RETURN(out->sync, EntitySync(ws, id));
  }
  return out;
}

Result<LocalMemory> Replica::LiveMemory(const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto m, LoadMemory(ws, id));
  if (!m || m->memory.deleted) return NotInReplica("memory", id);
  return std::move(*m);
}

Result<LocalMemory> Replica::CreateMemory(const std::string& ws, Memory draft, std::string* op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (draft.id.empty()) draft.id = NewUuidV7();
  if (draft.created_at.empty()) draft.created_at = NowRfc3339();
  MG_RETURN_IF_ERROR(Tx([&]() -> Status {
    MG_ASSIGN_OR_RETURN(auto existing, LoadMemory(ws, draft.id));
    if (existing)
      return Status::Conflict("already_exists", "a memory with id " + draft.id + " already exists")
          .with("id", draft.id);
    MG_ASSIGN_OR_RETURN(OutboxOp op, Enqueue(ws, "memory.create", draft.id, CreateBody(draft)));
    if (op_id) *op_id = op.op_id;
    return RecomputeMemory(ws, draft.id);
  }));
  return LiveMemory(ws, draft.id);
}

Result<LocalMemory> Replica::UpdateMemory(const std::string& ws, const std::string& id, const MemoryPatch& patch,
                                          std::string* op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_RETURN_IF_ERROR(Tx([&]() -> Status {
    MG_RETURN_IF_ERROR(LiveMemory(ws, id).status());
    MG_ASSIGN_OR_RETURN(OutboxOp op, Enqueue(ws, "memory.update", id, patch.ToJson()));
    if (op_id) *op_id = op.op_id;
    return RecomputeMemory(ws, id);
  }));
  return LiveMemory(ws, id);
}

Result<LocalMemory> Replica::DeleteMemory(const std::string& ws, const std::string& id, std::string* op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_RETURN_IF_ERROR(Tx([&]() -> Status {
    MG_RETURN_IF_ERROR(LiveMemory(ws, id).status());
    MG_ASSIGN_OR_RETURN(OutboxOp op, Enqueue(ws, "memory.delete", id, json::object()));
    if (op_id) *op_id = op.op_id;
    return RecomputeMemory(ws, id);
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
    for (const auto* end : {&draft.from_memory_id, &draft.to_memory_id}) {
      auto m = LiveMemory(ws, *end);
      if (!m.ok())
        return Status::Invalid("memory_not_found", "no memory " + *end + " in this workspace")
            .with("field", end == &draft.from_memory_id ? "from_memory_id" : "to_memory_id");
    }
    json body = draft.ToJson();
    for (const char* k : {"workspace_id", "created_by", "updated_by", "created_at", "updated_at", "version", "deleted"})
      body.erase(k);
    if (body["context"].is_null()) body.erase("context");
    MG_ASSIGN_OR_RETURN(OutboxOp op, Enqueue(ws, "relationship.create", draft.id, std::move(body)));
    if (op_id) *op_id = op.op_id;
    return RecomputeRelationship(ws, draft.id);
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
    MG_ASSIGN_OR_RETURN(OutboxOp op, Enqueue(ws, "relationship.delete", id, json::object()));
    if (op_id) *op_id = op.op_id;
    return RecomputeRelationship(ws, id);
  }));
  MG_ASSIGN_OR_RETURN(auto r, LoadRelationship(ws, id));
  if (!r) return NotInReplica("relationship", id);
  return std::move(*r);
}

// ---- the outbox ------------------------------------------------------------------

Result<std::optional<OutboxOp>> Replica::NextOp(const std::string& ws) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kOpColumns +
                                           " FROM outbox WHERE workspace_id = ? AND state = 'pending' "
                                           "ORDER BY seq LIMIT 1"));
  q->BindAll(ws);
  std::optional<OutboxOp> out;
  if (q->Step()) out = ReadOp(*q);
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Result<std::optional<OutboxOp>> Replica::FindOp(const std::string& op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kOpColumns + " FROM outbox WHERE op_id = ?"));
  q->BindAll(op_id);
  std::optional<OutboxOp> out;
  if (q->Step()) out = ReadOp(*q);
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Status Replica::CompleteOp(const OutboxOp& op, const json& entity) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() -> Status {
    MG_RETURN_IF_ERROR(db_.Run("DELETE FROM outbox WHERE op_id = ?", op.op_id));
    if (IsMemoryOp(op.kind)) {
      if (auto m = Memory::FromJson(entity); m && m->workspace_id == op.workspace_id) {
        MG_ASSIGN_OR_RETURN(bool pending, HasPending(op.workspace_id, m->id));
        MG_RETURN_IF_ERROR(StoreServerMemory(*m, pending));
      }
    } else if (auto r = Relationship::FromJson(entity); r && r->workspace_id == op.workspace_id) {
      MG_RETURN_IF_ERROR(StoreServerRelationship(*r));
    }
    if (IsMemoryOp(op.kind)) MG_RETURN_IF_ERROR(RebaseNextOp(op.workspace_id, op.entity_id, entity));
    // Conflicts this op caused, known now rather than when the log says so.
    if (auto list = entity.is_object() ? entity.find("conflicts") : entity.end();
        entity.is_object() && list != entity.end() && list->is_array())
      for (const auto& j : *list)
        if (auto c = Conflict::FromJson(j); c && c->workspace_id == op.workspace_id) MG_RETURN_IF_ERROR(StoreConflict(*c));
    return Recompute(op.workspace_id, op.kind, op.entity_id);
  });
}

// The next queued edit of the memory was made on top of the op that just
// completed: its base is the version the server gave that op.
Status Replica::RebaseNextOp(const std::string& ws, const std::string& id, const json& entity) {
  int64_t version = entity.is_object() ? entity.value("version", int64_t{0}) : 0;
  if (version <= 0) return Status::Ok();
  MG_ASSIGN_OR_RETURN(std::vector<OutboxOp> pending, PendingOps(ws, id));
  if (pending.empty()) return Status::Ok();
  OutboxOp& next = pending.front();
  if ((next.kind != "memory.update" && next.kind != "memory.delete") || next.payload.contains("base_version"))
    return Status::Ok();
  next.payload["base_version"] = version;
  return db_.Run("UPDATE outbox SET payload = ? WHERE op_id = ?", sql::DumpJson(next.payload), next.op_id);
}

// ---- conflicts ---------------------------------------------------------------------

Status Replica::StoreConflict(const Conflict& c) {
  return db_.Run("INSERT INTO conflicts(workspace_id, id, memory_id, status, data) VALUES(?, ?, ?, ?, ?) "
                 "ON CONFLICT(workspace_id, id) DO UPDATE SET status = excluded.status, data = excluded.data",
                 c.workspace_id, c.id, c.memory_id, c.status, sql::DumpJson(c.ToJson()));
}

Result<std::vector<Conflict>> Replica::ListConflicts(const std::string& ws, bool open_only,
                                                     const std::optional<std::string>& memory_id) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT data FROM conflicts WHERE workspace_id = ?1 AND "
                                           "(?2 IS NULL OR memory_id = ?2) AND (?3 = 0 OR status = 'open') "
                                           "ORDER BY id DESC"));
  q->Bind(1, ws);
  q->Bind(2, memory_id);
  q->Bind(3, static_cast<int64_t>(open_only));
  std::vector<Conflict> out;
  while (q->Step())
    if (auto c = Conflict::FromJson(sql::ParseStoredJson(q->Text(0), json()))) out.push_back(std::move(*c));
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Result<std::optional<Conflict>> Replica::GetConflict(const std::string& ws, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT data FROM conflicts WHERE workspace_id = ? AND id = ?"));
  q->BindAll(ws, id);
  std::optional<Conflict> out;
  if (q->Step()) out = Conflict::FromJson(sql::ParseStoredJson(q->Text(0), json()));
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Status Replica::FailOp(const OutboxOp& op, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() -> Status {
    MG_RETURN_IF_ERROR(db_.Run("UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ? "
                               "WHERE op_id = ?", error, op.op_id));
    return Recompute(op.workspace_id, op.kind, op.entity_id);
  });
}

Status Replica::DeferOp(const OutboxOp& op, const std::string& error, const std::string& next_attempt_at) {
  std::lock_guard<std::mutex> lock(mu_);
  return db_.Run("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE op_id = ?",
                 error, next_attempt_at, op.op_id);
}

Status Replica::DismissOp(const std::string& op_id) {
  std::lock_guard<std::mutex> lock(mu_);
  return Tx([&]() -> Status {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kOpColumns + " FROM outbox WHERE op_id = ?"));
    q->BindAll(op_id);
    if (!q->Step()) return q->status();
    OutboxOp op = ReadOp(*q);
    MG_RETURN_IF_ERROR(db_.Run("DELETE FROM outbox WHERE op_id = ?", op_id));
    return Recompute(op.workspace_id, op.kind, op.entity_id);
  });
}

Result<std::vector<OutboxOp>> Replica::Ops(const std::string& ws) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kOpColumns +
                                           " FROM outbox WHERE ?1 = '' OR workspace_id = ?1 ORDER BY seq"));
  q->Bind(1, ws);
  std::vector<OutboxOp> out;
  while (q->Step()) out.push_back(ReadOp(*q));
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Result<int> Replica::RetryFailed(const std::string& ws) {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  MG_RETURN_IF_ERROR(Tx([&]() -> Status {
    std::vector<OutboxOp> failed;
    {
      MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + kOpColumns + " FROM outbox WHERE state = 'failed' "
                                               "AND (?1 = '' OR workspace_id = ?1)"));
      q->Bind(1, ws);
      while (q->Step()) failed.push_back(ReadOp(*q));
      MG_RETURN_IF_ERROR(q->status());
    }
    for (const auto& op : failed) {
      MG_RETURN_IF_ERROR(db_.Run("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = '' "
                                 "WHERE op_id = ?", op.op_id));
      MG_RETURN_IF_ERROR(Recompute(op.workspace_id, op.kind, op.entity_id));
    }
    n = static_cast<int>(failed.size());
    return Status::Ok();
  }));
  return n;
}

// ---- reads -----------------------------------------------------------------------------

// Sync states for a batch of rows in one query.
Status Replica::FillSync(const std::string& ws, std::vector<LocalMemory>& rows) {
  if (rows.empty()) return Status::Ok();
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT entity_id, max(state = 'pending'), max(state = 'failed') "
                                           "FROM outbox WHERE workspace_id = ? GROUP BY entity_id"));
  q->BindAll(ws);
  std::map<std::string, SyncState> states;
  while (q->Step())
    states[q->Text(0)] = q->Int(1) ? SyncState::kPending : q->Int(2) ? SyncState::kFailed : SyncState::kSynced;
  MG_RETURN_IF_ERROR(q->status());
  for (auto& r : rows)
    if (auto it = states.find(r.memory.id); it != states.end()) r.sync = it->second;
  MG_ASSIGN_OR_RETURN(auto c, db_.Prepared("SELECT memory_id, id FROM conflicts WHERE workspace_id = ? "
                                           "AND status = 'open' ORDER BY id"));
  c->BindAll(ws);
  std::map<std::string, std::vector<std::string>> open;
  while (c->Step()) open[c->Text(0)].push_back(c->Text(1));
  MG_RETURN_IF_ERROR(c->status());
  for (auto& r : rows)
    if (auto it = open.find(r.memory.id); it != open.end()) r.open_conflicts = it->second;
  return Status::Ok();
}

Result<std::vector<LocalMemory>> Replica::ListMemories(const MemoryFilter& f) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string sql = kMemorySelect + " FROM memories WHERE workspace_id = ?1";
  if (!f.include_deleted) sql += " AND deleted = 0";
  if (f.type) sql += " AND type = ?2";
  if (f.tag) sql += " AND EXISTS (SELECT 1 FROM json_each(memories.tags) WHERE value = ?3)";
  sql += " ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5";
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared(sql));
  q->Bind(1, f.workspace_id);
  if (f.type) q->Bind(2, *f.type);
  if (f.tag) q->Bind(3, *f.tag);
  q->Bind(4, static_cast<int64_t>(f.limit)).Bind(5, static_cast<int64_t>(f.offset));
  std::vector<LocalMemory> out;
  while (q->Step()) out.push_back(LocalMemory{sql::ReadMemoryRow(*q), SyncState::kSynced, {}});
  MG_RETURN_IF_ERROR(q->status());
  MG_RETURN_IF_ERROR(FillSync(f.workspace_id, out));
  return out;
}

Result<std::optional<LocalMemory>> Replica::GetMemory(const std::string& ws, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadMemory(ws, id);
}

Result<std::vector<LocalMemory>> Replica::Search(const std::string& ws, const std::string& query, int limit) {
  std::string match = FtsQuery(query);
  if (match.empty()) return Status::Invalid("empty_query", "say what to search for");
  std::lock_guard<std::mutex> lock(mu_);
  std::string cols;
  for (std::string_view c : {"workspace_id", "id", "type", "title", "content", "summary", "tags", "importance",
                             "confidence", "context", "created_by", "updated_by", "created_at", "updated_at",
                             "version", "deleted"})
    cols += (cols.empty() ? "m." : ", m.") + std::string(c);
  // Ranked by the index's own `rank` (bm25 weighting title 10, content 1,
  // summary 4, tags 3; set in schema v2): twice as fast as calling bm25() per
  // row when a word matches a third of 100,000 memories.
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT " + cols +
                                           " FROM memories_fts f JOIN memories m ON m.rowid = f.rowid "
                                           "WHERE memories_fts MATCH ? AND m.workspace_id = ? AND m.deleted = 0 "
                                           "ORDER BY f.rank LIMIT ?"));
  q->BindAll(match, ws, static_cast<int64_t>(limit));
  std::vector<LocalMemory> out;
  while (q->Step()) out.push_back(LocalMemory{sql::ReadMemoryRow(*q), SyncState::kSynced, {}});
  if (!q->status().ok())
    return Status::Invalid("bad_query", "cannot search for '" + query + "': " + q->status().message());
  MG_RETURN_IF_ERROR(FillSync(ws, out));
  return out;
}

Result<std::vector<LocalRelationship>> Replica::ListRelationships(const std::string& ws,
                                                                  const std::optional<std::string>& memory_id,
                                                                  const std::optional<std::string>& type,
                                                                  bool include_deleted, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string cols;
  for (std::string_view c : {"workspace_id", "id", "from_memory_id", "to_memory_id", "type", "strength",
                             "confidence", "context", "evidence_count", "created_by", "updated_by", "created_at",
                             "updated_at", "version", "deleted"})
    cols += (cols.empty() ? "r." : ", r.") + std::string(c);
  // A relationship to a memory deleted here (even before the server said so)
  // is hidden like the server's cascade would.
  std::string sql = "SELECT " + cols + " FROM relationships r WHERE r.workspace_id = ?1";
  if (!include_deleted)
    sql += " AND r.deleted = 0 AND NOT EXISTS (SELECT 1 FROM memories m WHERE m.workspace_id = r.workspace_id "
           "AND m.id IN (r.from_memory_id, r.to_memory_id) AND m.deleted = 1)";
  if (memory_id) sql += " AND (r.from_memory_id = ?2 OR r.to_memory_id = ?2)";
  if (type) sql += " AND r.type = ?3";
  sql += " ORDER BY r.created_at DESC, r.id DESC LIMIT ?4";
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared(sql));
  q->Bind(1, ws);
  if (memory_id) q->Bind(2, *memory_id);
  if (type) q->Bind(3, *type);
  q->Bind(4, static_cast<int64_t>(limit));
  std::vector<LocalRelationship> out;
  while (q->Step()) out.push_back(LocalRelationship{sql::ReadRelationshipRow(*q), SyncState::kSynced});
  MG_RETURN_IF_ERROR(q->status());
  for (auto& r : out) {
    MG_ASSIGN_OR_RETURN(r.sync, EntitySync(ws, r.relationship.id));
  }
  return out;
}

Result<std::optional<LocalRelationship>> Replica::GetRelationship(const std::string& ws, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadRelationship(ws, id);
}

Result<int64_t> Replica::CountMemories(const std::string& ws) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT count(*) FROM memories WHERE workspace_id = ? AND deleted = 0"));
  q->BindAll(ws);
  int64_t n = q->Step() ? q->Int(0) : 0;
  MG_RETURN_IF_ERROR(q->status());
  return n;
}

}  // namespace mgteam::agent
