// The conversations with the server that keep a replica current, shared by
// the agent (in the background) and the CLI (when no agent runs).
//
// Thread-safety: the functions are reentrant; a replica may be shared, an
// ApiClient may not.
#pragma once

#include "replica.h"

#include "mgteam/api_client.h"

#include <functional>

namespace mgteam::agent {

// Lists the caller's workspaces, records them in the replica and forgets
// (purges) the ones the caller no longer belongs to.
Result<std::vector<ReplicaWorkspace>> DiscoverWorkspaces(ApiClient& api, Replica& replica);

// Called while a snapshot loads: (workspace id, memories loaded so far).
using ProgressFn = std::function<void(const std::string& ws, int64_t loaded)>;

// Loads the workspace's current state page by page, keeping local pending
// writes, and sets the cursor to the head seen before the first page.
Status LoadSnapshot(ApiClient& api, Replica& replica, const std::string& ws, const ProgressFn& progress = {});

// Brings one workspace up to date by polling the log: a snapshot first if
// the replica has none (or the server's log was reset), then every event
// after the cursor. Returns reason "removed" (NotFound) if the caller left.
Status CatchUp(ApiClient& api, Replica& replica, const std::string& ws, const ProgressFn& progress = {});

struct FlushResult {
  int sent = 0;     // accepted by the server
  int failed = 0;   // refused for good (see the op's last_error)
  int waiting = 0;  // not due yet (backing off)
  int conflicted = 0;  // updates that reached a deleted memory (kept as conflict records)
  Status blocked;   // why sending stopped early (offline, 5xx, not signed in)
  Status refused;   // the server's answer to the last op it refused
};

// Sends the workspace's pending ops oldest first with their op ids as
// Idempotency-Key, so a resend after a crash applies once. Network and 5xx
// errors stop the run and back the op off (exponential, with jitter, capped
// at 5 minutes); a 4xx fails that op and the run goes on. With
// `honour_backoff`, an op whose next attempt is not due stops the run.
FlushResult Flush(ApiClient& api, Replica& replica, const std::string& ws, bool honour_backoff);

// One op's request: the server's answer (the entity as stored, with its
// version) or its refusal. Nothing is recorded; see SettleOp.
Result<json> SendOp(ApiClient& api, const OutboxOp& op);

enum class OpOutcome {
  kAccepted,    // done; the answer is stored as server state
  kConflicted,  // an update that reached a deleted memory: done, kept as a conflict record
  kRefused,     // refused for good: marked failed, out of the view
  kBlocked,     // offline, 5xx or signed out: the op waits (backed off)
};
// Records what an answer means for the op. Separate from SendOp so tests can
// hold an answer back and deliver it in any order with the stream's events.
Result<OpOutcome> SettleOp(Replica& replica, const OutboxOp& op, const Result<json>& answer);

// True for failures that mean "the server could not be reached".
bool IsOffline(const Status& s);

}  // namespace mgteam::agent
