// The same statements as SqliteTx (sqlite_store.cpp), in PostgreSQL's
// dialect: $n parameters with explicit types where PostgreSQL cannot infer
// them ("$2::text IS NULL"), and every comparison and ORDER BY on TEXT
// columns that are COLLATE "C" (pg_schema.cpp), so results come back in the
// same order as SQLite's.
#include "store/postgres_tx.h"

#include "store/records.h"

#include "mgteam/sql_rows.h"

namespace mgteam::server {

namespace {

using records::kInvitationCols;
using records::kMemberSelect;
using records::kTokenCols;
using records::kWorkspaceCols;

constexpr const char* kMemoryCols = sql::kMemoryColumns;
constexpr const char* kRelCols = sql::kRelationshipColumns;

std::string Dump(const json& j) { return sql::DumpJson(j); }
json ParseStored(const std::string& s) { return sql::ParseStoredJson(s, json()); }

std::string Select(const char* columns, const char* rest) {
  std::string s = "SELECT ";
  s.append(columns).append(" ").append(rest);
  return s;
}

User ReadUser(const pg::Rows& r, int i) { return User{r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3)}; }

Memory ReadMemory(const pg::Rows& r, int i) {
  Memory m;
  m.workspace_id = r.Text(i, 0);
  m.id = r.Text(i, 1);
  m.type = r.Text(i, 2);
  m.title = r.Text(i, 3);
  m.content = r.Text(i, 4);
  m.summary = r.OptText(i, 5);
  for (const auto& t : sql::ParseStoredJson(r.Text(i, 6), json::array()))
    if (t.is_string()) m.tags.push_back(t.get<std::string>());
  m.importance = r.Real(i, 7);
  m.confidence = r.Real(i, 8);
  m.context = sql::ParseStoredJson(r.Text(i, 9), json::object());
  m.created_by = r.Text(i, 10);
  m.updated_by = r.Text(i, 11);
  m.created_at = r.Text(i, 12);
  m.updated_at = r.Text(i, 13);
  m.version = r.Int(i, 14);
  m.deleted = r.Int(i, 15) != 0;
  return m;
}

Relationship ReadRelationship(const pg::Rows& r, int i) {
  Relationship x;
  x.workspace_id = r.Text(i, 0);
  x.id = r.Text(i, 1);
  x.from_memory_id = r.Text(i, 2);
  x.to_memory_id = r.Text(i, 3);
  x.type = r.Text(i, 4);
  x.strength = r.Real(i, 5);
  x.confidence = r.Real(i, 6);
  x.context = r.OptText(i, 7);
  x.evidence_count = r.Int(i, 8);
  x.created_by = r.Text(i, 9);
  x.updated_by = r.Text(i, 10);
  x.created_at = r.Text(i, 11);
  x.updated_at = r.Text(i, 12);
  x.version = r.Int(i, 13);
  x.deleted = r.Int(i, 14) != 0;
  return x;
}

pg::Params MemoryParams(const Memory& m) {
  return pg::Params::Of(m.workspace_id, m.id, m.type, m.title, m.content, m.summary, Dump(json(m.tags)),
                        m.importance, m.confidence, Dump(m.context), m.created_by, m.updated_by,
                        m.created_at, m.updated_at, m.version, m.deleted);
}

pg::Params RelationshipParams(const Relationship& r) {
  return pg::Params::Of(r.workspace_id, r.id, r.from_memory_id, r.to_memory_id, r.type, r.strength,
                        r.confidence, r.context, r.evidence_count, r.created_by, r.updated_by, r.created_at,
                        r.updated_at, r.version, r.deleted);
}

// Row `i` of a result, as the shared readers (store/records.h) take it.
struct Row {
  const pg::Rows& rows;
  int i;
  std::string Text(int col) const { return rows.Text(i, col); }
  std::optional<std::string> OptText(int col) const { return rows.OptText(i, col); }
  int64_t Int(int col) const { return rows.Int(i, col); }
};
template <class Record>
auto Reader(Record (*read)(const Row&)) {
  return [read](const pg::Rows& r, int i) { return read(Row{r, i}); };
}
const auto ReadWorkspace = Reader<Workspace>(&records::ReadWorkspace<const Row>);
const auto ReadToken = Reader<TokenRecord>(&records::ReadToken<const Row>);
const auto ReadInvitation = Reader<InvitationRecord>(&records::ReadInvitation<const Row>);
const auto ReadMember = Reader<Member>(&records::ReadMember<const Row>);

// The first row read by `read`, if any.
template <class Read>
auto First(const pg::Rows& rows, Read read) -> std::optional<decltype(read(rows, 0))> {
  if (rows.size() == 0) return std::nullopt;
  return read(rows, 0);
}

template <class Read>
auto Every(const pg::Rows& rows, Read read) -> std::vector<decltype(read(rows, 0))> {
  std::vector<decltype(read(rows, 0))> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) out.push_back(read(rows, i));
  return out;
}

