// Store: the server's persistence seam (docs/architecture.md, "Store").
//
// A Store runs functions inside transactions; a Tx offers narrow, row-level
// primitives. Everything that decides *what* to write (validation, versions,
// the change-log event that must accompany every change) lives above this
// interface in server/domain/. Two implementations keep the same contract
// (tests/unit/store_conformance_test.cpp runs the same cases over both):
// SqliteStore (one writer at a time) and PostgresStore (many concurrent
// writers, READ COMMITTED).
//
// The isolation each operation relies on, which every implementation gives:
//
//   * Read() runs in one consistent snapshot.
//   * Write() runs at least READ COMMITTED: each statement sees everything
//     committed before it started. What makes a read-check-write safe is a
//     Lock() taken *before* the reads: two write transactions that lock the
//     same key run one after the other from the Lock() call to commit, and
//     the second one's reads after its Lock() see the first one's writes.
//     The keys in use (LockKey below):
//       - workspace:<id>   every write to a workspace (the router takes it
//                          before the handler runs): roles, members, owner
//                          counts, memories, relationships, conflicts;
//       - idempotency:<h>  one Idempotency-Key (find-then-insert);
//       - accounts         sign-up (the first user; one email);
//       - slugs            a new or renamed workspace's slug.
//     A transaction takes them in that order (idempotency, accounts,
//     workspace, slugs), so two never wait for each other in a ring.
//     SqliteStore has one writer, so Lock() is free there; PostgresStore
//     takes a transaction-scoped advisory lock.
//   * AppendEvent assigns seq = head_seq + 1 and bumps head_seq in the same
//     transaction, holding the workspace row until commit: a workspace's seqs
//     are dense and become visible in seq order (a reader that sees seq N
//     also sees every seq below it).
//   * UpdateMemory/UpdateRelationship write only over the version they
//     replace (m.version - 1), else Conflict "stale_write": a guard, should a
//     caller ever forget the lock.
//   * A unique-key violation is Conflict with a specific reason
//     (UniqueViolation below): email_taken, slug_taken, already_exists, ...,
//     never a generic one.
//   * A write that could not be serialised (a deadlock, a serialisation
//     failure) is retried by Write() itself; `fn` must therefore have no
//     effects outside the Tx other than on variables it overwrites.
//   * A database that is down or unreachable gives Unavailable
//     ("database_unavailable"), 503 at the API.
//
// Thread-safety: a Store is shared by all request threads; a Tx belongs to the
// thread running the function it was passed to and must not escape it.
#pragma once

#include "mgteam/model.h"
#include "mgteam/status.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mgteam::server {

struct UserRecord {
  User user;
  std::string email_norm;
  std::string password_hash;  // argon2id, libsodium's crypto_pwhash_str format
};

struct TokenRecord {
  std::string id;
  std::string user_id;
  std::string name;
  std::string hash;    // hex SHA-256 of the secret; the secret itself is never stored
  std::string prefix;  // first characters of the secret, for recognising it in lists
  std::string created_at;
  std::optional<std::string> last_used_at;
  std::optional<std::string> revoked_at;
  std::optional<std::string> expires_at;  // RFC 3339; none: never

  bool expired(const std::string& now_rfc3339) const;
  // A browser session ("mgs_..."), not an access token (accounts.h).
  bool session() const { return prefix.rfind("mgs_", 0) == 0; }
  json ToJson() const;
};

struct IdempotencyRecord {
  std::string key_hash;      // hex hash of (user, Idempotency-Key)
  std::string request_hash;  // hex hash of (method, path, body)
  int status = 0;
  std::string sealed_body;   // the first answer, encrypted with a key only the client can derive
  std::string created_at;
};

struct InvitationRecord {
  std::string id;
  std::string workspace_id;
  std::string email_norm;
  std::string role;
  std::string inviter_id;
  std::string token_hash;
  std::string created_at;
  std::string expires_at;
  std::optional<std::string> accepted_at;
  std::optional<std::string> accepted_by;
  std::optional<std::string> revoked_at;
};

// A page position in (created_at DESC, id DESC) order.
struct PageCursor {
  std::string created_at;
  std::string id;
};

struct MemoryQuery {
  std::string workspace_id;
  std::optional<std::string> type;
  std::vector<std::string> tags;  // every one of these (normalised) tags
  bool include_deleted = false;
  int limit = 50;
  std::optional<PageCursor> after;
};

struct RelationshipQuery {
  std::string workspace_id;
  std::optional<std::string> memory_id;  // either end
  std::optional<std::string> type;
  bool include_deleted = false;
  int limit = 50;
  std::optional<PageCursor> after;
};

