// Local-first plumbing for the memory and relationship commands (design
// brief §2, §7): reads come from the replica, writes go to the replica and
// its outbox at once, and then to the agent, or, where no agent runs
// (scripts, CI jobs), straight to the server from here.
#pragma once

#include "session.h"

#include "local_api.h"
#include "replica.h"

#include <memory>
#include <optional>

namespace mgteam::cli {

struct Local {
  std::unique_ptr<agent::Replica> replica;
  std::optional<ApiClient> api;
  WorkspaceRef ws;
  bool agent_running = false;
  bool online = true;        // false once the server could not be reached
  std::string offline_reason;
};

// Opens the replica for the current server and resolves the workspace: from
// the server's list when reachable (which also records new teams and drops
// left ones), else from the replica. With `catch_up` and no agent running,
// brings the workspace up to date first (a snapshot the first time).
Result<Local> OpenLocal(Session& s, bool catch_up);

// Whether an agent runs and syncs `url` (the replica this command uses).
bool AgentSyncs(const ServerUrl& url);

// After a local write that queued `op_id`: hands it to the agent (waiting for
// the server's answer with `wait`), or sends it now when no agent runs.
// Returns the server's refusal as an error; an unreachable server leaves the
// write queued and returns the offline-queued status (exit code 7).
Status Deliver(Session& s, Local& l, const std::string& op_id, bool wait);

// A note on stderr when the data shown may be stale (offline).
void NoteIfOffline(const Local& l);

// The replica's workspaces as PickWorkspace() takes them.
std::vector<WorkspaceRef> Refs(const std::vector<agent::ReplicaWorkspace>& list);

// Status: offline and queued (exit 7).
Status Queued(const std::string& why);

}  // namespace mgteam::cli