// Events stored as their wire form, in column 0.
Result<std::vector<Event>> ReadEvents(const pg::Rows& rows, const std::string& ws) {
  std::vector<Event> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    auto e = Event::FromJson(ParseStored(rows.Text(i, 0)));
    if (!e) return Status::Internal("unreadable event in the log of " + ws);
    out.push_back(std::move(*e));
  }
  return out;
}

Result<std::vector<Conflict>> ReadConflicts(const pg::Rows& rows, const std::string& ws) {
  std::vector<Conflict> out;
  for (int i = 0; i < rows.size(); ++i) {
    auto c = Conflict::FromJson(ParseStored(rows.Text(i, 0)));
    if (!c) return Status::Internal("unreadable conflict record in " + ws);
    out.push_back(std::move(*c));
  }
  return out;
}

Status StaleWrite(const char* what, const std::string& id, int64_t version) {
  return Status::Conflict("stale_write", std::string("the ") + what + " " + id + " changed before version " +
                                             std::to_string(version) + " could be written; retry");
}

}  // namespace

Result<pg::Rows> PostgresTx::Exec(std::string_view sql, const pg::Params& params) {
  if (!failure_.ok())
    return Status::Internal("a statement after a failed one in the same transaction (" + failure_.ToString() + ")");
  auto rows = c_.Exec(sql, params);
  if (!rows.ok()) failure_ = rows.status();
  return rows;
}

Status PostgresTx::Lock(const std::string& key) {
  if (!writer_) return Status::Internal("Lock(" + key + ") in a read transaction");
  // 64 bits of the key's hash: two different keys sharing a lock only makes
  // them wait for each other, never breaks a guarantee.
  return Run("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key);
}

Result<int64_t> PostgresTx::CountUsers() {
  MG_ASSIGN_OR_RETURN(auto rows, Query("SELECT COUNT(*) FROM users"));
  return rows.Int(0, 0);
}

Maybe<UserRecord> PostgresTx::FindUserByEmail(const std::string& email_norm) {
  MG_ASSIGN_OR_RETURN(auto rows, Query("SELECT id, email, name, created_at, email_norm, password_hash "
                                       "FROM users WHERE email_norm = $1",
                                       email_norm));
  return First(rows, [](const pg::Rows& r, int i) { return UserRecord{ReadUser(r, i), r.Text(i, 4), r.Text(i, 5)}; });
}

Maybe<User> PostgresTx::FindUser(const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto rows, Query("SELECT id, email, name, created_at FROM users WHERE id = $1", id));
  return First(rows, ReadUser);
}

Status PostgresTx::InsertUser(const UserRecord& u) {
  return Run("INSERT INTO users(id, email, email_norm, name, password_hash, created_at) "
             "VALUES($1, $2, $3, $4, $5, $6)",
             u.user.id, u.user.email, u.email_norm, u.user.name, u.password_hash, u.user.created_at);
}

