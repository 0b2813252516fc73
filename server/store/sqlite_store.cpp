#include "store/sqlite_store.h"

#include "mgteam/sql_rows.h"
#include "mgteam/sqlite.h"
#include "store/records.h"
#include "store/schema.h"

#include <spdlog/spdlog.h>

#include <map>
#include <unordered_map>

namespace mgteam::server {

struct SqliteConnection {
  sql::Db db;
};

namespace {

using Query = sql::Db::Cached;
using records::kInvitationCols;
using records::kMemberSelect;
using records::kTokenCols;
using records::kWorkspaceCols;
constexpr auto ReadWorkspace = &records::ReadWorkspace<sql::Stmt>;
constexpr auto ReadToken = &records::ReadToken<sql::Stmt>;
constexpr auto ReadInvitation = &records::ReadInvitation<sql::Stmt>;
constexpr auto ReadMember = &records::ReadMember<sql::Stmt>;

constexpr const char* kMemoryCols = sql::kMemoryColumns;
constexpr const char* kRelCols = sql::kRelationshipColumns;

std::string Dump(const json& j) { return sql::DumpJson(j); }
json ParseStored(const std::string& s, json fallback) { return sql::ParseStoredJson(s, std::move(fallback)); }

User ReadUser(sql::Stmt& q) { return User{q.Text(0), q.Text(1), q.Text(2), q.Text(3)}; }

Memory ReadMemory(sql::Stmt& q) { return sql::ReadMemoryRow(q); }
Relationship ReadRelationship(sql::Stmt& q) { return sql::ReadRelationshipRow(q); }

class SqliteTx final : public Tx {
 public:
  SqliteTx(SqliteConnection& c, bool writer) : c_(c), writer_(writer) {}

  // One writer connection serialises every write already.
  Status Lock(const std::string& key) override {
    if (!writer_) return Status::Internal("Lock(" + key + ") in a read transaction");
    return Status::Ok();
  }

  // Workspaces whose log grew in this transaction.
  const std::map<std::string, LogAdvance>& advances() const { return advances_; }

  Result<int64_t> CountUsers() override {
    MG_ASSIGN_OR_RETURN(Query q, Prep("SELECT COUNT(*) FROM users"));
    int64_t n = q->Step() ? q->Int(0) : 0;
    MG_RETURN_IF_ERROR(q->status());
    return n;
  }

  Maybe<UserRecord> FindUserByEmail(const std::string& email_norm) override {
    return One("SELECT id, email, name, created_at, email_norm, password_hash FROM users "
               "WHERE email_norm = ?",
               [](sql::Stmt& q) { return UserRecord{ReadUser(q), q.Text(4), q.Text(5)}; }, email_norm);
  }

  Maybe<User> FindUser(const std::string& id) override {
    return One("SELECT id, email, name, created_at FROM users WHERE id = ?", ReadUser, id);
  }

  Status InsertUser(const UserRecord& u) override {
    return Exec(
        "INSERT INTO users(id, email, email_norm, name, password_hash, created_at) "
        "VALUES(?, ?, ?, ?, ?, ?)",
        u.user.id, u.user.email, u.email_norm, u.user.name, u.password_hash, u.user.created_at);
  }

  Status InsertToken(const TokenRecord& t) override {
    return Exec(
        "INSERT INTO tokens(id, user_id, name, hash, prefix, created_at, last_used_at, revoked_at, expires_at) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
        t.id, t.user_id, t.name, t.hash, t.prefix, t.created_at, t.last_used_at, t.revoked_at, t.expires_at);
  }

  Maybe<TokenRecord> FindTokenByHash(const std::string& hash) override {
    return One(std::string("SELECT ") + kTokenCols + " FROM tokens WHERE hash = ?", ReadToken, hash);
  }

