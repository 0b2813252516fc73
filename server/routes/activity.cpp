// The activity feed: the change log newest first, filtered, each entry saying
// who did what to which entity (mgteam/activity.h).
#include "mgteam/activity.h"
#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "routes/params.h"
#include "routes/routes.h"

namespace mgteam::server {
namespace {

Result<std::optional<std::string>> TimeParam(const Request& r, const std::string& name) {
  auto raw = r.Query(name);
  if (!raw) return std::optional<std::string>();
  auto t = ParseRfc3339(*raw);
  if (!t)
    return Status::BadRequest("invalid_parameter", name + " must be an RFC 3339 time, e.g. 2026-11-25T10:00:00Z")
        .with("parameter", name);
  return std::optional<std::string>(FormatRfc3339(*t));
}

Result<Reply> Activity(Request& r) {
  ActivityQuery q;
  q.workspace_id = r.workspace().id;
  MG_ASSIGN_OR_RETURN(q.limit, LimitParam(r, 50, 500));
  MG_ASSIGN_OR_RETURN(auto cursor, SeqParam(r, "cursor"));
  q.before_seq = cursor;
  if (auto a = r.Query("actor")) {
    auto id = NormalizeUuid(*a);
    if (!id) return Status::BadRequest("invalid_parameter", "actor must be a user id").with("parameter", "actor");
    q.actor = *id;
  }
  if (auto a = r.Query("action")) {
    if (!IsActivityAction(*a))
      return Status::BadRequest("invalid_parameter", "unknown action '" + *a +
                                                         "' (created, updated, deleted, restored, joined, removed, "
                                                         "role_changed, resolved, revoked)")
          .with("parameter", "action");
    q.type_suffix = "_" + *a;
  }
  if (auto t = r.Query("entity_type")) {
    if (!IsActivityEntityType(*t))
      return Status::BadRequest("invalid_parameter", "unknown entity_type '" + *t +
                                                         "' (memory, relationship, member, invitation, conflict, "
                                                         "workspace)")
          .with("parameter", "entity_type");
    q.entity_type = *t;
  }
  MG_ASSIGN_OR_RETURN(q.since, TimeParam(r, "since"));
  MG_ASSIGN_OR_RETURN(q.until, TimeParam(r, "until"));
  MG_ASSIGN_OR_RETURN(auto events,
                      r.store().ReadValue<std::vector<Event>>([&](Tx& tx) { return tx.ListActivity(q); }));
  json items = json::array();
  for (const auto& e : events) items.push_back(ActivityEntry(e));
  json next = static_cast<int>(events.size()) == q.limit ? json(std::to_string(events.back().seq)) : json(nullptr);
  return Reply{200, {{"activity", items}, {"next_cursor", next}}};
}

}  // namespace

void AddActivityRoutes(Router& router) {
  router.Add({"GET", "/api/v1/workspaces/{ws}/activity", Access::kWorkspace, Permission::kMemoryRead, "",
              "The activity feed: who did what, newest first, with filters", Activity});
}

}  // namespace mgteam::server
