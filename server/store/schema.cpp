#include "store/schema.h"

namespace mgteam::server {

namespace {

// Version 1: accounts, workspaces, the change log, memories, relationships,
// idempotency records, invitations.
//
// Notes on choices that are not obvious:
// * memories/relationships are keyed by (workspace_id, id): ids are minted by
//   clients (offline creation, imports), and the same MemoryGraph export may be
//   imported into a personal and a team workspace.
// * events.data holds the event's full wire form, so replay and the stream
//   send stored bytes without re-serialising entities.
// * Deleting a workspace cascades to everything in it, its log included.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE users(
  id            TEXT PRIMARY KEY,
  email         TEXT NOT NULL,
  email_norm    TEXT NOT NULL UNIQUE,
  name          TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE tokens(
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  hash         TEXT NOT NULL UNIQUE,
  prefix       TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at   TEXT
) STRICT;
CREATE INDEX tokens_by_user ON tokens(user_id);

CREATE TABLE workspaces(
  id         TEXT PRIMARY KEY,
  kind       TEXT NOT NULL CHECK (kind IN ('personal', 'team')),
  name       TEXT NOT NULL,
  slug       TEXT NOT NULL UNIQUE,
  owner_id   TEXT NOT NULL REFERENCES users(id),
  epoch      TEXT NOT NULL,
  head_seq   INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE memberships(
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  joined_at    TEXT NOT NULL,
  PRIMARY KEY (workspace_id, user_id)
) STRICT;
CREATE INDEX memberships_by_user ON memberships(user_id);

CREATE TABLE events(
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  seq          INTEGER NOT NULL,
  type         TEXT NOT NULL,
  actor        TEXT NOT NULL,
  entity_type  TEXT NOT NULL,
  entity_id    TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  data         TEXT NOT NULL,
  PRIMARY KEY (workspace_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX events_by_entity ON events(workspace_id, entity_id, seq);

CREATE TABLE memories(
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
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
  deleted      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, id)
) STRICT;
CREATE INDEX memories_by_created ON memories(workspace_id, deleted, created_at DESC, id DESC);

CREATE TABLE relationships(
  workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
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
  deleted        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, id)
) STRICT;
CREATE INDEX relationships_by_from ON relationships(workspace_id, from_memory_id);
CREATE INDEX relationships_by_to ON relationships(workspace_id, to_memory_id);
CREATE INDEX relationships_by_created ON relationships(workspace_id, deleted, created_at DESC, id DESC);

CREATE TABLE idempotency(
  key_hash     TEXT PRIMARY KEY,
  request_hash TEXT NOT NULL,
  status       INTEGER NOT NULL,
  sealed_body  BLOB NOT NULL,
  created_at   TEXT NOT NULL
) STRICT;

CREATE TABLE invitations(
  id           TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  email_norm   TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  inviter_id   TEXT NOT NULL REFERENCES users(id),
  token_hash   TEXT NOT NULL UNIQUE,
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  accepted_at  TEXT,
  accepted_by  TEXT,
  revoked_at   TEXT
) STRICT;
CREATE INDEX invitations_by_workspace ON invitations(workspace_id);
)sql";

// Version 2: conflict records (docs/conflicts.md). `data` is the record's
// JSON; the columns are what lists filter and page on.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE conflicts(
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id           TEXT NOT NULL,
  memory_id    TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
  data         TEXT NOT NULL,
  PRIMARY KEY (workspace_id, id)
) STRICT;
CREATE INDEX conflicts_by_memory ON conflicts(workspace_id, memory_id, status);
CREATE INDEX conflicts_by_status ON conflicts(workspace_id, status, id);
)sql";

// Version 3: tokens may expire (docs/security.md, "Tokens"); idempotency
// records are purged by age, so they are indexed by it.
constexpr std::string_view kV3 = R"sql(
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
CREATE INDEX idempotency_by_created ON idempotency(created_at);
)sql";

// Version 4: the "already related?" check of every relationship create
// (FindLiveRelationship: workspace, from, to, type) had no index of its own,
// and without statistics SQLite chose relationships_by_created (workspace,
// deleted): a scan of the workspace's live relationships per create, so an
// import of 20,000 relationships took minutes. This index answers it, and
// answers "from this memory" too, so relationships_by_from goes.
constexpr std::string_view kV4 = R"sql(
CREATE INDEX relationships_by_link ON relationships(workspace_id, from_memory_id, to_memory_id, type);
DROP INDEX relationships_by_from;
)sql";

}  // namespace

const std::vector<std::string_view>& SqliteMigrations() {
  static const std::vector<std::string_view> kMigrations = {kV1, kV2, kV3, kV4};
  return kMigrations;
}

}  // namespace mgteam::server
