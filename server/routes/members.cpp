// Team members and invitations: list, change role, remove/leave, transfer,
// invite, list/revoke invitations, accept.
#include "domain/workspaces.h"
#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "mgteam/validate.h"
#include "routes/params.h"
#include "routes/routes.h"

namespace mgteam::server {
namespace {

Result<Reply> ListMembers(Request& r) {
  MG_ASSIGN_OR_RETURN(auto members, r.store().ReadValue<std::vector<Member>>(
                                        [&](Tx& tx) { return tx.ListMembers(r.workspace().id); }));
  json out = json::array();
  for (const auto& m : members) out.push_back(m.ToJson());
  return Reply{200, {{"members", out}}};
}

Result<Role> RoleField(FieldReader& f, bool required) {
  auto role = f.Enum("role", RoleNames(), required);
  if (!f.ok()) return f.status();
  return role ? *ParseRole(*role) : Role::kMember;
}

Result<Reply> ChangeRoleRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string user_id, IdParam(r, "user_id", "member"));
  FieldReader f(r.body(), {"role"});
  MG_ASSIGN_OR_RETURN(Role role, RoleField(f, true));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(Member m, ChangeRole(tx, r.actor(), r.role(), r.workspace().id, user_id, role));
    return Reply{200, m.ToJson()};
  });
}

Result<Reply> RemoveMemberRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string user_id, IdParam(r, "user_id", "member"));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_RETURN_IF_ERROR(RemoveMember(tx, r.actor(), r.role(), r.workspace().id, user_id));
    return Reply{200, {{"removed", user_id}}};
  });
}

Result<Reply> TransferRoute(Request& r) {
  FieldReader f(r.body(), {"user_id"});
  auto user_id = f.Uuid("user_id", true);
  if (!f.ok()) return f.status();
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(Member m,
                        TransferOwnership(tx, r.actor(), r.role(), r.workspace().id, *user_id));
    return Reply{200, m.ToJson()};
  });
}

Result<Reply> InviteRoute(Request& r) {
  FieldReader f(r.body(), {"email", "role", "expires_in"});
  auto email = f.Email("email", true);
  auto expires = f.Integer("expires_in", 60, 90L * 86400);
  MG_ASSIGN_OR_RETURN(Role role, RoleField(f, false));
  if (!f.ok()) return f.status();
  auto ttl = expires ? std::chrono::seconds(*expires) : r.config().invitation_ttl;
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(IssuedInvitation inv,
                        CreateInvitation(tx, r.actor(), r.role(), r.workspace().id, *email, role, ttl));
    json out = {{"invitation_id", inv.record.id},
                {"status", "pending"},
                {"invitation", InvitationJson(inv.record, NowRfc3339())},
                // No mail delivery is configured: the inviter passes the link on.
                {"token", inv.token},
                {"accept_url", r.config().public_url + "/join/" + inv.token}};
    return Reply{201, out};
  });
}

Result<Reply> ListInvitations(Request& r) {
  std::string now = NowRfc3339();
  MG_ASSIGN_OR_RETURN(auto invs, r.store().ReadValue<std::vector<InvitationRecord>>([&](Tx& tx) {
    return tx.ListPendingInvitations(r.workspace().id, now);
  }));
  json out = json::array();
  for (const auto& i : invs) out.push_back(InvitationJson(i, now));
  return Reply{200, {{"invitations", out}}};
}

Result<Reply> RevokeInvitationRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string id, IdParam(r, "id", "invitation"));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(InvitationRecord inv, RevokeInvitation(tx, r.actor(), r.workspace().id, id));
    return Reply{200, InvitationJson(inv, NowRfc3339())};
  });
}

Result<Reply> AcceptRoute(Request& r) {
  const std::string& token = r.Param("token");
  return r.Write([&](Tx& tx) -> Result<Reply> {
    std::string email_norm = NormalizeEmail(r.auth().user.email).value_or("");
    MG_ASSIGN_OR_RETURN(Member m, AcceptInvitation(tx, r.auth().user, email_norm, token));
    MG_ASSIGN_OR_RETURN(auto ws, tx.FindWorkspace(m.workspace_id));
    json out = {{"member", m.ToJson()}};
    if (ws) out["workspace"] = ws->ToJson(m.role);
    return Reply{200, out};
  });
}

}  // namespace

void AddMemberRoutes(Router& router) {
  router.Add({"GET", "/api/v1/teams/{team_id}/members", Access::kTeam, Permission::kTeamRead, "",
              "List members", ListMembers});
  router.Add({"PATCH", "/api/v1/teams/{team_id}/members/{user_id}", Access::kTeam,
              Permission::kMemberChangeRole, "", "Change a member's role", ChangeRoleRoute});
  router.Add({"DELETE", "/api/v1/teams/{team_id}/members/{user_id}", Access::kTeam,
              Permission::kMemberRemove, "user_id", "Remove a member (or leave: your own id)",
              RemoveMemberRoute});
  router.Add({"POST", "/api/v1/teams/{team_id}/transfer", Access::kTeam,
              Permission::kMemberChangeRole, "", "Transfer ownership", TransferRoute});
  router.Add({"POST", "/api/v1/teams/{team_id}/invite", Access::kTeam, Permission::kMemberInvite, "",
              "Invite someone by email", InviteRoute});
  router.Add({"GET", "/api/v1/teams/{team_id}/invitations", Access::kTeam,
              Permission::kMemberInvite, "", "List pending invitations", ListInvitations});
  router.Add({"DELETE", "/api/v1/teams/{team_id}/invitations/{id}", Access::kTeam,
              Permission::kMemberInvite, "", "Revoke an invitation", RevokeInvitationRoute});
  router.Add({"POST", "/api/v1/invitations/{token}/accept", Access::kUser, {}, "",
              "Accept an invitation", AcceptRoute});
}

}  // namespace mgteam::server
