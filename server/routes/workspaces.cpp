// Workspaces and teams: listing, team create/show/rename/delete.
#include "bus/bus.h"
#include "domain/workspaces.h"
#include "mgteam/text.h"
#include "mgteam/validate.h"
#include "routes/routes.h"

namespace mgteam::server {
namespace {

constexpr FieldReader::TextRule kTeamName{1, limits::kNameMax, false, true};

Result<std::optional<std::string>> SlugField(FieldReader& f) {
  auto slug = f.Text("slug", {2, 48, false, true});
  if (!f.ok()) return f.status();
  if (slug && !IsValidSlug(*slug))
    return Status::Invalid("invalid_slug",
                           "a slug is 2-48 lowercase letters, digits and single dashes, e.g. 'platform-team'")
        .with("field", "slug");
  return slug;
}

Result<Reply> ListWorkspaces(Request& r) {
  using Rows = std::vector<std::pair<Workspace, std::string>>;
  MG_ASSIGN_OR_RETURN(Rows rows, r.store().ReadValue<Rows>(
                                     [&](Tx& tx) { return tx.ListWorkspacesOf(r.auth().user.id); }));
  json out = json::array();
  for (const auto& [w, role] : rows) out.push_back(w.ToJson(role));
  return Reply{200, {{"workspaces", out}}};
}

Result<Reply> ShowWorkspace(Request& r) {
  MG_ASSIGN_OR_RETURN(auto members, r.store().ReadValue<std::vector<Member>>(
                                        [&](Tx& tx) { return tx.ListMembers(r.workspace().id); }));
  json j = r.workspace().ToJson(RoleName(r.role()));
  j["member_count"] = members.size();
  return Reply{200, j};
}

Result<Reply> CreateTeamRoute(Request& r) {
  FieldReader f(r.body(), {"name", "slug"});
  auto name = f.Text("name", kTeamName, true);
  MG_ASSIGN_OR_RETURN(auto slug, SlugField(f));
  if (!f.ok()) return f.status();
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(Workspace w, CreateTeam(tx, r.actor(), *name, slug));
    return Reply{201, w.ToJson("owner")};
  });
}

Result<Reply> UpdateTeamRoute(Request& r) {
  FieldReader f(r.body(), {"name", "slug"});
  auto name = f.Text("name", kTeamName);
  MG_ASSIGN_OR_RETURN(auto slug, SlugField(f));
  if (!f.ok()) return f.status();
  if (!name && !slug) return Status::Invalid("empty_update", "send a new name or slug");
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(Workspace w, UpdateTeam(tx, r.actor(), r.workspace(), name, slug));
    return Reply{200, w.ToJson(RoleName(r.role()))};
  });
}

Result<Reply> DeleteTeamRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(Reply reply, r.Write([&](Tx& tx) -> Result<Reply> {
    MG_RETURN_IF_ERROR(DeleteTeam(tx, r.workspace().id));
    return Reply{200, {{"deleted", r.workspace().id}}};
  }));
  // The log went with the team, so no event can tell its streams: say it.
  if (r.server().bus) r.server().bus->PublishWorkspaceDeleted(r.workspace().id);
  return reply;
}

}  // namespace

void AddWorkspaceRoutes(Router& router) {
  router.Add({"GET", "/api/v1/workspaces", Access::kUser, {}, "", "Your workspaces", ListWorkspaces});
  router.Add({"GET", "/api/v1/workspaces/{ws}", Access::kWorkspace, Permission::kTeamRead, "",
              "One workspace", ShowWorkspace});
  router.Add({"POST", "/api/v1/teams", Access::kUser, {}, "", "Create a team", CreateTeamRoute});
  router.Add({"GET", "/api/v1/teams/{team_id}", Access::kTeam, Permission::kTeamRead, "",
              "Team settings", ShowWorkspace});
  router.Add({"PATCH", "/api/v1/teams/{team_id}", Access::kTeam, Permission::kTeamWrite, "",
              "Rename a team or change its slug", UpdateTeamRoute});
  router.Add({"DELETE", "/api/v1/teams/{team_id}", Access::kTeam, Permission::kTeamDelete, "",
              "Delete a team and everything in it", DeleteTeamRoute});
}

}  // namespace mgteam::server