Status PostgresTx::InsertToken(const TokenRecord& t) {
  return Run("INSERT INTO tokens(id, user_id, name, hash, prefix, created_at, last_used_at, revoked_at, "
             "expires_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)",
             t.id, t.user_id, t.name, t.hash, t.prefix, t.created_at, t.last_used_at, t.revoked_at, t.expires_at);
}

Maybe<TokenRecord> PostgresTx::FindTokenByHash(const std::string& hash) {
  MG_ASSIGN_OR_RETURN(auto rows, Query(Select(kTokenCols, "FROM tokens WHERE hash = $1"), hash));
  return First(rows, ReadToken);
}

Result<std::vector<TokenRecord>> PostgresTx::ListTokens(const std::string& user_id) {
  MG_ASSIGN_OR_RETURN(auto rows,
                      Query(Select(kTokenCols, "FROM tokens WHERE user_id = $1 ORDER BY created_at, id"), user_id));
  return Every(rows, ReadToken);
}

Status PostgresTx::UpdateToken(const TokenRecord& t) {
  return Run("UPDATE tokens SET name = $1, last_used_at = $2, revoked_at = $3 WHERE id = $4", t.name,
             t.last_used_at, t.revoked_at, t.id);
}

Status PostgresTx::TouchToken(const std::string& token_id, const std::string& at) {
  return Run("UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND revoked_at IS NULL", at, token_id);
}

Result<int64_t> PostgresTx::PurgeEndedSessions(const std::string& before) {
  MG_ASSIGN_OR_RETURN(auto rows, Query("DELETE FROM tokens WHERE left(prefix, 4) = 'mgs_' AND "
                                       "(revoked_at < $1 OR expires_at < $1)",
                                       before));
  return rows.affected();
}

Status PostgresTx::InsertWorkspace(const Workspace& w) {
  return Run("INSERT INTO workspaces(id, kind, name, slug, owner_id, epoch, head_seq, created_at, updated_at) "
             "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9)",
             w.id, w.kind, w.name, w.slug, w.owner_id, w.epoch, w.head_seq, w.created_at, w.updated_at);
}

Status PostgresTx::UpdateWorkspace(const Workspace& w) {
  return Run("UPDATE workspaces SET name = $1, slug = $2, owner_id = $3, updated_at = $4 WHERE id = $5", w.name,
             w.slug, w.owner_id, w.updated_at, w.id);
}

Status PostgresTx::DeleteWorkspace(const std::string& id) {
  advances_.erase(id);
  return Run("DELETE FROM workspaces WHERE id = $1", id);
}

Maybe<Workspace> PostgresTx::FindWorkspace(const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto rows, Query(Select(kWorkspaceCols, "FROM workspaces w WHERE w.id = $1"), id));
  return First(rows, ReadWorkspace);
}

Result<bool> PostgresTx::SlugTaken(const std::string& slug) {
  MG_ASSIGN_OR_RETURN(auto rows, Query("SELECT 1 FROM workspaces WHERE slug = $1", slug));
  return rows.size() > 0;
}

Result<std::vector<std::pair<Workspace, std::string>>> PostgresTx::ListWorkspacesOf(const std::string& user_id) {
  MG_ASSIGN_OR_RETURN(auto rows, Query(Select(kWorkspaceCols,
                                              ", m.role FROM workspaces w JOIN memberships m ON m.workspace_id = w.id "
                                              "WHERE m.user_id = $1 ORDER BY w.kind = 'team', w.name, w.id"),
                                       user_id));
  return Every(rows, [](const pg::Rows& r, int i) { return std::pair(ReadWorkspace(r, i), r.Text(i, 9)); });
}