  Result<std::vector<TokenRecord>> ListTokens(const std::string& user_id) override {
    return All(std::string("SELECT ") + kTokenCols +
                   " FROM tokens WHERE user_id = ? ORDER BY created_at, id",
               ReadToken, user_id);
  }

  Status UpdateToken(const TokenRecord& t) override {
    return Exec("UPDATE tokens SET name = ?, last_used_at = ?, revoked_at = ? WHERE id = ?", t.name,
                t.last_used_at, t.revoked_at, t.id);
  }

  Status TouchToken(const std::string& token_id, const std::string& at) override {
    return Exec("UPDATE tokens SET last_used_at = ? WHERE id = ? AND revoked_at IS NULL", at, token_id);
  }

  Status InsertWorkspace(const Workspace& w) override {
    return Exec(
        "INSERT INTO workspaces(id, kind, name, slug, owner_id, epoch, head_seq, created_at, "
        "updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
        w.id, w.kind, w.name, w.slug, w.owner_id, w.epoch, w.head_seq, w.created_at, w.updated_at);
  }

  Status UpdateWorkspace(const Workspace& w) override {
    return Exec("UPDATE workspaces SET name = ?, slug = ?, owner_id = ?, updated_at = ? WHERE id = ?",
                w.name, w.slug, w.owner_id, w.updated_at, w.id);
  }

  Status DeleteWorkspace(const std::string& id) override {
    advances_.erase(id);
    return Exec("DELETE FROM workspaces WHERE id = ?", id);
  }

  Maybe<Workspace> FindWorkspace(const std::string& id) override {
    return One(std::string("SELECT ") + kWorkspaceCols + " FROM workspaces w WHERE w.id = ?",
               ReadWorkspace, id);
  }

  Result<bool> SlugTaken(const std::string& slug) override {
    MG_ASSIGN_OR_RETURN(auto row, One("SELECT 1 FROM workspaces WHERE slug = ?",
                                      [](sql::Stmt& q) { return q.Int(0); }, slug));
    return row.has_value();
  }

  Result<std::vector<std::pair<Workspace, std::string>>> ListWorkspacesOf(
      const std::string& user_id) override {
    return All(std::string("SELECT ") + kWorkspaceCols +
                   ", m.role FROM workspaces w JOIN memberships m ON m.workspace_id = w.id "
                   "WHERE m.user_id = ? ORDER BY w.kind = 'team', w.name, w.id",
               [](sql::Stmt& q) { return std::pair(ReadWorkspace(q), q.Text(9)); }, user_id);
  }

  Maybe<Member> FindMember(const std::string& ws, const std::string& user_id) override {
    return One(std::string(kMemberSelect) + " WHERE m.workspace_id = ? AND m.user_id = ?",
               ReadMember, ws, user_id);
  }

  Result<std::vector<Member>> ListMembers(const std::string& ws) override {
    return All(std::string(kMemberSelect) + " WHERE m.workspace_id = ? ORDER BY m.joined_at, m.user_id",
               ReadMember, ws);
  }

  Status PutMember(const Member& m) override {
    return Exec(
        "INSERT INTO memberships(workspace_id, user_id, role, joined_at) VALUES(?, ?, ?, ?) "
        "ON CONFLICT(workspace_id, user_id) DO UPDATE SET role = excluded.role",
        m.workspace_id, m.user_id, m.role, m.joined_at);
  }

  Status DeleteMember(const std::string& ws, const std::string& user_id) override {
    return Exec("DELETE FROM memberships WHERE workspace_id = ? AND user_id = ?", ws, user_id);
  }

