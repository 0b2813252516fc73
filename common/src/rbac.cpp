#include "mgteam/rbac.h"

#include <array>
#include <string>

namespace mgteam {
namespace {

constexpr std::array<std::string_view, 4> kRoleNames = {"owner", "admin", "member", "viewer"};
constexpr std::array<Role, 4> kRoles = {Role::kOwner, Role::kAdmin, Role::kMember, Role::kViewer};

struct PermissionRow {
  Permission p;
  std::string_view name;
  bool owner, admin, member, viewer;
};
// The table of design brief §5, verbatim.
constexpr std::array<PermissionRow, 9> kTable = {{
    {Permission::kMemoryRead, "memory.read", true, true, true, true},
    {Permission::kTeamRead, "team.read", true, true, true, true},
    {Permission::kMemoryWrite, "memory.write", true, true, true, false},
    {Permission::kMemoryDelete, "memory.delete", true, true, false, false},
    {Permission::kTeamWrite, "team.write", true, true, false, false},
    {Permission::kMemberInvite, "member.invite", true, true, false, false},
    {Permission::kMemberRemove, "member.remove", true, true, false, false},
    {Permission::kTeamDelete, "team.delete", true, false, false, false},
    {Permission::kMemberChangeRole, "member.change_role", true, false, false, false},
}};
constexpr std::array<Permission, 9> kPermissions = {
    Permission::kMemoryRead,   Permission::kMemoryWrite,  Permission::kMemoryDelete,
    Permission::kTeamRead,     Permission::kTeamWrite,    Permission::kTeamDelete,
    Permission::kMemberInvite, Permission::kMemberRemove, Permission::kMemberChangeRole};

const PermissionRow& Row(Permission p) {
  for (const auto& r : kTable)
    if (r.p == p) return r;
  return kTable[0];  // unreachable: every enumerator has a row (checked by tests)
}

Status OwnerProtected(std::string msg) {
  return Status(Code::kPermissionDenied, "owner_protected", std::move(msg));
}
Status LastOwner(std::string msg) {
  return Status(Code::kPermissionDenied, "last_owner", std::move(msg));
}

}  // namespace

std::string_view RoleName(Role r) { return kRoleNames[static_cast<size_t>(r)]; }
std::span<const std::string_view> RoleNames() { return kRoleNames; }
std::span<const Role> AllRoles() { return kRoles; }

std::optional<Role> ParseRole(std::string_view s) {
  for (size_t i = 0; i < kRoleNames.size(); ++i)
    if (kRoleNames[i] == s) return kRoles[i];
  return std::nullopt;
}

std::string_view PermissionName(Permission p) { return Row(p).name; }
std::span<const Permission> AllPermissions() { return kPermissions; }

std::optional<Permission> ParsePermission(std::string_view s) {
  for (const auto& r : kTable)
    if (r.name == s) return r.p;
  return std::nullopt;
}

bool Allows(Role role, Permission p) {
  const auto& r = Row(p);
  switch (role) {
    case Role::kOwner: return r.owner;
    case Role::kAdmin: return r.admin;
    case Role::kMember: return r.member;
    case Role::kViewer: return r.viewer;
  }
  return false;
}

Status Require(Role role, Permission p) {
  if (Allows(role, p)) return Status::Ok();
  return Status::Forbidden(std::string(PermissionName(p)));
}

Status CheckInvite(Role actor, Role invited) {
  MG_RETURN_IF_ERROR(Require(actor, Permission::kMemberInvite));
  if (invited == Role::kOwner && actor != Role::kOwner)
    return OwnerProtected("only an owner can invite someone as owner");
  return Status::Ok();
}

Status CheckRoleChange(Role actor, Role current, Role next, int owners, bool self) {
  if (current == next) return Status::Ok();
  // An owner may step down on their own, but never leave the team ownerless.
  if (!self) MG_RETURN_IF_ERROR(Require(actor, Permission::kMemberChangeRole));
  else if (current != Role::kOwner) MG_RETURN_IF_ERROR(Require(actor, Permission::kMemberChangeRole));
  if (current == Role::kOwner && owners <= 1)
    return LastOwner("a team needs at least one owner; make someone else owner first");
  return Status::Ok();
}

Status CheckRemoval(Role actor, Role target, int owners, bool self) {
  if (!self) {
    MG_RETURN_IF_ERROR(Require(actor, Permission::kMemberRemove));
    if (target == Role::kOwner && actor != Role::kOwner)
      return OwnerProtected("an admin cannot remove an owner");
  }
  // Anyone may leave, except the last owner.
  if (target == Role::kOwner && owners <= 1)
    return LastOwner(self ? "the last owner cannot leave; transfer ownership or delete the team"
                          : "a team needs at least one owner");
  return Status::Ok();
}

}  // namespace mgteam