Maybe<Member> PostgresTx::FindMember(const std::string& ws, const std::string& user_id) {
  std::string sql = kMemberSelect;
  sql.append(" WHERE m.workspace_id = $1 AND m.user_id = $2");
  MG_ASSIGN_OR_RETURN(auto rows, Query(sql, ws, user_id));
  return First(rows, ReadMember);
}

Result<std::vector<Member>> PostgresTx::ListMembers(const std::string& ws) {
  std::string sql = kMemberSelect;
  sql.append(" WHERE m.workspace_id = $1 ORDER BY m.joined_at, m.user_id");
  MG_ASSIGN_OR_RETURN(auto rows, Query(sql, ws));
  return Every(rows, ReadMember);
}

Status PostgresTx::PutMember(const Member& m) {
  return Run("INSERT INTO memberships(workspace_id, user_id, role, joined_at) VALUES($1, $2, $3, $4) "
             "ON CONFLICT(workspace_id, user_id) DO UPDATE SET role = excluded.role",
             m.workspace_id, m.user_id, m.role, m.joined_at);
}

Status PostgresTx::DeleteMember(const std::string& ws, const std::string& user_id) {
  return Run("DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2", ws, user_id);
}

Status PostgresTx::AppendEvent(Event& e) {
  // The row lock this UPDATE takes is held until commit: a second writer of
  // the workspace waits here and reads the first one's head_seq once it has
  // committed, so seqs are dense and commit in seq order.
  MG_ASSIGN_OR_RETURN(auto head, Query("UPDATE workspaces SET head_seq = head_seq + 1 WHERE id = $1 "
                                       "RETURNING head_seq",
                                       e.workspace_id));
  if (head.size() == 0) return Status::Internal("append to the log of a missing workspace " + e.workspace_id);
  e.seq = head.Int(0, 0);
  MG_RETURN_IF_ERROR(Run("INSERT INTO events(workspace_id, seq, type, actor, entity_type, entity_id, created_at, "
                         "data) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
                         e.workspace_id, e.seq, e.type, e.actor, e.entity_type, e.entity_id, e.at,
                         Dump(e.ToJson())));
  auto& a = advances_[e.workspace_id];
  a.workspace_id = e.workspace_id;
  a.head_seq = e.seq;
  a.appended += 1;
  return Status::Ok();
}

Result<std::vector<Event>> PostgresTx::ListEvents(const std::string& ws, int64_t after_seq, int limit) {
  MG_ASSIGN_OR_RETURN(auto rows, Query("SELECT data FROM events WHERE workspace_id = $1 AND seq > $2 "
                                       "ORDER BY seq LIMIT $3",
                                       ws, after_seq, limit));
  return ReadEvents(rows, ws);
}

Result<std::vector<EventRow>> PostgresTx::ListEventRows(const std::string& ws, int64_t after_seq, int limit) {
  MG_ASSIGN_OR_RETURN(auto rows, Query("SELECT seq, type, entity_id, data FROM events WHERE workspace_id = $1 "
                                       "AND seq > $2 ORDER BY seq LIMIT $3",
                                       ws, after_seq, limit));
  return Every(rows, [](const pg::Rows& r, int i) {
    return EventRow{r.Int(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3)};
  });
}

Maybe<Memory> PostgresTx::FindMemory(const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto rows, Query(Select(kMemoryCols, "FROM memories WHERE workspace_id = $1 AND id = $2"),
                                       ws, id));
  return First(rows, ReadMemory);
}

Status PostgresTx::InsertMemory(const Memory& m) {
  std::string sql = "INSERT INTO memories(";
  sql.append(kMemoryCols).append(") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)");
  return Exec(sql, MemoryParams(m)).status();
}

