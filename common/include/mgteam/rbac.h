// Roles and permissions (design brief §5), and the rules for changing
// membership. This is the only place that says who may do what; the server
// consults it for every route and the stream. Pure functions.
#pragma once

#include "mgteam/status.h"

#include <optional>
#include <span>
#include <string_view>

namespace mgteam {

enum class Role { kOwner, kAdmin, kMember, kViewer };

enum class Permission {
  kMemoryRead,
  kMemoryWrite,
  kMemoryDelete,
  kTeamRead,
  kTeamWrite,
  kTeamDelete,
  kMemberInvite,
  kMemberRemove,
  kMemberChangeRole,
};

std::string_view RoleName(Role r);
std::optional<Role> ParseRole(std::string_view s);
std::span<const std::string_view> RoleNames();  // owner, admin, member, viewer
std::span<const Role> AllRoles();

std::string_view PermissionName(Permission p);  // "memory.read", ...
std::optional<Permission> ParsePermission(std::string_view s);
std::span<const Permission> AllPermissions();

// The role table.
bool Allows(Role role, Permission p);
// OK, or 403 naming the permission.
Status Require(Role role, Permission p);

// Membership rules. `actor` is the caller's role; `owners` is how many owners
// the team has now.
// Inviting someone with `invited` role.
Status CheckInvite(Role actor, Role invited);
// Changing `target` (currently `current`) to `next`; `self` if actor == target.
Status CheckRoleChange(Role actor, Role current, Role next, int owners, bool self);
// Removing a member whose role is `target`; `self` is leaving.
Status CheckRemoval(Role actor, Role target, int owners, bool self);

}  // namespace mgteam
