// Workspaces, memberships and invitations: personal workspaces, team
// lifecycle, role changes under the rules of design brief §5, and invitation
// tokens. Each change appends its event (workspace_*, member_*).
#pragma once

#include "domain/change_log.h"
#include "mgteam/rbac.h"

#include <chrono>
#include <optional>
#include <string>

namespace mgteam::server {

Result<Workspace> CreatePersonalWorkspace(Tx& tx, const User& user);

// `slug` defaults to one made from the name; an explicit slug that is taken
// is a 409 (slug_taken), a derived one gets a random suffix instead.
Result<Workspace> CreateTeam(Tx& tx, const Actor& a, const std::string& name,
                             const std::optional<std::string>& slug);
Result<Workspace> UpdateTeam(Tx& tx, const Actor& a, Workspace ws,
                             const std::optional<std::string>& name,
                             const std::optional<std::string>& slug);
Status DeleteTeam(Tx& tx, const std::string& ws);

// `actor_role` is the caller's role in `ws`.
Result<Member> ChangeRole(Tx& tx, const Actor& a, Role actor_role, const std::string& ws,
                          const std::string& user_id, Role next);
Status RemoveMember(Tx& tx, const Actor& a, Role actor_role, const std::string& ws,
                    const std::string& user_id);
// Makes `user_id` an owner and the caller (an owner) an admin.
Result<Member> TransferOwnership(Tx& tx, const Actor& a, Role actor_role, const std::string& ws,
                                 const std::string& user_id);

struct IssuedInvitation {
  InvitationRecord record;
  std::string token;  // secret, single use; only its hash is stored
};
Result<IssuedInvitation> CreateInvitation(Tx& tx, const Actor& a, Role actor_role,
                                          const std::string& ws, const std::string& email_norm,
                                          Role role, std::chrono::seconds ttl);
// A new token for a pending invitation (the old link stops working) and a
// fresh expiry.
Result<IssuedInvitation> ResendInvitation(Tx& tx, const Actor& a, const std::string& ws, const std::string& id,
                                          std::chrono::seconds ttl);
Result<InvitationRecord> RevokeInvitation(Tx& tx, const Actor& a, const std::string& ws, const std::string& id);
// Looks up a live invitation by its secret; distinct errors for unknown,
// expired, revoked and used tokens.
Result<InvitationRecord> FindUsableInvitation(Tx& tx, const std::string& token);
// Adds `user` to the invitation's team (their email must match).
Result<Member> AcceptInvitation(Tx& tx, const User& user, const std::string& email_norm,
                                const std::string& token);

json InvitationJson(const InvitationRecord& i, const std::string& now);

}  // namespace mgteam::server