Status PostgresTx::UpdateMemory(const Memory& m) {
  MG_ASSIGN_OR_RETURN(auto rows,
                      Query("UPDATE memories SET type = $1, title = $2, content = $3, summary = $4, tags = $5, "
                            "importance = $6, confidence = $7, context = $8, updated_by = $9, updated_at = $10, "
                            "version = $11, deleted = $12 WHERE workspace_id = $13 AND id = $14 AND version = $15",
                            m.type, m.title, m.content, m.summary, Dump(json(m.tags)), m.importance, m.confidence,
                            Dump(m.context), m.updated_by, m.updated_at, m.version, m.deleted, m.workspace_id,
                            m.id, m.version - 1));
  return rows.affected() == 1 ? Status::Ok() : StaleWrite("memory", m.id, m.version);
}

Result<std::vector<Memory>> PostgresTx::ListMemories(const MemoryQuery& mq) {
  // Parameters are numbered as SqliteTx numbers them; unused ones are still
  // bound (NULL), typed by the casts.
  std::string sql = Select(kMemoryCols, "FROM memories WHERE workspace_id = $1");
  if (!mq.include_deleted) sql += " AND deleted = 0";
  sql += " AND ($2::text IS NULL OR type = $2)";
  // Tags are stored normalised and de-duplicated: all present when as many
  // distinct ones match as were asked for (SqliteTx's rule, word for word).
  sql += " AND ($3::text IS NULL OR (SELECT count(DISTINCT t) FROM json_array_elements_text(memories.tags::json) t "
         "WHERE t IN (SELECT json_array_elements_text($3::json))) = json_array_length($3::json))";
  sql += " AND ($4::text IS NULL OR (created_at, id) < ($4, $5::text))";
  sql += " ORDER BY created_at DESC, id DESC LIMIT $6";
  std::optional<std::string> tags, after_at, after_id;
  if (!mq.tags.empty()) tags = Dump(json(mq.tags));
  if (mq.after) {
    after_at = mq.after->created_at;
    after_id = mq.after->id;
  }
  MG_ASSIGN_OR_RETURN(auto rows, Query(sql, mq.workspace_id, mq.type, tags, after_at, after_id, mq.limit));
  return Every(rows, ReadMemory);
}

Maybe<Relationship> PostgresTx::FindRelationship(const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto rows, Query(Select(kRelCols, "FROM relationships WHERE workspace_id = $1 AND id = $2"),
                                       ws, id));
  return First(rows, ReadRelationship);
}

Maybe<Relationship> PostgresTx::FindLiveRelationship(const std::string& ws, const std::string& from,
                                                     const std::string& to, const std::string& type) {
  MG_ASSIGN_OR_RETURN(auto rows, Query(Select(kRelCols, "FROM relationships WHERE workspace_id = $1 AND "
                                                        "from_memory_id = $2 AND to_memory_id = $3 AND type = $4 "
                                                        "AND deleted = 0 LIMIT 1"),
                                       ws, from, to, type));
  return First(rows, ReadRelationship);
}

Status PostgresTx::InsertRelationship(const Relationship& r) {
  std::string sql = "INSERT INTO relationships(";
  sql.append(kRelCols).append(") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)");
  return Exec(sql, RelationshipParams(r)).status();
}

Status PostgresTx::UpdateRelationship(const Relationship& r) {
  MG_ASSIGN_OR_RETURN(auto rows,
                      Query("UPDATE relationships SET type = $1, strength = $2, confidence = $3, context = $4, "
                            "evidence_count = $5, updated_by = $6, updated_at = $7, version = $8, deleted = $9 "
                            "WHERE workspace_id = $10 AND id = $11 AND version = $12",
                            r.type, r.strength, r.confidence, r.context, r.evidence_count, r.updated_by,
                            r.updated_at, r.version, r.deleted, r.workspace_id, r.id, r.version - 1));
  return rows.affected() == 1 ? Status::Ok() : StaleWrite("relationship", r.id, r.version);
}

