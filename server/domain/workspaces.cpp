#include "domain/workspaces.h"

#include "mgteam/activity.h"

#include "auth.h"
#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "mgteam/text.h"

namespace mgteam::server {
namespace {

// "Is this slug free?" must still hold when the write commits: the answer
// is read under the slugs lock (store/store.h).
Result<bool> SlugTaken(Tx& tx, const std::string& slug) {
  MG_RETURN_IF_ERROR(tx.Lock(LockKey::Slugs()));
  return tx.SlugTaken(slug);
}

Result<std::string> FreeSlug(Tx& tx, std::string base) {
  if (base.size() < 2) base = "team";
  if (base.size() > 40) base.resize(40);
  while (!base.empty() && base.back() == '-') base.pop_back();
  MG_ASSIGN_OR_RETURN(bool taken, SlugTaken(tx, base));
  if (!taken) return base;
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string candidate = base + "-" + RandomHex(3);
    MG_ASSIGN_OR_RETURN(bool t, SlugTaken(tx, candidate));
    if (!t) return candidate;
  }
  return Status::Internal("could not find a free slug for '" + base + "'");
}

Status RecordMember(Tx& tx, const Actor& a, const std::string& ws, const std::string& type,
                    const Member& m, json extra = json::object()) {
  return Record(tx, a, ws, type, "member", m.user_id, m.ToJson(), std::move(extra)).status();
}

Result<Member> TeamMember(Tx& tx, const std::string& ws, const std::string& user_id) {
  MG_ASSIGN_OR_RETURN(auto m, tx.FindMember(ws, user_id));
  if (!m) return Status::NotFound("no member " + user_id + " in this team");
  return std::move(*m);
}

Result<int> OwnerCount(Tx& tx, const std::string& ws) {
  MG_ASSIGN_OR_RETURN(auto members, tx.ListMembers(ws));
  int owners = 0;
  for (const auto& m : members) owners += m.role == "owner";
  return owners;
}

Result<Workspace> NewWorkspace(Tx& tx, const Actor& a, const std::string& kind,
                               const std::string& name, const std::string& slug) {
  Workspace w;
  w.id = NewUuidV7();
  w.kind = kind;
  w.name = name;
  w.slug = slug;
  w.owner_id = a.user_id;
  w.epoch = RandomHex(8);
  w.created_at = w.updated_at = NowRfc3339();
  MG_RETURN_IF_ERROR(tx.InsertWorkspace(w));
  MG_ASSIGN_OR_RETURN(Event created,
                      Record(tx, a, w.id, "workspace_created", "workspace", w.id, w.ToJson()));
  MG_ASSIGN_OR_RETURN(User u, [&]() -> Result<User> {
    MG_ASSIGN_OR_RETURN(auto found, tx.FindUser(a.user_id));
    if (!found) return Status::Internal("creator " + a.user_id + " does not exist");
    return std::move(*found);
  }());
  Member owner{w.id, u.id, "owner", w.created_at, u.name, u.email};
  MG_RETURN_IF_ERROR(tx.PutMember(owner));
  MG_RETURN_IF_ERROR(RecordMember(tx, a, w.id, "member_joined", owner));
  w.head_seq = created.seq + 1;
  return w;
}

}  // namespace

Result<Workspace> CreatePersonalWorkspace(Tx& tx, const User& user) {
  std::string local = user.email.substr(0, user.email.find('@'));
  MG_ASSIGN_OR_RETURN(std::string slug, FreeSlug(tx, Slugify(local) + "-personal"));
  return NewWorkspace(tx, Actor{user.id, user.name}, "personal", user.name + " (personal)", slug);
}

Result<Workspace> CreateTeam(Tx& tx, const Actor& a, const std::string& name,
                             const std::optional<std::string>& slug) {
  std::string chosen;
  if (slug) {
    MG_ASSIGN_OR_RETURN(bool taken, SlugTaken(tx, *slug));
    if (taken)
      return Status::Conflict("slug_taken", "the slug '" + *slug + "' is taken; pick another")
          .with("field", "slug");
    chosen = *slug;
  } else {
    MG_ASSIGN_OR_RETURN(chosen, FreeSlug(tx, Slugify(name)));
  }
  return NewWorkspace(tx, a, "team", name, chosen);
}

Result<Workspace> UpdateTeam(Tx& tx, const Actor& a, Workspace w,
                             const std::optional<std::string>& name,
                             const std::optional<std::string>& slug) {
  bool changed = false;
  if (name && *name != w.name) {
    w.name = *name;
    changed = true;
  }
  if (slug && *slug != w.slug) {
    MG_ASSIGN_OR_RETURN(bool taken, SlugTaken(tx, *slug));
    if (taken)
      return Status::Conflict("slug_taken", "the slug '" + *slug + "' is taken; pick another")
          .with("field", "slug");
    w.slug = *slug;
    changed = true;
  }
  if (!changed) return w;
  w.updated_at = NowRfc3339();
  MG_RETURN_IF_ERROR(tx.UpdateWorkspace(w));
  MG_ASSIGN_OR_RETURN(Event e, Record(tx, a, w.id, "workspace_updated", "workspace", w.id, w.ToJson()));
  w.head_seq = e.seq;
  return w;
}