struct ConflictQuery {
  std::string workspace_id;
  std::optional<std::string> memory_id;
  bool open_only = true;
  bool oldest_first = false;           // snapshot paging: id order
  std::optional<std::string> after_id;  // the last id of the previous page
  int limit = 50;
};

// The activity feed's filters (newest first).
struct ActivityQuery {
  std::string workspace_id;
  std::optional<int64_t> before_seq;        // the cursor: entries with seq < this
  std::optional<std::string> actor;         // user id
  std::optional<std::string> type_suffix;   // "_created", ... (the action)
  std::optional<std::string> entity_type;   // memory, relationship, member, ...
  std::optional<std::string> since, until;  // RFC 3339, inclusive
  int limit = 50;
};

// An event as stored: its wire form (`data`) plus the columns the stream
// needs without parsing it.
struct EventRow {
  int64_t seq = 0;
  std::string type;
  std::string entity_id;
  std::string data;
};

// What one committed write transaction appended to one workspace's log.
struct LogAdvance {
  std::string workspace_id;
  int64_t head_seq = 0;
  int64_t appended = 0;
};

template <class T>
using Maybe = Result<std::optional<T>>;

// Lock keys (see the top of this file).
struct LockKey {
  static std::string Workspace(const std::string& id) { return "workspace:" + id; }
  static std::string Idempotency(const std::string& key_hash) { return "idempotency:" + key_hash; }
  static std::string Accounts() { return "accounts"; }
  static std::string Slugs() { return "slugs"; }
};

// The Conflict a store returns for a violated unique key, named by
// "table.column" (SQLite's wording) or by constraint name (PostgreSQL's
// "table_column_key" / "table_pkey").
Status UniqueViolation(std::string_view constraint, std::string detail);

class Tx {
 public:
  virtual ~Tx() = default;

  // Serialises this write transaction with every other one that locks
  // `key`, until commit (see the top of this file). Take it before reading
  // what the write depends on. In a Read(): an error.
  virtual Status Lock(const std::string& key) = 0;

  // Users and tokens.
  virtual Result<int64_t> CountUsers() = 0;
  virtual Maybe<UserRecord> FindUserByEmail(const std::string& email_norm) = 0;
  virtual Maybe<User> FindUser(const std::string& id) = 0;
  virtual Status InsertUser(const UserRecord& u) = 0;
  virtual Status InsertToken(const TokenRecord& t) = 0;
  virtual Maybe<TokenRecord> FindTokenByHash(const std::string& hash) = 0;
  virtual Result<std::vector<TokenRecord>> ListTokens(const std::string& user_id) = 0;
  virtual Status UpdateToken(const TokenRecord& t) = 0;  // name, last_used_at, revoked_at
  // Notes a use of a token that is not revoked: sets last_used_at only, so a
  // copy read before a revocation can never write the revocation back.
  virtual Status TouchToken(const std::string& token_id, const std::string& at) = 0;
  // Deletes browser sessions that ended (revoked or expired) before
  // `before` (RFC 3339): each sign-in makes one, and an ended one is of no
  // use once it has been listed for a while. Tokens are kept. How many went.
  virtual Result<int64_t> PurgeEndedSessions(const std::string& before) = 0;

  // Workspaces and memberships.
  virtual Status InsertWorkspace(const Workspace& w) = 0;
  virtual Status UpdateWorkspace(const Workspace& w) = 0;  // name, slug, updated_at
  virtual Status DeleteWorkspace(const std::string& id) = 0;  // and everything in it
  virtual Maybe<Workspace> FindWorkspace(const std::string& id) = 0;
  virtual Result<bool> SlugTaken(const std::string& slug) = 0;
  // Every workspace `user_id` belongs to, with the role held there.
  virtual Result<std::vector<std::pair<Workspace, std::string>>> ListWorkspacesOf(
      const std::string& user_id) = 0;
  virtual Maybe<Member> FindMember(const std::string& ws, const std::string& user_id) = 0;
  virtual Result<std::vector<Member>> ListMembers(const std::string& ws) = 0;
  virtual Status PutMember(const Member& m) = 0;  // insert or change role
  virtual Status DeleteMember(const std::string& ws, const std::string& user_id) = 0;

  // The change log. AppendEvent sets e.seq.
  virtual Status AppendEvent(Event& e) = 0;
  virtual Result<std::vector<Event>> ListEvents(const std::string& ws, int64_t after_seq,
                                                int limit) = 0;
  virtual Result<std::vector<EventRow>> ListEventRows(const std::string& ws, int64_t after_seq,
                                                      int limit) = 0;