Result<std::vector<Relationship>> PostgresTx::ListRelationships(const RelationshipQuery& q) {
  std::string sql = Select(kRelCols, "FROM relationships WHERE workspace_id = $1");
  if (!q.include_deleted) sql += " AND deleted = 0";
  sql += " AND ($2::text IS NULL OR from_memory_id = $2 OR to_memory_id = $2)";
  sql += " AND ($3::text IS NULL OR type = $3)";
  sql += " AND ($4::text IS NULL OR (created_at, id) < ($4, $5::text))";
  sql += " ORDER BY created_at DESC, id DESC LIMIT $6";
  std::optional<std::string> after_at, after_id;
  if (q.after) {
    after_at = q.after->created_at;
    after_id = q.after->id;
  }
  MG_ASSIGN_OR_RETURN(auto rows, Query(sql, q.workspace_id, q.memory_id, q.type, after_at, after_id, q.limit));
  return Every(rows, ReadRelationship);
}

Result<std::vector<Memory>> PostgresTx::MemoriesAfter(const std::string& ws, const std::string& after_id,
                                                      int limit) {
  MG_ASSIGN_OR_RETURN(auto rows, Query(Select(kMemoryCols, "FROM memories WHERE workspace_id = $1 AND id > $2 "
                                                           "AND deleted = 0 ORDER BY id LIMIT $3"),
                                       ws, after_id, limit));
  return Every(rows, ReadMemory);
}

Result<std::vector<Relationship>> PostgresTx::RelationshipsAfter(const std::string& ws, const std::string& after_id,
                                                                 int limit) {
  MG_ASSIGN_OR_RETURN(auto rows, Query(Select(kRelCols, "FROM relationships WHERE workspace_id = $1 AND id > $2 "
                                                        "AND deleted = 0 ORDER BY id LIMIT $3"),
                                       ws, after_id, limit));
  return Every(rows, ReadRelationship);
}

Status PostgresTx::PutConflict(const Conflict& c) {
  return Run("INSERT INTO conflicts(workspace_id, id, memory_id, status, data) VALUES($1, $2, $3, $4, $5) "
             "ON CONFLICT(workspace_id, id) DO UPDATE SET status = excluded.status, data = excluded.data",
             c.workspace_id, c.id, c.memory_id, c.status, Dump(c.ToJson()));
}

Maybe<Conflict> PostgresTx::FindConflict(const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto rows, Query("SELECT data FROM conflicts WHERE workspace_id = $1 AND id = $2", ws, id));
  MG_ASSIGN_OR_RETURN(auto found, ReadConflicts(rows, ws));
  if (found.empty()) return std::optional<Conflict>();
  return std::optional<Conflict>(std::move(found[0]));
}

Result<std::vector<Conflict>> PostgresTx::ListConflicts(const ConflictQuery& q) {
  std::string sql = "SELECT data FROM conflicts WHERE workspace_id = $1 AND ($2::text IS NULL OR memory_id = $2) "
                    "AND ($3::bigint = 0 OR status = 'open') AND ($4::text IS NULL OR id ";
  sql += q.oldest_first ? ">" : "<";
  sql += " $4) ORDER BY id ";
  sql += q.oldest_first ? "ASC" : "DESC";
  sql += " LIMIT $5";
  MG_ASSIGN_OR_RETURN(auto rows, Query(sql, q.workspace_id, q.memory_id, q.open_only, q.after_id, q.limit));
  return ReadConflicts(rows, q.workspace_id);
}

Result<std::vector<Event>> PostgresTx::ListActivity(const ActivityQuery& q) {
  // right(type, length(s)) = s is SQLite's substr(type, -length(s)) = s.
  MG_ASSIGN_OR_RETURN(
      auto rows,
      Query("SELECT data FROM events WHERE workspace_id = $1 AND ($2::bigint IS NULL OR seq < $2) "
            "AND ($3::text IS NULL OR actor = $3) AND ($4::text IS NULL OR right(type, length($4)) = $4) "
            "AND ($5::text IS NULL OR entity_type = $5) AND ($6::text IS NULL OR created_at >= $6) "
            "AND ($7::text IS NULL OR created_at <= $7) ORDER BY seq DESC LIMIT $8",
            q.workspace_id, q.before_seq, q.actor, q.type_suffix, q.entity_type, q.since, q.until, q.limit));
  return ReadEvents(rows, q.workspace_id);
}

