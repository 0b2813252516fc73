// PostgresTx: the Tx of PostgresStore, one per transaction, on one pooled
// connection. Internal to the store (postgres_store.cpp runs it).
#pragma once

#include "store/pg.h"
#include "store/store.h"

#include <map>
#include <string>

namespace mgteam::server {

class PostgresTx final : public Tx {
 public:
  PostgresTx(pg::Connection& c, bool writer) : c_(c), writer_(writer) {}

  // Workspaces whose log grew in this transaction.
  const std::map<std::string, LogAdvance>& advances() const { return advances_; }
  // The first statement that failed. PostgreSQL aborts the whole transaction
  // there (SQLite goes on), so a caller that saw an error and carried on
  // must not commit: the store rolls back and returns this.
  const Status& failure() const { return failure_; }

  Status Lock(const std::string& key) override;

  Result<int64_t> CountUsers() override;
  Maybe<UserRecord> FindUserByEmail(const std::string& email_norm) override;
  Maybe<User> FindUser(const std::string& id) override;
  Status InsertUser(const UserRecord& u) override;
  Status InsertToken(const TokenRecord& t) override;
  Maybe<TokenRecord> FindTokenByHash(const std::string& hash) override;
  Result<std::vector<TokenRecord>> ListTokens(const std::string& user_id) override;
  Status UpdateToken(const TokenRecord& t) override;
  Status TouchToken(const std::string& token_id, const std::string& at) override;
  Result<int64_t> PurgeEndedSessions(const std::string& before) override;

  Status InsertWorkspace(const Workspace& w) override;
  Status UpdateWorkspace(const Workspace& w) override;
  Status DeleteWorkspace(const std::string& id) override;
  Maybe<Workspace> FindWorkspace(const std::string& id) override;
  Result<bool> SlugTaken(const std::string& slug) override;
  Result<std::vector<std::pair<Workspace, std::string>>> ListWorkspacesOf(const std::string& user_id) override;
  Maybe<Member> FindMember(const std::string& ws, const std::string& user_id) override;
  Result<std::vector<Member>> ListMembers(const std::string& ws) override;
  Status PutMember(const Member& m) override;
  Status DeleteMember(const std::string& ws, const std::string& user_id) override;

  Status AppendEvent(Event& e) override;
  Result<std::vector<Event>> ListEvents(const std::string& ws, int64_t after_seq, int limit) override;
  Result<std::vector<EventRow>> ListEventRows(const std::string& ws, int64_t after_seq, int limit) override;

  Maybe<Memory> FindMemory(const std::string& ws, const std::string& id) override;
  Status InsertMemory(const Memory& m) override;
  Status UpdateMemory(const Memory& m) override;
  Result<std::vector<Memory>> ListMemories(const MemoryQuery& q) override;
  Maybe<Relationship> FindRelationship(const std::string& ws, const std::string& id) override;
  Maybe<Relationship> FindLiveRelationship(const std::string& ws, const std::string& from,
                                           const std::string& to, const std::string& type) override;
  Status InsertRelationship(const Relationship& r) override;
  Status UpdateRelationship(const Relationship& r) override;
  Result<std::vector<Relationship>> ListRelationships(const RelationshipQuery& q) override;
  Result<std::vector<Memory>> MemoriesAfter(const std::string& ws, const std::string& after_id, int limit) override;
  Result<std::vector<Relationship>> RelationshipsAfter(const std::string& ws, const std::string& after_id,
                                                       int limit) override;

  Status PutConflict(const Conflict& c) override;
  Maybe<Conflict> FindConflict(const std::string& ws, const std::string& id) override;
  Result<std::vector<Conflict>> ListConflicts(const ConflictQuery& q) override;
  Result<std::vector<Event>> ListActivity(const ActivityQuery& q) override;
  Result<std::vector<Event>> EntityEvents(const std::string& ws, const std::string& entity_id) override;

  Maybe<IdempotencyRecord> FindIdempotency(const std::string& key_hash) override;
  Status InsertIdempotency(const IdempotencyRecord& r) override;
  Result<int64_t> PurgeIdempotency(const std::string& before) override;

  Status InsertInvitation(const InvitationRecord& i) override;
  Status UpdateInvitation(const InvitationRecord& i) override;
  Maybe<InvitationRecord> FindInvitation(const std::string& ws, const std::string& id) override;
  Maybe<InvitationRecord> FindInvitationByTokenHash(const std::string& token_hash) override;
  Result<std::vector<InvitationRecord>> ListPendingInvitations(const std::string& ws,
                                                               const std::string& now) override;

 private:
  // Every statement goes through here, so the first failure is kept.
  Result<pg::Rows> Exec(std::string_view sql, const pg::Params& params);
  template <class... Args>
  Result<pg::Rows> Query(std::string_view sql, const Args&... args) {
    return Exec(sql, pg::Params::Of(args...));
  }
  template <class... Args>
  Status Run(std::string_view sql, const Args&... args) {
    return Exec(sql, pg::Params::Of(args...)).status();
  }

  pg::Connection& c_;
  const bool writer_;
  Status failure_;
  std::map<std::string, LogAdvance> advances_;
};

}  // namespace mgteam::server
