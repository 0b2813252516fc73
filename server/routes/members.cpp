// Team members and invitations: list, change role, remove/leave, transfer,
// invite, list/revoke invitations, accept.
#include "domain/workspaces.h"
#include "mail.h"
#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "mgteam/validate.h"
#include "routes/params.h"
#include "routes/routes.h"

#include <spdlog/spdlog.h>

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

// The answer to an invite or resend. Without mail the inviter gets the link
// to pass on; with mail it is sent after the commit (never inside the
// transaction), and only a failed delivery hands the link back instead.
json InvitationReply(const Request& r, const IssuedInvitation& inv) {
  return {{"invitation_id", inv.record.id},
          {"status", "pending"},
          {"invitation", InvitationJson(inv.record, NowRfc3339())},
          {"token", inv.token},
          {"accept_url", r.config().public_url + "/join/" + inv.token}};
}

// `fresh`: the invitation was issued by this request, not replayed from an
// Idempotency-Key (a replay must not mail again).
Result<Reply> Deliver(Request& r, Result<Reply> written, bool fresh, const std::string& email,
                      const std::string& role) {
  if (!written.ok() || !fresh || !r.config().smtp.enabled()) return written;
  json& body = written->body;
  const std::string url = body.value("accept_url", "");
  const std::string inviter = r.actor().name + " (" + r.auth().user.email + ")";
  MailMessage m;
  m.to = email;
  m.subject = r.actor().name + " invited you to " + r.workspace().name + " on mgteam";
  m.body = inviter + " invited you to join \"" + r.workspace().name + "\" on mgteam as " + role +
           ".\n\nAccept the invitation in your browser (you can create your account there):\n  " + url +
           "\n\nOr with the mgteam command line (it creates your account if you have none there):\n  mgteam join " +
           url + " --email " + email + "\n\nThe invitation expires at " +
           body["invitation"].value("expires_at", "") +
           ".\nIf you did not expect it, ignore this mail: nothing happens until it is accepted.\n";
  Status sent = SendMail(r.config().smtp, m);
  if (sent.ok()) {
    body.erase("token");
    body.erase("accept_url");
    body["delivery"] = "sent";
  } else {
    spdlog::warn("invitation mail to a {} address failed: {}", email.substr(email.find('@')), sent.message());
    body["delivery"] = "failed";
    body["delivery_error"] = sent.message();
  }
  return written;
}

Result<Reply> InviteRoute(Request& r) {
  FieldReader f(r.body(), {"email", "role", "expires_in"});
  auto email = f.Email("email", true);
  auto expires = f.Integer("expires_in", 60, 90L * 86400);
  MG_ASSIGN_OR_RETURN(Role role, RoleField(f, false));
  if (!f.ok()) return f.status();
  auto ttl = expires ? std::chrono::seconds(*expires) : r.config().invitation_ttl;
  bool fresh = false;
  auto written = r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(IssuedInvitation inv,
                        CreateInvitation(tx, r.actor(), r.role(), r.workspace().id, *email, role, ttl));
    fresh = true;
    return Reply{201, InvitationReply(r, inv)};
  });
  return Deliver(r, std::move(written), fresh, *email, std::string(RoleName(role)));
}

Result<Reply> ResendInvitationRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string id, IdParam(r, "id", "invitation"));
  std::string email, role;
  bool fresh = false;
  auto written = r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(IssuedInvitation inv,
                        ResendInvitation(tx, r.actor(), r.workspace().id, id, r.config().invitation_ttl));
    email = inv.record.email_norm;
    role = inv.record.role;
    fresh = true;
    return Reply{200, InvitationReply(r, inv)};
  });
  return Deliver(r, std::move(written), fresh, email, role);
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

// What the invitation landing page (/join/TOKEN) shows before anyone signs
// in: whose team, for which address, with what role. Only the holder of the
// link can ask, and the link was sent to that address.
Result<Reply> PreviewInvitationRoute(Request& r) {
  return r.store().ReadValue<Reply>([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(InvitationRecord inv, FindUsableInvitation(tx, r.Param("token")));
    MG_ASSIGN_OR_RETURN(auto ws, tx.FindWorkspace(inv.workspace_id));
    if (!ws) return Status(Code::kNotFound, "invitation_not_found", "this invitation's team no longer exists");
    MG_ASSIGN_OR_RETURN(auto inviter, tx.FindUser(inv.inviter_id));
    return Reply{200,
                 {{"invitation",
                   {{"team_name", ws->name},
                    {"team_slug", ws->slug},
                    {"workspace_id", ws->id},
                    {"email", inv.email_norm},
                    {"role", inv.role},
                    {"expires_at", inv.expires_at},
                    {"invited_by_name", inviter ? json(inviter->name) : json(nullptr)}}}}};
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
  router.Add({"POST", "/api/v1/teams/{team_id}/invitations/{id}/resend", Access::kTeam, Permission::kMemberInvite,
              "", "Send a pending invitation again with a new link and expiry", ResendInvitationRoute});
  router.Add({"DELETE", "/api/v1/teams/{team_id}/invitations/{id}", Access::kTeam,
              Permission::kMemberInvite, "", "Revoke an invitation", RevokeInvitationRoute});
  router.Add({"GET", "/api/v1/invitations/{token}", Access::kPublic, {}, "",
              "What an invitation is for (the /join page)", PreviewInvitationRoute});
  router.Add({"POST", "/api/v1/invitations/{token}/accept", Access::kUser, {}, "",
              "Accept an invitation", AcceptRoute});
}

}  // namespace mgteam::server
