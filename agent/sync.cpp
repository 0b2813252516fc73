#include "sync.h"

#include "mgteam/clock.h"
#include "mgteam/sse.h"

#include <map>
#include <random>

namespace mgteam::agent {
namespace {

constexpr int kSnapshotPage = 2000;
constexpr int kEventPage = 1000;

std::string WsPath(const std::string& ws) { return "/api/v1/workspaces/" + ws; }

double Jitter() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

bool IsOffline(const Status& s) { return s.code() == Code::kUnavailable; }

Result<std::vector<ReplicaWorkspace>> DiscoverWorkspaces(ApiClient& api, Replica& replica) {
  // The listing is applied only if no workspace was forgotten (a removal
  // seen on the stream, by the agent or another process) while it was on
  // its way; otherwise it is fetched again, as it may still name the team.
  std::map<std::string, bool> current;
  std::vector<ReplicaWorkspace> known;
  for (int attempt = 0;; ++attempt) {
    MG_ASSIGN_OR_RETURN(int64_t forgotten, replica.Forgotten());
    // Only what was known before the fetch may be forgotten for missing from
    // it: a team another process added meanwhile (just joined) is not in
    // this listing, and must not be wiped for that.
    MG_ASSIGN_OR_RETURN(known, replica.Workspaces());
    MG_ASSIGN_OR_RETURN(json listing, api.Get("/api/v1/workspaces"));
    std::vector<std::pair<Workspace, std::string>> list;
    current.clear();
    for (const auto& w : ArrayField(listing, "workspaces")) {
      Workspace ws;
      ws.id = StringField(w, "id");
      ws.name = StringField(w, "name");
      ws.slug = StringField(w, "slug");
      ws.kind = StringField(w, "type");
      if (ws.id.empty()) continue;
      current[ws.id] = true;
      list.emplace_back(std::move(ws), StringField(w, "role"));
    }
    MG_ASSIGN_OR_RETURN(bool applied, replica.RememberWorkspaces(list, forgotten));
    if (applied) break;
    if (attempt == 4) return Status::Unavailable("busy", "the workspace list kept changing; try again");
  }
  for (const auto& w : known)
    if (!current.count(w.id)) MG_RETURN_IF_ERROR(replica.ForgetWorkspace(w.id));
  return replica.Workspaces();
}

Status LoadSnapshot(ApiClient& api, Replica& replica, const std::string& ws, const ProgressFn& progress) {
  MG_RETURN_IF_ERROR(replica.BeginSnapshot(ws));
  int64_t head = -1;
  std::string epoch;
  int64_t loaded = 0;
  for (const char* kind : {"memories", "relationships", "conflicts"}) {
    std::string after;
    while (true) {
      std::map<std::string, std::string> q = {{"kind", kind}, {"limit", std::to_string(kSnapshotPage)}, {"after", after}};
      MG_ASSIGN_OR_RETURN(json page, api.Get(WsPath(ws) + "/snapshot" + QueryString(q)));
      if (head < 0) {
        // Following the log from the head seen *before* the first page makes
        // the result exact: later changes are replayed by version.
        head = IntField(page, "head_seq");
        epoch = StringField(page, "epoch");
      }
      std::vector<Memory> memories;
      std::vector<Relationship> relationships;
      std::vector<Conflict> conflicts;
      for (const auto& item : ArrayField(page, "items")) {
        if (std::string(kind) == "memories") {
          if (auto m = Memory::FromJson(item)) memories.push_back(std::move(*m));
        } else if (std::string(kind) == "conflicts") {
          if (auto c = Conflict::FromJson(item)) conflicts.push_back(std::move(*c));
        } else if (auto r = Relationship::FromJson(item)) {
          relationships.push_back(std::move(*r));
        }
      }
      MG_RETURN_IF_ERROR(replica.LoadSnapshot(ws, memories, relationships, conflicts));
      loaded += static_cast<int64_t>(memories.size());
      if (progress && !memories.empty()) progress(ws, loaded);
      after = StringField(page, "next_after");
      if (after.empty()) break;
    }
  }
  return replica.FinishSnapshot(ws, std::max<int64_t>(head, 0), epoch);
}

Status CatchUp(ApiClient& api, Replica& replica, const std::string& ws, const ProgressFn& progress) {
  int resets = 0;
  while (true) {
    MG_ASSIGN_OR_RETURN(auto w, replica.FindWorkspace(ws));
    if (!w) return Status::NotFound("workspace " + ws + " is not known here; run `mgteam workspace list`");
    if (!w->synced) {
      MG_RETURN_IF_ERROR(LoadSnapshot(api, replica, ws, progress));
      continue;
    }
    std::map<std::string, std::string> q = {
        {"since", std::to_string(w->cursor)}, {"limit", std::to_string(kEventPage)}, {"epoch", w->epoch}};
    auto page = api.Get(WsPath(ws) + "/events" + QueryString(q));
    if (!page.ok()) {
      MG_RETURN_IF_ERROR(replica.NoteSync(ws, std::nullopt, page.status().message()));
      return page.status();
    }
    if (BoolField(*page, "reset")) {
      if (++resets > 2) return Status::Internal("the server keeps resetting " + ws);
      MG_RETURN_IF_ERROR(LoadSnapshot(api, replica, ws, progress));
      continue;
    }
    std::vector<Event> events;
    if (auto list = page->find("events"); list != page->end() && list->is_array())
      for (auto& e : *list)
        if (auto ev = Event::FromJson(std::move(e))) events.push_back(std::move(*ev));
    if (events.empty()) return replica.NoteSync(ws, IntField(*page, "head_seq"), "");
    MG_ASSIGN_OR_RETURN(ApplyResult applied, replica.ApplyEvents(ws, events));
    if (applied.removed_from_workspace) {
      MG_RETURN_IF_ERROR(replica.ForgetWorkspace(ws));
      return Status(Code::kNotFound, "removed", "you are no longer a member of " + w->name);
    }
  }
}

Result<json> SendOp(ApiClient& api, const OutboxOp& op) {
  const std::string base = WsPath(op.workspace_id) + (IsMemoryOp(op.kind) ? "/memories" : "/relationships");
  switch (op.kind) {
    case OpKind::kMemoryCreate:
    case OpKind::kRelationshipCreate: return api.Post(base, op.payload, op.op_id);
    case OpKind::kMemoryUpdate: return api.Patch(base + "/" + op.entity_id, op.payload, op.op_id);
    case OpKind::kMemoryDelete:
    case OpKind::kRelationshipDelete: break;
  }
  std::string path = base + "/" + op.entity_id;
  if (op.kind == OpKind::kMemoryDelete && op.payload.contains("base_version"))
    path += "?base_version=" + std::to_string(op.payload["base_version"].get<int64_t>());
  return api.Delete(path, op.op_id);
}

Result<OpOutcome> SettleOp(Replica& replica, const OutboxOp& op, const Result<json>& answer) {
  if (answer.ok()) {
    MG_RETURN_IF_ERROR(replica.CompleteOp(op, *answer));
    return OpOutcome::kAccepted;
  }
  const Status& why = answer.status();
  Code c = why.code();
  if (c == Code::kUnavailable || c == Code::kInternal) {
    // Not the op's fault: keep it, and its place in the order.
    int64_t delay = BackoffDelayMs(op.attempts, 1000, 300000, 500, Jitter());
    MG_RETURN_IF_ERROR(replica.DeferOp(op, why.message(), FormatRfc3339(Now() + std::chrono::milliseconds(delay))));
    return OpOutcome::kBlocked;
  }
  if (c == Code::kUnauthenticated) return OpOutcome::kBlocked;  // the user must sign in again; the op waits
  const bool is_delete = op.kind == OpKind::kMemoryDelete || op.kind == OpKind::kRelationshipDelete;
  if (c == Code::kNotFound && is_delete) {
    MG_RETURN_IF_ERROR(replica.CompleteOp(op, json()));  // already gone: the intent holds
    return OpOutcome::kAccepted;
  }
  const bool is_create = op.kind == OpKind::kMemoryCreate || op.kind == OpKind::kRelationshipCreate;
  if (c == Code::kConflict && why.reason() == "already_exists" && is_create) {
    // Ids are ours (random UUIDv7): the server has this entity because an
    // earlier send of this op landed and its answer was lost, and the key's
    // record has since been purged (docs/api.md, "Idempotency"). The log
    // brings the server's state; the op is done.
    MG_RETURN_IF_ERROR(replica.CompleteOp(op, json()));
    return OpOutcome::kAccepted;
  }
  if (why.reason() == "memory_deleted" && op.kind == OpKind::kMemoryUpdate) {
    // Someone deleted it first. The server kept this edit in a conflict
    // record (which reaches us through the log); the op is done.
    MG_RETURN_IF_ERROR(replica.CompleteOp(op, json()));
    return OpOutcome::kConflicted;
  }
  MG_RETURN_IF_ERROR(replica.FailOp(op, why));
  return OpOutcome::kRefused;
}

FlushResult Flush(ApiClient& api, Replica& replica, const std::string& ws, bool honour_backoff) {
  FlushResult out;
  const std::string now = NowRfc3339();
  while (true) {
    auto next = replica.NextOp(ws);
    if (!next.ok()) {
      out.blocked = next.status();
      return out;
    }
    if (!*next) return out;
    const OutboxOp& op = **next;
    if (honour_backoff && !op.next_attempt_at.empty() && op.next_attempt_at > now) {
      ++out.waiting;
      return out;
    }
    Result<json> answer = SendOp(api, op);
    auto outcome = SettleOp(replica, op, answer);
    if (!outcome.ok()) {
      out.blocked = outcome.status();
      return out;
    }
    switch (*outcome) {
      case OpOutcome::kAccepted: ++out.sent; break;
      case OpOutcome::kConflicted: ++out.sent, ++out.conflicted; break;
      case OpOutcome::kRefused: ++out.failed, out.refused = answer.status(); break;
      case OpOutcome::kBlocked: out.blocked = answer.status(); return out;
    }
  }
}

}  // namespace mgteam::agent