  Status AppendEvent(Event& e) override {
    {
      MG_ASSIGN_OR_RETURN(Query q, Prep("UPDATE workspaces SET head_seq = head_seq + 1 "
                                        "WHERE id = ? RETURNING head_seq"));
      q->BindAll(e.workspace_id);
      if (!q->Step()) {
        MG_RETURN_IF_ERROR(q->status());
        return Status::Internal("append to the log of a missing workspace " + e.workspace_id);
      }
      e.seq = q->Int(0);
    }
    MG_RETURN_IF_ERROR(Exec(
        "INSERT INTO events(workspace_id, seq, type, actor, entity_type, entity_id, created_at, "
        "data) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
        e.workspace_id, e.seq, e.type, e.actor, e.entity_type, e.entity_id, e.at, Dump(e.ToJson())));
    auto& a = advances_[e.workspace_id];
    a.workspace_id = e.workspace_id;
    a.head_seq = e.seq;
    a.appended += 1;
    return Status::Ok();
  }

  Result<std::vector<Event>> ListEvents(const std::string& ws, int64_t after_seq,
                                        int limit) override {
    MG_ASSIGN_OR_RETURN(auto rows, All("SELECT data FROM events WHERE workspace_id = ? AND seq > ? "
                                       "ORDER BY seq LIMIT ?",
                                       [](sql::Stmt& q) { return Event::FromJson(ParseStored(q.Text(0), json())); },
                                       ws, after_seq, static_cast<int64_t>(limit)));
    std::vector<Event> out;
    for (auto& e : rows) {
      if (!e) return Status::Internal("unreadable event in the log of " + ws);
      out.push_back(std::move(*e));
    }
    return out;
  }

  Result<std::vector<EventRow>> ListEventRows(const std::string& ws, int64_t after_seq,
                                              int limit) override {
    return All("SELECT seq, type, entity_id, data FROM events WHERE workspace_id = ? AND seq > ? "
               "ORDER BY seq LIMIT ?",
               [](sql::Stmt& q) { return EventRow{q.Int(0), q.Text(1), q.Text(2), q.Text(3)}; }, ws,
               after_seq, static_cast<int64_t>(limit));
  }

  Maybe<Memory> FindMemory(const std::string& ws, const std::string& id) override {
    return One(std::string("SELECT ") + kMemoryCols + " FROM memories WHERE workspace_id = ? AND id = ?",
               ReadMemory, ws, id);
  }

