// The change log as JSON pages (the polling view of the stream).
#include "routes/params.h"
#include "routes/routes.h"

namespace mgteam::server {
namespace {

constexpr int kDefaultEvents = 100;
constexpr int kMaxEvents = 1000;

Result<Reply> ListEvents(Request& r) {
  MG_ASSIGN_OR_RETURN(auto since, SeqParam(r, "since"));
  MG_ASSIGN_OR_RETURN(int limit, LimitParam(r, kDefaultEvents, kMaxEvents));
  auto epoch = r.Query("epoch");
  json out;
  MG_RETURN_IF_ERROR(r.store().Read([&](Tx& tx) -> Status {
    MG_ASSIGN_OR_RETURN(auto ws, tx.FindWorkspace(r.workspace().id));
    if (!ws) return Status::NotFound("the workspace was deleted");
    out = {{"head_seq", ws->head_seq}, {"epoch", ws->epoch}};
    int64_t after = since.value_or(0);
    // A cursor from the future or from another epoch cannot be resumed: the
    // client must reload from a snapshot.
    if (after > ws->head_seq || (epoch && *epoch != ws->epoch)) {
      out["reset"] = true;
      out["events"] = json::array();
      return Status::Ok();
    }
    MG_ASSIGN_OR_RETURN(auto events, tx.ListEvents(ws->id, after, limit));
    json items = json::array();
    for (const auto& e : events) items.push_back(e.ToJson());
    out["events"] = std::move(items);
    return Status::Ok();
  }));
  return Reply{200, out};
}

}  // namespace

void AddEventRoutes(Router& router) {
  router.Add({"GET", "/api/v1/workspaces/{ws}/events", Access::kWorkspace, Permission::kMemoryRead,
              "", "Change-log events after a seq", ListEvents});
}

}  // namespace mgteam::server