  // Memories and relationships (tombstones included in Find*).
  virtual Maybe<Memory> FindMemory(const std::string& ws, const std::string& id) = 0;
  virtual Status InsertMemory(const Memory& m) = 0;
  virtual Status UpdateMemory(const Memory& m) = 0;
  virtual Result<std::vector<Memory>> ListMemories(const MemoryQuery& q) = 0;
  virtual Maybe<Relationship> FindRelationship(const std::string& ws, const std::string& id) = 0;
  virtual Maybe<Relationship> FindLiveRelationship(const std::string& ws, const std::string& from,
                                                   const std::string& to,
                                                   const std::string& type) = 0;
  virtual Status InsertRelationship(const Relationship& r) = 0;
  virtual Status UpdateRelationship(const Relationship& r) = 0;
  virtual Result<std::vector<Relationship>> ListRelationships(const RelationshipQuery& q) = 0;
  // Live entities with id > after_id in id order (snapshot paging).
  virtual Result<std::vector<Memory>> MemoriesAfter(const std::string& ws, const std::string& after_id,
                                                    int limit) = 0;
  virtual Result<std::vector<Relationship>> RelationshipsAfter(const std::string& ws,
                                                               const std::string& after_id,
                                                               int limit) = 0;

  // Conflict records (docs/conflicts.md), stored whole; PutConflict inserts
  // or replaces.
  virtual Status PutConflict(const Conflict& c) = 0;
  virtual Maybe<Conflict> FindConflict(const std::string& ws, const std::string& id) = 0;
  virtual Result<std::vector<Conflict>> ListConflicts(const ConflictQuery& q) = 0;
  // The log newest first, filtered (the activity feed).
  virtual Result<std::vector<Event>> ListActivity(const ActivityQuery& q) = 0;
  // One entity's log events in order (merge bases, edit stamps).
  virtual Result<std::vector<Event>> EntityEvents(const std::string& ws, const std::string& entity_id) = 0;

  // Idempotent replays.
  virtual Maybe<IdempotencyRecord> FindIdempotency(const std::string& key_hash) = 0;
  virtual Status InsertIdempotency(const IdempotencyRecord& r) = 0;
  // Deletes records created before `before` (RFC 3339); how many went.
  virtual Result<int64_t> PurgeIdempotency(const std::string& before) = 0;

  // Invitations.
  virtual Status InsertInvitation(const InvitationRecord& i) = 0;
  virtual Status UpdateInvitation(const InvitationRecord& i) = 0;
  virtual Maybe<InvitationRecord> FindInvitation(const std::string& ws, const std::string& id) = 0;
  virtual Maybe<InvitationRecord> FindInvitationByTokenHash(const std::string& token_hash) = 0;
  virtual Result<std::vector<InvitationRecord>> ListPendingInvitations(const std::string& ws,
                                                                       const std::string& now) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in a read-only snapshot.
  virtual Status Read(const std::function<Status(Tx&)>& fn) = 0;
  // Runs `fn` in a write transaction; commits if it returns OK, else rolls
  // back and returns its error.
  virtual Status Write(const std::function<Status(Tx&)>& fn) = 0;
  // Called after each committed Write that appended events, with what it
  // appended to each workspace. Set once, before serving.
  using CommitListener = std::function<void(const std::vector<LogAdvance>&)>;
  virtual void SetCommitListener(CommitListener listener) = 0;
  // "sqlite:/path/to/mgteam.db" or "postgres://user@host:port/db" (no
  // password), for logs.
  virtual std::string Describe() const = 0;
  // Cheap liveness probe for /readyz.
  virtual Status Ping() = 0;
  // The schema migration the database is at.
  virtual int schema_version() const = 0;

  // Helpers that carry a value out of a transaction.
  template <class T>
  Result<T> ReadValue(const std::function<Result<T>(Tx&)>& fn) {
    std::optional<Result<T>> out;
    Status s = Read([&](Tx& tx) {
      out.emplace(fn(tx));
      return out->ok() ? Status::Ok() : out->status();
    });
    if (!s.ok()) return s;
    return std::move(*out);
  }
  template <class T>
  Result<T> WriteValue(const std::function<Result<T>(Tx&)>& fn) {
    std::optional<Result<T>> out;
    Status s = Write([&](Tx& tx) {
      out.emplace(fn(tx));
      return out->ok() ? Status::Ok() : out->status();
    });
    if (!s.ok()) return s;
    return std::move(*out);
  }
};

}  // namespace mgteam::server