  Status InsertMemory(const Memory& m) override {
    MG_ASSIGN_OR_RETURN(Query q, Prep(std::string("INSERT INTO memories(") + kMemoryCols +
                                      ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    sql::BindMemoryRow(*q, m);
    return Named(q->Run());
  }

  Status UpdateMemory(const Memory& m) override {
    MG_RETURN_IF_ERROR(Exec(
        "UPDATE memories SET type = ?, title = ?, content = ?, summary = ?, tags = ?, "
        "importance = ?, confidence = ?, context = ?, updated_by = ?, updated_at = ?, "
        "version = ?, deleted = ? WHERE workspace_id = ? AND id = ? AND version = ?",
        m.type, m.title, m.content, m.summary, Dump(json(m.tags)), m.importance, m.confidence,
        Dump(m.context), m.updated_by, m.updated_at, m.version, m.deleted, m.workspace_id, m.id,
        m.version - 1));
    return c_.db.Changes() == 1 ? Status::Ok() : StaleWrite("memory", m.id, m.version);
  }

  Result<std::vector<Memory>> ListMemories(const MemoryQuery& mq) override {
    std::string sql = std::string("SELECT ") + kMemoryCols + " FROM memories WHERE workspace_id = ?1";
    if (!mq.include_deleted) sql += " AND deleted = 0";
    if (mq.type) sql += " AND type = ?2";
    // Tags are stored normalised and de-duplicated: all present when as many
    // distinct ones match as were asked for.
    if (!mq.tags.empty())
      sql += " AND (SELECT count(DISTINCT value) FROM json_each(memories.tags) WHERE value IN "
             "(SELECT value FROM json_each(?3))) = json_array_length(?3)";
    if (mq.after) sql += " AND (created_at, id) < (?4, ?5)";
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?6";
    MG_ASSIGN_OR_RETURN(Query q, Prep(sql));
    q->Bind(1, mq.workspace_id);
    if (mq.type) q->Bind(2, *mq.type);
    if (!mq.tags.empty()) q->Bind(3, Dump(json(mq.tags)));
    if (mq.after) q->Bind(4, mq.after->created_at).Bind(5, mq.after->id);
    q->Bind(6, static_cast<int64_t>(mq.limit));
    std::vector<Memory> out;
    while (q->Step()) out.push_back(ReadMemory(*q));
    MG_RETURN_IF_ERROR(q->status());
    return out;
  }

  Maybe<Relationship> FindRelationship(const std::string& ws, const std::string& id) override {
    return One(std::string("SELECT ") + kRelCols + " FROM relationships WHERE workspace_id = ? AND id = ?",
               ReadRelationship, ws, id);
  }

  Maybe<Relationship> FindLiveRelationship(const std::string& ws, const std::string& from,
                                           const std::string& to,
                                           const std::string& type) override {
    return One(std::string("SELECT ") + kRelCols +
                   " FROM relationships WHERE workspace_id = ? AND from_memory_id = ? AND "
                   "to_memory_id = ? AND type = ? AND deleted = 0 LIMIT 1",
               ReadRelationship, ws, from, to, type);
  }

  Status InsertRelationship(const Relationship& r) override {
    MG_ASSIGN_OR_RETURN(Query q, Prep(std::string("INSERT INTO relationships(") + kRelCols +
                                      ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    sql::BindRelationshipRow(*q, r);
    return Named(q->Run());
  }

  Status UpdateRelationship(const Relationship& r) override {
    MG_RETURN_IF_ERROR(Exec(
        "UPDATE relationships SET type = ?, strength = ?, confidence = ?, context = ?, "
        "evidence_count = ?, updated_by = ?, updated_at = ?, version = ?, deleted = ? "
        "WHERE workspace_id = ? AND id = ? AND version = ?",
        r.type, r.strength, r.confidence, r.context, r.evidence_count, r.updated_by, r.updated_at,
        r.version, r.deleted, r.workspace_id, r.id, r.version - 1));
    return c_.db.Changes() == 1 ? Status::Ok() : StaleWrite("relationship", r.id, r.version);
  }

  Result<std::vector<Relationship>> ListRelationships(const RelationshipQuery& rq) override {
    std::string sql =
        std::string("SELECT ") + kRelCols + " FROM relationships WHERE workspace_id = ?1";
    if (!rq.include_deleted) sql += " AND deleted = 0";
    if (rq.memory_id) sql += " AND (from_memory_id = ?2 OR to_memory_id = ?2)";
    if (rq.type) sql += " AND type = ?3";
    if (rq.after) sql += " AND (created_at, id) < (?4, ?5)";
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?6";
    MG_ASSIGN_OR_RETURN(Query q, Prep(sql));
    q->Bind(1, rq.workspace_id);
    if (rq.memory_id) q->Bind(2, *rq.memory_id);
    if (rq.type) q->Bind(3, *rq.type);
    if (rq.after) q->Bind(4, rq.after->created_at).Bind(5, rq.after->id);
    q->Bind(6, static_cast<int64_t>(rq.limit));
    std::vector<Relationship> out;
    while (q->Step()) out.push_back(ReadRelationship(*q));
    MG_RETURN_IF_ERROR(q->status());
    return out;
  }

  Result<std::vector<Memory>> MemoriesAfter(const std::string& ws, const std::string& after_id,
                                            int limit) override {
    return All(std::string("SELECT ") + kMemoryCols +
                   " FROM memories WHERE workspace_id = ? AND id > ? AND deleted = 0 ORDER BY id LIMIT ?",
               ReadMemory, ws, after_id, static_cast<int64_t>(limit));
  }

  Result<std::vector<Relationship>> RelationshipsAfter(const std::string& ws, const std::string& after_id,
                                                       int limit) override {
    return All(std::string("SELECT ") + kRelCols +
                   " FROM relationships WHERE workspace_id = ? AND id > ? AND deleted = 0 ORDER BY id LIMIT ?",
               ReadRelationship, ws, after_id, static_cast<int64_t>(limit));
  }

  Status PutConflict(const Conflict& c) override {
    return Exec("INSERT INTO conflicts(workspace_id, id, memory_id, status, data) VALUES(?, ?, ?, ?, ?) "
                "ON CONFLICT(workspace_id, id) DO UPDATE SET status = excluded.status, data = excluded.data",
                c.workspace_id, c.id, c.memory_id, c.status, Dump(c.ToJson()));
  }

  Maybe<Conflict> FindConflict(const std::string& ws, const std::string& id) override {
    MG_ASSIGN_OR_RETURN(auto row, One("SELECT data FROM conflicts WHERE workspace_id = ? AND id = ?",
                                      [](sql::Stmt& q) { return Conflict::FromJson(ParseStored(q.Text(0), json())); },
                                      ws, id));
    if (!row) return std::optional<Conflict>();
    if (!*row) return Status::Internal("unreadable conflict record " + id);
    return *row;
  }

  Result<std::vector<Conflict>> ListConflicts(const ConflictQuery& q) override {
    std::string sql = "SELECT data FROM conflicts WHERE workspace_id = ?1 AND (?2 IS NULL OR memory_id = ?2) "
                      "AND (?3 = 0 OR status = 'open') AND (?4 IS NULL OR id " +
                      std::string(q.oldest_first ? ">" : "<") + " ?4) ORDER BY id " +
                      (q.oldest_first ? "ASC" : "DESC") + " LIMIT ?5";
    MG_ASSIGN_OR_RETURN(Query st, Prep(sql));
    st->Bind(1, q.workspace_id);
    st->Bind(2, q.memory_id);  // always bind: cached statements keep old bindings
    st->Bind(3, static_cast<int64_t>(q.open_only));
    st->Bind(4, q.after_id);
    st->Bind(5, static_cast<int64_t>(q.limit));
    std::vector<Conflict> out;
    while (st->Step()) {
      auto c = Conflict::FromJson(ParseStored(st->Text(0), json()));
      if (!c) return Status::Internal("unreadable conflict record in " + q.workspace_id);
      out.push_back(std::move(*c));
    }
    MG_RETURN_IF_ERROR(st->status());
    return out;
  }

  Result<std::vector<Event>> ListActivity(const ActivityQuery& q) override {
    MG_ASSIGN_OR_RETURN(Query st, Prep("SELECT data FROM events WHERE workspace_id = ?1 AND (?2 IS NULL OR seq < ?2) "
                                       "AND (?3 IS NULL OR actor = ?3) AND (?4 IS NULL OR substr(type, -length(?4)) = ?4) "
                                       "AND (?5 IS NULL OR entity_type = ?5) AND (?6 IS NULL OR created_at >= ?6) "
                                       "AND (?7 IS NULL OR created_at <= ?7) ORDER BY seq DESC LIMIT ?8"));
    // Always bind every parameter: cached statements keep old bindings.
    st->Bind(1, q.workspace_id);
    if (q.before_seq) st->Bind(2, *q.before_seq);
    else st->Bind(2, nullptr);
    st->Bind(3, q.actor);
    st->Bind(4, q.type_suffix);
    st->Bind(5, q.entity_type);
    st->Bind(6, q.since);
    st->Bind(7, q.until);
    st->Bind(8, static_cast<int64_t>(q.limit));
    std::vector<Event> out;
    while (st->Step()) {
      auto e = Event::FromJson(ParseStored(st->Text(0), json()));
      if (!e) return Status::Internal("unreadable event in the log of " + q.workspace_id);
      out.push_back(std::move(*e));
    }
    MG_RETURN_IF_ERROR(st->status());
    return out;
  }

  Result<std::vector<Event>> EntityEvents(const std::string& ws, const std::string& entity_id) override {
    MG_ASSIGN_OR_RETURN(auto rows, All("SELECT data FROM events WHERE workspace_id = ? AND entity_id = ? ORDER BY seq",
                                       [](sql::Stmt& q) { return Event::FromJson(ParseStored(q.Text(0), json())); },
                                       ws, entity_id));
    std::vector<Event> out;
    for (auto& e : rows) {
      if (!e) return Status::Internal("unreadable event in the log of " + ws);
      out.push_back(std::move(*e));
    }
    return out;
  }

  Maybe<IdempotencyRecord> FindIdempotency(const std::string& key_hash) override {
    return One("SELECT key_hash, request_hash, status, sealed_body, created_at FROM idempotency "
               "WHERE key_hash = ?",
               [](sql::Stmt& q) {
                 return IdempotencyRecord{q.Text(0), q.Text(1), static_cast<int>(q.Int(2)), q.Text(3),
                                          q.Text(4)};
               },
               key_hash);
  }

  Status InsertIdempotency(const IdempotencyRecord& r) override {
    MG_ASSIGN_OR_RETURN(Query q, Prep("INSERT INTO idempotency(key_hash, request_hash, status, "
                                      "sealed_body, created_at) VALUES(?, ?, ?, ?, ?)"));
    q->Bind(1, r.key_hash).Bind(2, r.request_hash).Bind(3, static_cast<int64_t>(r.status));
    q->BindBlob(4, r.sealed_body).Bind(5, r.created_at);
    return Named(q->Run());
  }

  Result<int64_t> PurgeEndedSessions(const std::string& before) override {
    MG_RETURN_IF_ERROR(Exec("DELETE FROM tokens WHERE prefix LIKE 'mgs\\_%' ESCAPE '\\' AND "
                            "(revoked_at < ? OR expires_at < ?)",
                            before, before));
    return c_.db.Changes();
  }

  Result<int64_t> PurgeIdempotency(const std::string& before) override {
    MG_RETURN_IF_ERROR(Exec("DELETE FROM idempotency WHERE created_at < ?", before));
    return c_.db.Changes();
  }

  Status InsertInvitation(const InvitationRecord& i) override {
    return Exec(std::string("INSERT INTO invitations(") + kInvitationCols +
                    ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                i.id, i.workspace_id, i.email_norm, i.role, i.inviter_id, i.token_hash,
                i.created_at, i.expires_at, i.accepted_at, i.accepted_by, i.revoked_at);
  }

  Status UpdateInvitation(const InvitationRecord& i) override {
    return Exec(
        "UPDATE invitations SET role = ?, token_hash = ?, expires_at = ?, accepted_at = ?, "
        "accepted_by = ?, revoked_at = ? WHERE id = ?",
        i.role, i.token_hash, i.expires_at, i.accepted_at, i.accepted_by, i.revoked_at, i.id);
  }

  Maybe<InvitationRecord> FindInvitation(const std::string& ws, const std::string& id) override {
    return One(std::string("SELECT ") + kInvitationCols +
                   " FROM invitations WHERE workspace_id = ? AND id = ?",
               ReadInvitation, ws, id);
  }

  Maybe<InvitationRecord> FindInvitationByTokenHash(const std::string& token_hash) override {
    return One(std::string("SELECT ") + kInvitationCols + " FROM invitations WHERE token_hash = ?",
               ReadInvitation, token_hash);
  }

  Result<std::vector<InvitationRecord>> ListPendingInvitations(const std::string& ws,
                                                               const std::string& now) override {
    return All(std::string("SELECT ") + kInvitationCols +
                   " FROM invitations WHERE workspace_id = ? AND accepted_at IS NULL AND "
                   "revoked_at IS NULL AND expires_at > ? ORDER BY created_at, id",
               ReadInvitation, ws, now);
  }

 private:
  Result<Query> Prep(const std::string& sql) { return c_.db.Prepared(sql); }

  // The first row of a query, read by `read`, if any.
  template <class Read, class... Args>
  auto One(const std::string& sql, Read read, const Args&... args)
      -> Maybe<decltype(read(std::declval<sql::Stmt&>()))> {
    MG_ASSIGN_OR_RETURN(Query q, Prep(sql));
    q->BindAll(args...);
    std::optional<decltype(read(*q))> out;
    if (q->Step()) out = read(*q);
    MG_RETURN_IF_ERROR(q->status());
    return out;
  }

  // Every row of a query, read by `read`.
  template <class Read, class... Args>
  auto All(const std::string& sql, Read read, const Args&... args)
      -> Result<std::vector<decltype(read(std::declval<sql::Stmt&>()))>> {
    MG_ASSIGN_OR_RETURN(Query q, Prep(sql));
    q->BindAll(args...);
    std::vector<decltype(read(*q))> out;
    while (q->Step()) out.push_back(read(*q));
    MG_RETURN_IF_ERROR(q->status());
    return out;
  }

  template <class... Args>
  Status Exec(const std::string& sql, const Args&... args) {
    return Named(c_.db.Run(sql, args...));
  }

  // SQLite reports a unique key as "UNIQUE constraint failed: table.column, ...".
  static Status Named(Status s) {
    constexpr std::string_view kUnique = "UNIQUE constraint failed: ";
    if (s.ok() || s.code() != Code::kConflict) return s;
    const std::string& msg = s.message();
    size_t at = msg.find(kUnique);
    if (at == std::string::npos) return s;
    std::string constraint = msg.substr(at + kUnique.size());
    constraint = constraint.substr(0, constraint.find_first_of(", "));
    return UniqueViolation(constraint, msg);
  }

  static Status StaleWrite(const char* what, const std::string& id, int64_t version) {
    return Status::Conflict("stale_write", std::string("the ") + what + " " + id +
                                               " changed before version " + std::to_string(version) +
                                               " could be written; retry");
  }

  SqliteConnection& c_;
  const bool writer_;
  std::map<std::string, LogAdvance> advances_;
};

}  // namespace

SqliteStore::SqliteStore(std::string path, std::string synchronous)
    : path_(std::move(path)), synchronous_(std::move(synchronous)) {}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
}

namespace {
// A checkpoint after this many commits, or every interval, whichever first.
constexpr int64_t kCheckpointCommits = 500;
constexpr auto kCheckpointInterval = std::chrono::seconds(1);
}  // namespace

void SqliteStore::Checkpoints() {
  auto conn = OpenConnection(false);
  if (!conn.ok()) {
    spdlog::error("checkpointer: {}", conn.status().ToString());
    return;
  }
  std::unique_lock<std::mutex> lock(checkpoint_mu_);
  while (!stopping_) {
    checkpoint_cv_.wait_for(lock, kCheckpointInterval,
                            [&] { return stopping_ || commits_since_checkpoint_ >= kCheckpointCommits; });
    if (commits_since_checkpoint_ == 0) continue;
    commits_since_checkpoint_ = 0;
    lock.unlock();
    // PASSIVE: copies what it can without waiting for readers or writers.
    Status s = (*conn)->db.Exec("PRAGMA wal_checkpoint(PASSIVE)");
    if (!s.ok()) spdlog::warn("checkpoint: {}", s.ToString());
    lock.lock();
  }
  // At shutdown: leaves an empty -wal behind when no one else reads.
  if (Status s = (*conn)->db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); !s.ok())
    spdlog::warn("final checkpoint: {}", s.ToString());
}

Result<std::unique_ptr<SqliteConnection>> SqliteStore::OpenConnection(bool read_only) {
  MG_ASSIGN_OR_RETURN(sql::Db db, sql::Db::Open(path_, false, 5000, synchronous_));
  if (read_only) MG_RETURN_IF_ERROR(db.Exec("PRAGMA query_only=1"));
  auto c = std::make_unique<SqliteConnection>();
  c->db = std::move(db);
  return c;
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const std::string& synchronous) {
  if (synchronous != "NORMAL" && synchronous != "FULL")
    return Status::Invalid("invalid_config", "sqlite synchronous must be NORMAL or FULL");
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, synchronous));
  MG_ASSIGN_OR_RETURN(store->writer_, store->OpenConnection(false));
  MG_ASSIGN_OR_RETURN(store->schema_version_,
                      sql::Migrate(store->writer_->db, SqliteMigrations()));
  if (path != ":memory:") {
    MG_RETURN_IF_ERROR(store->writer_->db.Exec("PRAGMA wal_autocheckpoint=0"));
    store->checkpointer_ = std::thread([raw = store.get()] { raw->Checkpoints(); });
  }
  return store;
}

namespace {
constexpr auto kReaderWait = std::chrono::seconds(10);
}  // namespace

size_t SqliteStore::readers_open() {
  std::lock_guard<std::mutex> lock(readers_mu_);
  return readers_open_;
}

std::unique_ptr<SqliteConnection> SqliteStore::TakeReader(Status& error) {
  std::unique_lock<std::mutex> lock(readers_mu_);
  if (!reader_returned_.wait_for(lock, kReaderWait,
                                 [this] { return !readers_.empty() || readers_open_ < kMaxReaders; })) {
    error = Status::Unavailable("database_busy", "every database reader stayed busy for 10 s; retry");
    return nullptr;
  }
  if (!readers_.empty()) {
    auto c = std::move(readers_.back());
    readers_.pop_back();
    return c;
  }
  ++readers_open_;
  lock.unlock();
  auto c = OpenConnection(true);
  if (!c.ok()) {
    lock.lock();
    --readers_open_;
    lock.unlock();
    reader_returned_.notify_one();
    error = c.status();
    return nullptr;
  }
  return std::move(c).value();
}

void SqliteStore::ReturnReader(std::unique_ptr<SqliteConnection> c) {
  std::unique_ptr<SqliteConnection> surplus;  // closed outside the lock
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (readers_.size() >= kIdleReaders) {
      surplus = std::move(c);
      --readers_open_;
    } else {
      readers_.push_back(std::move(c));
    }
  }
  reader_returned_.notify_one();
}

