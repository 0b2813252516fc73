// The PostgreSQL schema: schema.cpp's SQLite migrations, one for one, with
// the same tables, columns, keys and indexes, so that `mgteam-server migrate
// --from sqlite:...` copies table by table and every value round-trips:
//
// * INTEGER -> BIGINT, REAL -> DOUBLE PRECISION, BLOB -> BYTEA; times and
//   JSON stay TEXT, byte for byte as the server wrote them. Booleans stay
//   0/1 in a BIGINT, as SQLite keeps them.
// * Every TEXT column is COLLATE "C": SQLite compares text as bytes, and the
//   order of ids, times and names (cursors, pages, lists) must be the same on
//   both stores whatever the database's default collation is.
// * Constraint names are PostgreSQL's defaults (users_email_norm_key,
//   workspaces_slug_key, memories_pkey, ...), which UniqueViolation
//   (store.cpp) maps to the same reasons as SQLite's "table.column".
//
// A migration, once released, is never edited: add a new one, here and in
// schema.cpp.
#include "store/schema.h"

namespace mgteam::server {

namespace {

// Version 1: schema.cpp's version 1.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE users(
  id            TEXT COLLATE "C" PRIMARY KEY,
  email         TEXT COLLATE "C" NOT NULL,
  email_norm    TEXT COLLATE "C" NOT NULL UNIQUE,
  name          TEXT COLLATE "C" NOT NULL,
  password_hash TEXT COLLATE "C" NOT NULL,
  created_at    TEXT COLLATE "C" NOT NULL
);

CREATE TABLE tokens(
  id           TEXT COLLATE "C" PRIMARY KEY,
  user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name         TEXT COLLATE "C" NOT NULL,
  hash         TEXT COLLATE "C" NOT NULL UNIQUE,
  prefix       TEXT COLLATE "C" NOT NULL,
  created_at   TEXT COLLATE "C" NOT NULL,
  last_used_at TEXT COLLATE "C",
  revoked_at   TEXT COLLATE "C"
);
CREATE INDEX tokens_by_user ON tokens(user_id);

CREATE TABLE workspaces(
  id         TEXT COLLATE "C" PRIMARY KEY,
  kind       TEXT COLLATE "C" NOT NULL CHECK (kind IN ('personal', 'team')),
  name       TEXT COLLATE "C" NOT NULL,
  slug       TEXT COLLATE "C" NOT NULL UNIQUE,
  owner_id   TEXT COLLATE "C" NOT NULL REFERENCES users(id),
  epoch      TEXT COLLATE "C" NOT NULL,
  head_seq   BIGINT NOT NULL DEFAULT 0,
  created_at TEXT COLLATE "C" NOT NULL,
  updated_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE memberships(
  workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role         TEXT COLLATE "C" NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  joined_at    TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships(user_id);

CREATE TABLE events(
  workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  seq          BIGINT NOT NULL,
  type         TEXT COLLATE "C" NOT NULL,
  actor        TEXT COLLATE "C" NOT NULL,
  entity_type  TEXT COLLATE "C" NOT NULL,
  entity_id    TEXT COLLATE "C" NOT NULL,
  created_at   TEXT COLLATE "C" NOT NULL,
  data         TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (workspace_id, seq)
);
CREATE INDEX events_by_entity ON events(workspace_id, entity_id, seq);

CREATE TABLE memories(
  workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id           TEXT COLLATE "C" NOT NULL,
  type         TEXT COLLATE "C" NOT NULL,
  title        TEXT COLLATE "C" NOT NULL,
  content      TEXT COLLATE "C" NOT NULL,
  summary      TEXT COLLATE "C",
  tags         TEXT COLLATE "C" NOT NULL,
  importance   DOUBLE PRECISION NOT NULL,
  confidence   DOUBLE PRECISION NOT NULL,
  context      TEXT COLLATE "C" NOT NULL,
  created_by   TEXT COLLATE "C" NOT NULL,
  updated_by   TEXT COLLATE "C" NOT NULL,
  created_at   TEXT COLLATE "C" NOT NULL,
  updated_at   TEXT COLLATE "C" NOT NULL,
  version      BIGINT NOT NULL,
  deleted      BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX memories_by_created ON memories(workspace_id, deleted, created_at DESC, id DESC);

CREATE TABLE relationships(
  workspace_id   TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id             TEXT COLLATE "C" NOT NULL,
  from_memory_id TEXT COLLATE "C" NOT NULL,
  to_memory_id   TEXT COLLATE "C" NOT NULL,
  type           TEXT COLLATE "C" NOT NULL,
  strength       DOUBLE PRECISION NOT NULL,
  confidence     DOUBLE PRECISION NOT NULL,
  context        TEXT COLLATE "C",
  evidence_count BIGINT NOT NULL,
  created_by     TEXT COLLATE "C" NOT NULL,
  updated_by     TEXT COLLATE "C" NOT NULL,
  created_at     TEXT COLLATE "C" NOT NULL,
  updated_at     TEXT COLLATE "C" NOT NULL,
  version        BIGINT NOT NULL,
  deleted        BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX relationships_by_from ON relationships(workspace_id, from_memory_id);
CREATE INDEX relationships_by_to ON relationships(workspace_id, to_memory_id);
CREATE INDEX relationships_by_created ON relationships(workspace_id, deleted, created_at DESC, id DESC);

CREATE TABLE idempotency(
  key_hash     TEXT COLLATE "C" PRIMARY KEY,
  request_hash TEXT COLLATE "C" NOT NULL,
  status       BIGINT NOT NULL,
  sealed_body  BYTEA NOT NULL,
  created_at   TEXT COLLATE "C" NOT NULL
);

CREATE TABLE invitations(
  id           TEXT COLLATE "C" PRIMARY KEY,
  workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  email_norm   TEXT COLLATE "C" NOT NULL,
  role         TEXT COLLATE "C" NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  inviter_id   TEXT COLLATE "C" NOT NULL REFERENCES users(id),
  token_hash   TEXT COLLATE "C" NOT NULL UNIQUE,
  created_at   TEXT COLLATE "C" NOT NULL,
  expires_at   TEXT COLLATE "C" NOT NULL,
  accepted_at  TEXT COLLATE "C",
  accepted_by  TEXT COLLATE "C",
  revoked_at   TEXT COLLATE "C"
);
CREATE INDEX invitations_by_workspace ON invitations(workspace_id);
)sql";

// Version 2: conflict records.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE conflicts(
  workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  id           TEXT COLLATE "C" NOT NULL,
  memory_id    TEXT COLLATE "C" NOT NULL,
  status       TEXT COLLATE "C" NOT NULL CHECK (status IN ('open', 'resolved')),
  data         TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
CREATE INDEX conflicts_by_memory ON conflicts(workspace_id, memory_id, status);
CREATE INDEX conflicts_by_status ON conflicts(workspace_id, status, id);
)sql";

// Version 3: token expiry; idempotency records indexed by age.
constexpr std::string_view kV3 = R"sql(
ALTER TABLE tokens ADD COLUMN expires_at TEXT COLLATE "C";
CREATE INDEX idempotency_by_created ON idempotency(created_at);
)sql";

// Version 4: the index FindLiveRelationship needs (see schema.cpp).
constexpr std::string_view kV4 = R"sql(
CREATE INDEX relationships_by_link ON relationships(workspace_id, from_memory_id, to_memory_id, type);
DROP INDEX relationships_by_from;
)sql";

}  // namespace

const std::vector<std::string_view>& PostgresMigrations() {
  static const std::vector<std::string_view> kMigrations = {kV1, kV2, kV3, kV4};
  return kMigrations;
}

}  // namespace mgteam::server
