#include "local.h"

#include "paths.h"
#include "render.h"
#include "sync.h"

#include "mgteam/clock.h"

namespace mgteam::cli {

std::vector<WorkspaceRef> Refs(const std::vector<agent::ReplicaWorkspace>& list) {
  std::vector<WorkspaceRef> out;
  for (const auto& w : list) out.push_back(WorkspaceRef{w.id, w.name, w.slug, w.kind, w.role});
  return out;
}

namespace {

// The server's refusal of a queued write, with its own code (so a role
// refusal exits 4 and a conflict 6), dismissed: it is reported here and now.
Status Refused(agent::Replica& replica, const std::string& op_id) {
  auto op = replica.FindOp(op_id);
  Status why = op.ok() && *op ? (*op)->refusal : Status::Invalid("refused", "refused");
  std::string message = "the server refused this write: " + why.message();
  // Not dismissed, the refusal stays listed by `mgteam sync status`: say so.
  if (Status dismissed = replica.DismissOp(op_id); !dismissed.ok())
    message += " (it stays listed in `mgteam sync status`: " + dismissed.message() + ")";
  return Status(why.code(), why.reason(), message);
}

// The name the replica knows the workspace `choice` by ("" if none): once the
// server stops listing a team, discovery forgets it, name included.
std::string NameInReplica(const std::vector<agent::ReplicaWorkspace>& known, const std::string& choice) {
  if (choice.empty()) return "";
  auto picked = PickWorkspace(Refs(known), choice, false);
  return picked.ok() ? picked->name : "";
}

}  // namespace

bool AgentSyncs(const ServerUrl& url) {
  auto status = agent::LocalApiClient(agent::SocketPath()).Status();
  return status.ok() && status->value("server", "") == url.ToString();
}

Status Queued(const std::string& why) {
  return Status(Code::kUnavailable, "queued",
                "saved locally, not yet on the server (" + why +
                    "); it is sent when the server is reachable: start the agent (`mgteam agent start`) "
                    "or run `mgteam sync now` later");
}

Result<Local> OpenLocal(Session& s, bool catch_up) {
  Local l;
  MG_ASSIGN_OR_RETURN(ServerUrl url, s.Server());
  MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
  l.api.emplace(std::move(api));
  MG_RETURN_IF_ERROR(agent::EnsurePrivateDir(agent::DataDir()));
  MG_ASSIGN_OR_RETURN(l.replica, agent::Replica::Open(agent::ReplicaPath(url.ToString())));
  // An agent syncing another server (or another name for this one) does
  // not sync this replica: this command is on its own.
  l.agent_running = AgentSyncs(url);

  // With an agent running, the replica is its business: it is bound to the
  // account and kept current, so everything below comes from disk.
  if (l.agent_running && !l.replica->user_id().empty()) {
    MG_ASSIGN_OR_RETURN(auto known, l.replica->Workspaces());
    MG_ASSIGN_OR_RETURN(std::string choice, s.WorkspaceChoice());
    auto picked = PickWorkspace(Refs(known), choice, false);
    if (picked.ok()) {
      l.ws = std::move(picked).value();
      return l;
    }
    // Not known locally (a team joined a moment ago): ask the server below.
  }

  // Who am I? Bind the replica to this account (another account's data is
  // wiped). Offline, the replica's own binding stands.
  auto me = l.api->Get("/api/v1/me");
  if (me.ok()) {
    MG_RETURN_IF_ERROR(l.replica->Bind(url.ToString(), (*me)["user"].value("id", "")));
  } else if (agent::IsOffline(me.status())) {
    l.online = false;
    l.offline_reason = me.status().message();
  } else {
    return me.status();
  }

  MG_ASSIGN_OR_RETURN(std::string choice, s.WorkspaceChoice());
  std::vector<agent::ReplicaWorkspace> known;
  std::string known_name;  // of the chosen workspace, read before discovery may forget it
  if (l.online) {
    MG_ASSIGN_OR_RETURN(auto before, l.replica->Workspaces());
    known_name = NameInReplica(before, choice);
    auto found = agent::DiscoverWorkspaces(*l.api, *l.replica);
    if (found.ok()) {
      known = std::move(found).value();
    } else if (agent::IsOffline(found.status())) {
      l.online = false;
      l.offline_reason = found.status().message();
    } else {
      return found.status();
    }
  }
  if (!l.online) {
    MG_ASSIGN_OR_RETURN(known, l.replica->Workspaces());
    if (known.empty())
      return Status::Unavailable("unreachable", l.offline_reason + "; and there is no local copy yet");
  }
  // Online, `known` is the server's word: a saved team missing from it is one
  // you were removed from. Offline it is only this machine's copy.
  if (l.online) {
    MG_ASSIGN_OR_RETURN(l.ws, s.PickCurrent(Refs(known), known_name));
  } else {
    MG_ASSIGN_OR_RETURN(l.ws, PickWorkspace(Refs(known), choice, false));
  }

  if (catch_up && l.online && !l.agent_running) {
    bool shown = false;
    Status caught = agent::CatchUp(*l.api, *l.replica, l.ws.id, [&](const std::string&, int64_t n) {
      if (StdoutIsTty() && n >= 5000) {
        Note("\rloading " + l.ws.name + ": " + std::to_string(n) + " memories");
        shown = true;
      }
    });
    (void)shown;
    if (agent::IsOffline(caught)) {
      l.online = false;
      l.offline_reason = caught.message();
    } else if (!caught.ok()) {
      return caught;
    }
  }
  return l;
}

void NoteIfOffline(const Local& l) {
  if (l.online) return;
  auto w = l.replica->FindWorkspace(l.ws.id);
  std::string when = w.ok() && *w && !(*w)->last_sync_at.empty() ? Ago((*w)->last_sync_at) : "never";
  Note("offline: showing the local copy of " + l.ws.name + " (last synced " + when + ")");
}

Status Deliver(Session& s, Local& l, const std::string& op_id, bool wait) {
  (void)s;
  if (l.agent_running) {
    agent::LocalApiClient agent(agent::SocketPath());
    auto answer = agent.Flush(wait ? op_id : "", std::chrono::seconds(wait ? 30 : 0));
    if (answer.ok() && wait) {
      std::string state = answer->value("state", "pending");
      if (state == "pending") return Queued("the server did not answer in time");
      if (state == "failed") return Refused(*l.replica, op_id);
    }
    if (answer.ok()) return Status::Ok();
    // The agent went away between the check and now: send it ourselves.
  }
  if (!l.online) return Queued(l.offline_reason);
  agent::FlushResult r = agent::Flush(*l.api, *l.replica, l.ws.id, /*honour_backoff=*/false);
  auto op = l.replica->FindOp(op_id);
  if (op.ok() && !*op) return Status::Ok();  // accepted
  if (op.ok() && *op && (*op)->state == agent::OpState::kFailed) return Refused(*l.replica, op_id);
  if (!r.blocked.ok() && r.blocked.code() == Code::kUnauthenticated) return r.blocked;
  return Queued(r.blocked.ok() ? "not sent" : r.blocked.message());
}

}  // namespace mgteam::cli
