// Conflict records of a workspace: list, show, resolve (docs/conflicts.md).
#include "domain/conflicts.h"
#include "mgteam/ids.h"
#include "routes/params.h"
#include "routes/routes.h"

namespace mgteam::server {
namespace {

Result<Reply> ListConflictsRoute(Request& r) {
  ConflictQuery q;
  q.workspace_id = r.workspace().id;
  MG_ASSIGN_OR_RETURN(q.limit, LimitParam(r, 50, 500));
  std::string status = r.Query("status").value_or("open");
  if (status != "open" && status != "all")
    return Status::BadRequest("invalid_parameter", "status must be open or all").with("parameter", "status");
  q.open_only = status == "open";
  if (auto m = r.Query("memory_id")) {
    auto id = NormalizeUuid(*m);
    if (!id) return Status::BadRequest("invalid_parameter", "memory_id must be a UUID").with("parameter", "memory_id");
    q.memory_id = *id;
  }
  if (auto c = r.Query("cursor")) {
    auto id = NormalizeUuid(*c);
    if (!id) return Status::BadRequest("invalid_parameter", "cursor is not valid").with("parameter", "cursor");
    q.after_id = *id;
  }
  MG_ASSIGN_OR_RETURN(auto rows, r.store().ReadValue<std::vector<Conflict>>([&](Tx& tx) { return tx.ListConflicts(q); }));
  json items = json::array();
  for (const auto& c : rows) items.push_back(c.ToJson());
  json next = static_cast<int>(rows.size()) == q.limit ? json(rows.back().id) : json(nullptr);
  return Reply{200, {{"conflicts", items}, {"next_cursor", next}}};
}

Result<Reply> GetConflict(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string id, IdParam(r, "id", "conflict"));
  MG_ASSIGN_OR_RETURN(auto c, r.store().ReadValue<std::optional<Conflict>>(
                                  [&](Tx& tx) { return tx.FindConflict(r.workspace().id, id); }));
  if (!c) return Status::NotFound("no conflict " + id + " in this workspace");
  return Reply{200, c->ToJson()};
}

Result<Reply> ResolveConflictRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string id, IdParam(r, "id", "conflict"));
  MG_ASSIGN_OR_RETURN(Resolution how, ParseResolution(r.body()));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(Resolved done, ResolveConflict(tx, r.actor(), r.workspace().id, id, how));
    return Reply{200, {{"conflict", done.conflict.ToJson()}, {"memory", done.memory.ToJson()}}};
  });
}

}  // namespace

void AddConflictRoutes(Router& router) {
  const std::string base = "/api/v1/workspaces/{ws}/conflicts";
  router.Add({"GET", base, Access::kWorkspace, Permission::kMemoryRead, "", "List conflict records (open by default)",
              ListConflictsRoute});
  router.Add({"GET", base + "/{id}", Access::kWorkspace, Permission::kMemoryRead, "", "One conflict record",
              GetConflict});
  router.Add({"POST", base + "/{id}", Access::kWorkspace, Permission::kMemoryWrite, "",
              "Resolve a conflict: keep the current value, restore the lost one, or set another",
              ResolveConflictRoute});
}

}  // namespace mgteam::server