Status DeleteTeam(Tx& tx, const std::string& ws) { return tx.DeleteWorkspace(ws); }

Result<Member> ChangeRole(Tx& tx, const Actor& a, Role actor_role, const std::string& ws,
                          const std::string& user_id, Role next) {
  MG_ASSIGN_OR_RETURN(Member m, TeamMember(tx, ws, user_id));
  auto current = ParseRole(m.role);
  if (!current) return Status::Internal("member " + user_id + " has an unknown role");
  MG_ASSIGN_OR_RETURN(int owners, OwnerCount(tx, ws));
  MG_RETURN_IF_ERROR(CheckRoleChange(actor_role, *current, next, owners, user_id == a.user_id));
  if (*current == next) return m;
  std::string previous = m.role;
  m.role = std::string(RoleName(next));
  MG_RETURN_IF_ERROR(tx.PutMember(m));
  MG_RETURN_IF_ERROR(RecordMember(tx, a, ws, "member_role_changed", m, {{"previous_role", previous}}));
  return m;
}

Status RemoveMember(Tx& tx, const Actor& a, Role actor_role, const std::string& ws,
                    const std::string& user_id) {
  MG_ASSIGN_OR_RETURN(Member m, TeamMember(tx, ws, user_id));
  auto target = ParseRole(m.role);
  if (!target) return Status::Internal("member " + user_id + " has an unknown role");
  MG_ASSIGN_OR_RETURN(int owners, OwnerCount(tx, ws));
  bool self = user_id == a.user_id;
  MG_RETURN_IF_ERROR(CheckRemoval(actor_role, *target, owners, self));
  MG_RETURN_IF_ERROR(tx.DeleteMember(ws, user_id));
  return RecordMember(tx, a, ws, "member_removed", m, {{"left", self}});
}

Result<Member> TransferOwnership(Tx& tx, const Actor& a, Role actor_role, const std::string& ws,
                                 const std::string& user_id) {
  if (actor_role != Role::kOwner)
    return Status(Code::kPermissionDenied, "owner_protected", "only an owner can transfer ownership");
  if (user_id == a.user_id)
    return Status::Invalid("invalid_target", "you are already an owner of this team");
  MG_ASSIGN_OR_RETURN(Member target, TeamMember(tx, ws, user_id));
  MG_ASSIGN_OR_RETURN(Member self, TeamMember(tx, ws, a.user_id));
  if (target.role != "owner") {
    std::string previous = target.role;
    target.role = "owner";
    MG_RETURN_IF_ERROR(tx.PutMember(target));
    MG_RETURN_IF_ERROR(
        RecordMember(tx, a, ws, "member_role_changed", target, {{"previous_role", previous}}));
  }
  self.role = "admin";
  MG_RETURN_IF_ERROR(tx.PutMember(self));
  MG_RETURN_IF_ERROR(RecordMember(tx, a, ws, "member_role_changed", self, {{"previous_role", "owner"}}));
  MG_ASSIGN_OR_RETURN(auto w, tx.FindWorkspace(ws));
  if (w) {
    w->owner_id = user_id;
    w->updated_at = NowRfc3339();
    MG_RETURN_IF_ERROR(tx.UpdateWorkspace(*w));
  }
  return target;
}

// The team sees that someone was invited, and as what, but not the
// invitee's full address (members without member.invite cannot list
// invitations either).
Status RecordInvitation(Tx& tx, const Actor& a, const std::string& type, const InvitationRecord& i) {
  json entity = {{"id", i.id}, {"email", MaskEmail(i.email_norm)}, {"role", i.role}, {"expires_at", i.expires_at}};
  return Record(tx, a, i.workspace_id, type, "invitation", i.id, entity).status();
}

Result<IssuedInvitation> CreateInvitation(Tx& tx, const Actor& a, Role actor_role,
                                          const std::string& ws, const std::string& email_norm,
                                          Role role, std::chrono::seconds ttl) {
  MG_RETURN_IF_ERROR(CheckInvite(actor_role, role));
  MintedToken minted = MintToken("mgi_");
  IssuedInvitation out;
  out.token = minted.secret;
  auto& i = out.record;
  i.id = NewUuidV7();
  i.workspace_id = ws;
  i.email_norm = email_norm;
  i.role = std::string(RoleName(role));
  i.inviter_id = a.user_id;
  i.token_hash = minted.hash;
  TimePoint now = Now();
  i.created_at = FormatRfc3339(now);
  i.expires_at = FormatRfc3339(now + ttl);
  MG_RETURN_IF_ERROR(tx.InsertInvitation(i));
  MG_RETURN_IF_ERROR(RecordInvitation(tx, a, "invitation_created", i));
  return out;
}

