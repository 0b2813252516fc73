// Replica: the client's local copy of every workspace the user belongs to,
// and the outbox of writes not yet accepted by the server (docs/team-sync.md).
// One SQLite file per server, shared by the agent and the CLI (separate
// processes; SQLite's locking serialises them).
//
// For each memory and relationship the replica keeps the server's latest
// state (from events, snapshot pages and the answers to our own writes,
// whichever arrives first, version-guarded) and the local view that reads
// return. The view is a pure function of the two (view.h): the server state
// with the entity's pending ops replayed in order. Every transition rewrites
// the row from that function (entity_rows.h), so a teammate's change never
// hides an edit of yours that is still on its way, a refused op simply drops
// out of the view, and once nothing is pending the row equals the server's.
//
// Every change is one SQLite transaction: an event's effect together with
// the cursor, a local write together with its outbox op. A process killed at
// any point leaves either all of it or none.
//
// The implementation is split by job: replica_schema.cpp (migrations),
// outbox.cpp (queued ops), entity_rows.cpp (server state and view),
// replica.cpp (transitions), replica_reads.cpp (queries and search).
//
// Thread-safety: methods may be called from several threads; they
// serialise on one connection.
#pragma once

#include "entity_rows.h"
#include "outbox.h"

#include "mgteam/model.h"
#include "mgteam/rbac.h"
#include "mgteam/sqlite.h"
#include "mgteam/status.h"
#include "mgteam/validate.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mgteam::agent {

// pending: an op of yours is on its way; failed: the server refused one
// (see `mgteam sync status`); synced: the local view is the server's.
enum class SyncState { kSynced, kPending, kFailed };
const char* SyncStateName(SyncState s);

struct LocalMemory {
  Memory memory;
  SyncState sync = SyncState::kSynced;
  std::vector<std::string> open_conflicts;  // ids of its open conflict records
  json ToJson() const;  // the memory's JSON plus "sync_state" and "open_conflicts"
};

struct LocalRelationship {
  Relationship relationship;
  SyncState sync = SyncState::kSynced;
  json ToJson() const;
};

struct ReplicaWorkspace {
  std::string id, name, slug, kind, role, epoch;
  int64_t cursor = 0;    // last seq applied
  int64_t head_seq = 0;  // newest head the server reported
  bool synced = false;   // a snapshot has been loaded
  std::string last_sync_at;
  std::string last_error;
  json ToJson() const;
};

struct ApplyResult {
  int applied = 0;
  int skipped = 0;                // at or below the cursor already
  bool removed_from_workspace = false;  // a member_removed for this user
};

struct MemoryFilter {
  std::string workspace_id;
  std::optional<std::string> type;
  std::vector<std::string> tags;  // every one of these (normalised) tags
  bool include_deleted = false;
  int limit = 50;
  int offset = 0;
};

// What Find() looks for (the MCP search tools and `memory search`). Every
// part is optional; the parts present must all hold.
// How a query's words match the text's: exactly, the last one as a prefix
// (someone is typing it), or every one, stemmed, as a prefix (Stem()).
enum class WordMatch { kExact, kLastPrefix, kPrefix };

struct MemoryQuery {
  std::string workspace_id;
  std::vector<std::string> words;  // full-text words; none: every memory, newest first
  bool match_all = true;           // every word (else any word)
  WordMatch word_match = WordMatch::kPrefix;
  std::vector<std::string> types;  // any of these types
  std::vector<std::string> tags;   // at least one of these tags
  std::string project_path;        // context.project_path is this path or below it
  std::optional<double> min_importance;
  std::vector<std::string> relationship_types;  // has a live relationship of one of these types
  int limit = 50;
  int offset = 0;
};

// One step of a path through the graph, in the relationship's own direction.
struct PathStep {
  std::string relationship_id, type, from_memory_id, to_memory_id;
  double strength = 0.5;
  json ToJson() const;
};

// A memory reached from another, with the shortest path that reaches it.
struct RelatedMemory {
  LocalMemory memory;
  int depth = 0;
  std::vector<PathStep> path;  // from the start memory to this one
  json ToJson() const;
};

struct RelatedResult {
  std::vector<RelatedMemory> items;  // the page asked for, nearest first
  int64_t total = 0;                 // every memory reached
};

// One of a memory's relationships, seen from that memory.
struct MemoryLink {
  Relationship relationship;
  bool outgoing = true;  // the memory is the relationship's `from`
  std::string other_id, other_title, other_type;
  json ToJson() const;
};

// A memory named by id, title and type: what an id prefix can stand for.
struct MemoryHead {
  std::string id, title, type;
  bool deleted = false;
};

// Counts for get_memory_statistics.
struct GraphStats {
  int64_t memories = 0, relationships = 0, pending = 0, failed = 0, open_conflicts = 0;
  double average_importance = 0;
  std::map<std::string, int64_t> memories_by_type, relationships_by_type;
  json ToJson() const;
};