Status SqliteStore::Read(const std::function<Status(Tx&)>& fn) {
  Status error;
  auto conn = TakeReader(error);
  if (!conn) return error;
  SqliteTx tx(*conn, /*writer=*/false);
  Status s = conn->db.Transaction([&] { return fn(tx); }, /*write=*/false);
  ReturnReader(std::move(conn));
  return s;
}

Status SqliteStore::Write(const std::function<Status(Tx&)>& fn) {
  std::vector<LogAdvance> advances;
  Status s;
  {
    std::lock_guard<std::mutex> lock(writer_mu_);
    SqliteTx tx(*writer_, /*writer=*/true);
    s = writer_->db.Transaction([&] { return fn(tx); }, /*write=*/true);
    if (s.ok())
      for (const auto& [ws, a] : tx.advances()) advances.push_back(a);
  }
  if (s.ok()) {
    bool due;
    {
      std::lock_guard<std::mutex> lock(checkpoint_mu_);
      due = ++commits_since_checkpoint_ >= kCheckpointCommits;
    }
    if (due) checkpoint_cv_.notify_one();
  }
  if (s.ok() && !advances.empty() && listener_) listener_(advances);
  return s;
}

Status SqliteStore::Ping() {
  return Read([](Tx& tx) { return tx.CountUsers().status(); });
}

}  // namespace mgteam::server