Result<IssuedInvitation> ResendInvitation(Tx& tx, const Actor& a, const std::string& ws, const std::string& id,
                                          std::chrono::seconds ttl) {
  MG_ASSIGN_OR_RETURN(auto inv, tx.FindInvitation(ws, id));
  if (!inv || inv->revoked_at || inv->accepted_at)
    return Status::NotFound("no pending invitation " + id + " in this team");
  MintedToken minted = MintToken("mgi_");
  inv->token_hash = minted.hash;
  inv->expires_at = FormatRfc3339(Now() + ttl);
  MG_RETURN_IF_ERROR(tx.UpdateInvitation(*inv));
  MG_RETURN_IF_ERROR(RecordInvitation(tx, a, "invitation_resent", *inv));
  return IssuedInvitation{std::move(*inv), minted.secret};
}

Result<InvitationRecord> RevokeInvitation(Tx& tx, const Actor& a, const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto inv, tx.FindInvitation(ws, id));
  if (!inv || inv->revoked_at || inv->accepted_at)
    return Status::NotFound("no pending invitation " + id + " in this team");
  inv->revoked_at = NowRfc3339();
  MG_RETURN_IF_ERROR(tx.UpdateInvitation(*inv));
  MG_RETURN_IF_ERROR(RecordInvitation(tx, a, "invitation_revoked", *inv));
  return std::move(*inv);
}

Result<InvitationRecord> FindUsableInvitation(Tx& tx, const std::string& token) {
  MG_ASSIGN_OR_RETURN(auto inv, tx.FindInvitationByTokenHash(HashSecret(token)));
  if (!inv)
    return Status(Code::kNotFound, "invitation_not_found",
                  "this invitation link is not valid; ask for a new invitation");
  if (inv->revoked_at)
    return Status(Code::kNotFound, "invitation_revoked",
                  "this invitation was revoked; ask the team for a new one");
  if (inv->accepted_at)
    return Status(Code::kConflict, "invitation_used", "this invitation has already been used");
  if (inv->expires_at <= NowRfc3339())
    return Status(Code::kNotFound, "invitation_expired",
                  "this invitation has expired; ask the team to resend it");
  return std::move(*inv);
}

Result<Member> AcceptInvitation(Tx& tx, const User& user, const std::string& email_norm,
                                const std::string& token) {
  // The workspace is known only from the invitation: lock it, then read the
  // invitation again, as it is now (a concurrent accept or revoke).
  MG_ASSIGN_OR_RETURN(InvitationRecord found, FindUsableInvitation(tx, token));
  MG_RETURN_IF_ERROR(tx.Lock(LockKey::Workspace(found.workspace_id)));
  MG_ASSIGN_OR_RETURN(InvitationRecord inv, FindUsableInvitation(tx, token));
  // Does not name the invited address: the caller signed in as someone
  // else. (The link's holder can see it in the /join page's preview, which
  // needs it to fill in the sign-up form; docs/dashboard.md.)
  if (inv.email_norm != email_norm)
    return Status(Code::kPermissionDenied, "invitation_email_mismatch",
                  "this invitation was sent to a different email address; sign in with the "
                  "address it was sent to");
  inv.accepted_at = NowRfc3339();
  inv.accepted_by = user.id;
  MG_RETURN_IF_ERROR(tx.UpdateInvitation(inv));
  MG_ASSIGN_OR_RETURN(auto existing, tx.FindMember(inv.workspace_id, user.id));
  if (existing) return std::move(*existing);
  Member m{inv.workspace_id, user.id, inv.role, *inv.accepted_at, user.name, user.email};
  MG_RETURN_IF_ERROR(tx.PutMember(m));
  MG_RETURN_IF_ERROR(RecordMember(tx, Actor{user.id, user.name}, inv.workspace_id, "member_joined", m,
                                  {{"invitation_id", inv.id}}));
  return m;
}

json InvitationJson(const InvitationRecord& i, const std::string& now) {
  std::string status = i.accepted_at ? "accepted"
                       : i.revoked_at ? "revoked"
                       : i.expires_at <= now ? "expired"
                                             : "pending";
  return {{"id", i.id},           {"workspace_id", i.workspace_id}, {"email", i.email_norm},
          {"role", i.role},       {"inviter_id", i.inviter_id},     {"status", status},
          {"created_at", i.created_at}, {"expires_at", i.expires_at}};
}

}  // namespace mgteam::server