// What changed since a time, for get_recent_activity.
struct RecentMemories {
  int64_t total = 0;                                 // memories created or changed since then
  std::map<std::string, int64_t> by_type;
  std::vector<LocalMemory> recent;                   // newest changes first, up to the limit
  std::vector<LocalMemory> unresolved_problems;      // problems/errors nothing SOLVES or ADDRESSES
};

class Replica {
 public:
  static Result<std::unique_ptr<Replica>> Open(const std::string& path);

  // Ties the replica to a server and user; a replica of another pair is
  // wiped first (its outbox included: those writes belong to another account).
  Status Bind(const std::string& server, const std::string& user_id);
  std::string user_id() const;

  // --- workspaces
  // Adds or refreshes a workspace (name, slug, role); keeps its data.
  Status RememberWorkspace(const Workspace& w, const std::string& role);
  // How many times a workspace was forgotten (a counter in the file, so all
  // processes sharing it see it).
  Result<int64_t> Forgotten();
  // Remembers a server's listing, unless a workspace was forgotten since
  // `forgotten` was read (then returns false and changes nothing): a listing
  // fetched before a removal must not bring the removed team back.
  Result<bool> RememberWorkspaces(const std::vector<std::pair<Workspace, std::string>>& list, int64_t forgotten);
  Result<std::vector<ReplicaWorkspace>> Workspaces();
  Result<std::optional<ReplicaWorkspace>> FindWorkspace(const std::string& id);
  // Removes the workspace and everything of it, outbox included, so that
  // none of its text remains in the file or its journal: the search index is
  // merged so no old terms survive, the file is rebuilt from its live content
  // (VACUUM) and the write-ahead log is checkpointed and truncated.
  Status ForgetWorkspace(const std::string& id);
  Status NoteSync(const std::string& ws, std::optional<int64_t> head_seq, const std::string& error);

  // --- loading a snapshot: Begin clears the server copy (your pending
  // writes stay), Load adds pages, Finish sets the cursor to the head seen
  // before the first page and replays pending ops on top.
  Status BeginSnapshot(const std::string& ws);
  Status LoadSnapshot(const std::string& ws, const std::vector<Memory>& memories,
                      const std::vector<Relationship>& relationships, const std::vector<Conflict>& conflicts = {});
  Status FinishSnapshot(const std::string& ws, int64_t head_seq, const std::string& epoch);

  // --- events, in log order, in one transaction with the cursor. Events at
  // or below the cursor are skipped; an entity state older than the one
  // held is ignored (that is what makes snapshot-then-replay exact).
  Result<ApplyResult> ApplyEvents(const std::string& ws, const std::vector<Event>& events);

  // --- local writes: the view changes and the op is queued, atomically.
  // `op_id`, when given, receives the id of the queued op.
  Result<LocalMemory> CreateMemory(const std::string& ws, Memory draft, std::string* op_id = nullptr);
  Result<LocalMemory> UpdateMemory(const std::string& ws, const std::string& id, const MemoryPatch& patch,
                                   std::string* op_id = nullptr);
  Result<LocalMemory> DeleteMemory(const std::string& ws, const std::string& id, std::string* op_id = nullptr);
  Result<LocalRelationship> CreateRelationship(const std::string& ws, Relationship draft,
                                               std::string* op_id = nullptr);
  Result<LocalRelationship> DeleteRelationship(const std::string& ws, const std::string& id,
                                               std::string* op_id = nullptr);

  // --- the outbox
  // Conflict records as the server's log announced them (newest first).
  Result<std::vector<Conflict>> ListConflicts(const std::string& ws, bool open_only,
                                              const std::optional<std::string>& memory_id = std::nullopt);
  Result<std::optional<Conflict>> GetConflict(const std::string& ws, const std::string& id);

  Result<std::optional<OutboxOp>> NextOp(const std::string& ws);  // oldest pending
  Result<std::optional<OutboxOp>> FindOp(const std::string& op_id);
  // The server accepted the op; `entity` is its answer (null for none).
  Status CompleteOp(const OutboxOp& op, const json& entity);
  // The server refused it for good: kept, marked failed with the refusal
  // (code included), out of the view.
  Status FailOp(const OutboxOp& op, const Status& why);
  // It could not be sent now: try again at `next_attempt_at`.
  Status DeferOp(const OutboxOp& op, const std::string& error, const std::string& next_attempt_at);
  // Drops a failed op whose refusal the user has already seen.
  Status DismissOp(const std::string& op_id);
  Result<std::vector<OutboxOp>> Ops(const std::string& ws = "");
  // Failed ops go back to pending; returns how many.
  Result<int> RetryFailed(const std::string& ws = "");

  // --- reads
  Result<std::vector<LocalMemory>> ListMemories(const MemoryFilter& f);
  Result<std::optional<LocalMemory>> GetMemory(const std::string& ws, const std::string& id);
  // Full-text search (FTS5, bm25; title weighs most) over live memories.
  Result<std::vector<LocalMemory>> Search(const std::string& ws, const std::string& query, int limit);
  // Live memories matching `q`: best match first with words, else newest first.
  Result<std::vector<LocalMemory>> Find(const MemoryQuery& q);

