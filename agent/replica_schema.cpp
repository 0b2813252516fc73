#include "replica_schema.h"

namespace mgteam::agent {
namespace {

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

// Version 4: a refused op keeps the server's status and reason, so the CLI
// reports it with the documented exit code (4 for a role, 6 for a conflict)
// however late it learns of it.
constexpr std::string_view kSchemaV4 = R"sql(
ALTER TABLE outbox ADD COLUMN error_status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN error_reason TEXT NOT NULL DEFAULT '';
)sql";

}  // namespace

const std::vector<std::string_view>& ReplicaMigrations() {
  static const std::vector<std::string_view> kAll = {kSchemaV1, kSchemaV2, kSchemaV3, kSchemaV4};
  return kAll;
}

}  // namespace mgteam::agent