Result<std::vector<Event>> PostgresTx::EntityEvents(const std::string& ws, const std::string& entity_id) {
  MG_ASSIGN_OR_RETURN(auto rows, Query("SELECT data FROM events WHERE workspace_id = $1 AND entity_id = $2 "
                                       "ORDER BY seq",
                                       ws, entity_id));
  return ReadEvents(rows, ws);
}

Maybe<IdempotencyRecord> PostgresTx::FindIdempotency(const std::string& key_hash) {
  MG_ASSIGN_OR_RETURN(auto rows, Query("SELECT key_hash, request_hash, status, sealed_body, created_at "
                                       "FROM idempotency WHERE key_hash = $1",
                                       key_hash));
  return First(rows, [](const pg::Rows& r, int i) {
    return IdempotencyRecord{r.Text(i, 0), r.Text(i, 1), static_cast<int>(r.Int(i, 2)), r.Bytes(i, 3),
                             r.Text(i, 4)};
  });
}

Status PostgresTx::InsertIdempotency(const IdempotencyRecord& r) {
  pg::Params p = pg::Params::Of(r.key_hash, r.request_hash, r.status);
  p.AddBytes(r.sealed_body).Add(r.created_at);
  return Exec("INSERT INTO idempotency(key_hash, request_hash, status, sealed_body, created_at) "
              "VALUES($1, $2, $3, $4, $5)",
              p)
      .status();
}

Result<int64_t> PostgresTx::PurgeIdempotency(const std::string& before) {
  MG_ASSIGN_OR_RETURN(auto rows, Query("DELETE FROM idempotency WHERE created_at < $1", before));
  return rows.affected();
}

Status PostgresTx::InsertInvitation(const InvitationRecord& i) {
  std::string sql = "INSERT INTO invitations(";
  sql.append(kInvitationCols).append(") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
  return Run(sql, i.id, i.workspace_id, i.email_norm, i.role, i.inviter_id, i.token_hash, i.created_at,
             i.expires_at, i.accepted_at, i.accepted_by, i.revoked_at);
}

Status PostgresTx::UpdateInvitation(const InvitationRecord& i) {
  return Run("UPDATE invitations SET role = $1, token_hash = $2, expires_at = $3, accepted_at = $4, "
             "accepted_by = $5, revoked_at = $6 WHERE id = $7",
             i.role, i.token_hash, i.expires_at, i.accepted_at, i.accepted_by, i.revoked_at, i.id);
}

Maybe<InvitationRecord> PostgresTx::FindInvitation(const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto rows,
                      Query(Select(kInvitationCols, "FROM invitations WHERE workspace_id = $1 AND id = $2"), ws, id));
  return First(rows, ReadInvitation);
}

Maybe<InvitationRecord> PostgresTx::FindInvitationByTokenHash(const std::string& token_hash) {
  MG_ASSIGN_OR_RETURN(auto rows, Query(Select(kInvitationCols, "FROM invitations WHERE token_hash = $1"), token_hash));
  return First(rows, ReadInvitation);
}

Result<std::vector<InvitationRecord>> PostgresTx::ListPendingInvitations(const std::string& ws,
                                                                         const std::string& now) {
  MG_ASSIGN_OR_RETURN(auto rows, Query(Select(kInvitationCols, "FROM invitations WHERE workspace_id = $1 AND "
                                                               "accepted_at IS NULL AND revoked_at IS NULL AND "
                                                               "expires_at > $2 ORDER BY created_at, id"),
                                       ws, now));
  return Every(rows, ReadInvitation);
}

}  // namespace mgteam::server