  // --- the graph (replica_graph.cpp)
  // Memories reachable from `id` over live relationships in either direction,
  // up to `max_depth` hops, each once with its shortest path (cycles are
  // walked once). `types` limits the relationships followed (none: all).
  Result<RelatedResult> Related(const std::string& ws, const std::string& id, int max_depth,
                                const std::vector<std::string>& types, int limit, int offset);
  // The memory's live relationships to live memories, newest first, each
  // with the other memory's title and type.
  Result<std::vector<MemoryLink>> Links(const std::string& ws, const std::string& id, int limit);
  Result<GraphStats> Statistics(const std::string& ws);
  // Memories whose id starts with `prefix` (any case), in id order, at most
  // `limit`: what a typed prefix (`memory get 01A2`, shell completion) can mean.
  Result<std::vector<MemoryHead>> MemoriesByIdPrefix(const std::string& ws, const std::string& prefix,
                                                     bool include_deleted, int limit);
  // Memories created or changed at or after `since` (RFC 3339), optionally
  // only those of one project.
  Result<RecentMemories> Recent(const std::string& ws, const std::string& since, const std::string& project_path,
                                int limit);
  Result<std::vector<LocalRelationship>> ListRelationships(const std::string& ws,
                                                           const std::optional<std::string>& memory_id,
                                                           const std::optional<std::string>& type,
                                                           bool include_deleted, int limit);
  Result<std::optional<LocalRelationship>> GetRelationship(const std::string& ws, const std::string& id);
  Result<int64_t> CountMemories(const std::string& ws);

  // --- checking against the server (`mgteam sync verify`)
  // RowDigest over the server states held for the workspace's live rows:
  // {"memories": {"count", "digest"}, "relationships": {...}} (digest.h).
  Result<json> ServerDigest(const std::string& ws);
  // The server states held for the workspace's live rows, in id order.
  Result<std::vector<Memory>> ServerMemories(const std::string& ws);
  Result<std::vector<Relationship>> ServerRelationships(const std::string& ws);
  // Replaces the server state held for one entity with the server's (none:
  // the server has no live entity of that id), whatever the versions, and
  // rewrites its view; pending ops are kept and replayed on top.
  Status RepairMemory(const std::string& ws, const std::string& id, const std::optional<Memory>& m);
  Status RepairRelationship(const std::string& ws, const std::string& id, const std::optional<Relationship>& r);

  // The model check: every row recomputed from scratch (server state and
  // pending ops) must equal the stored one, and the search index the rows.
  // Internal error listing the first mismatches otherwise. Cheap enough for
  // tests to call after every step; not on any production path.
  Status CheckView();

 private:
  explicit Replica(sql::Db db);
  Status Tx(const std::function<Status()>& fn);
  Status StoreConflict(const Conflict& c);
  Status UpsertWorkspace(const Workspace& w, const std::string& role);
  Result<int64_t> ReadForgotten();
  Status RebaseNextOp(const std::string& ws, const std::string& id, const json& entity);
  // Brings memories_fts up to date with the rows noted in fts_dirty.
  Status SyncSearchIndex();
  Result<OutboxOp> Enqueue(const std::string& ws, OpKind kind, const std::string& entity_id, json payload);
  // Refuses up front a write the server is known to refuse: the role the
  // replica holds for the workspace lacks `p`.
  Status CheckRole(const std::string& ws, Permission p);
  Result<SyncState> EntitySync(const std::string& ws, const std::string& id);
  Status FillSync(const std::string& ws, std::vector<LocalMemory>& rows);
  // Unlocked loaders for use inside locked methods.
  Result<std::optional<LocalMemory>> LoadMemory(const std::string& ws, const std::string& id);
  Result<std::optional<LocalRelationship>> LoadRelationship(const std::string& ws, const std::string& id);
  Result<LocalMemory> LiveMemory(const std::string& ws, const std::string& id);
  static Status NotInReplica(const std::string& what, const std::string& id);
  // Leaves no trace of deleted rows in the search index or the journal.
  Status Scrub();

  mutable std::mutex mu_;
  sql::Db db_;
  std::string user_id_;
  Outbox outbox_;
  EntityRows rows_;
};

// "redis timeout" -> an FTS5 query matching both words, the last as a prefix.
std::string FtsQuery(const std::string& text);
// Words -> an FTS5 query: all (or any) of them, each quoted. "" for none.
std::string FtsQuery(const std::vector<std::string>& words, bool match_all, WordMatch how);
// SQL: memory `m`'s context.project_path is the path in parameter `param`
// or below it; ProjectPath() readies a path for it ("/src/app/" -> "/src/app").
std::string UnderProject(const std::string& param);
std::string ProjectPath(std::string path);
// English plural and tense endings cut off (ies, ing, es, ed, s), leaving at
// least three letters, so that as a prefix the word finds its other forms:
// "timeouts" -> "timeout" (timeout, timeouts), "caching" -> "cach" (cache).
std::string Stem(const std::string& word);
// Splits on whitespace.
std::vector<std::string> SplitWords(const std::string& text);

}  // namespace mgteam::agent
