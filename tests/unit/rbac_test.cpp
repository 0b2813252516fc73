#include "mgteam/rbac.h"

#include <doctest/doctest.h>

#include <map>
#include <set>

using namespace mgteam;

// Design brief §5, written out independently of rbac.cpp's table.
TEST_CASE("the role table grants exactly what the brief says") {
  const std::map<std::string, std::set<std::string>> expected = {
      {"owner", {"memory.read", "team.read", "memory.write", "memory.delete", "team.write",
                 "member.invite", "member.remove", "team.delete", "member.change_role"}},
      {"admin", {"memory.read", "team.read", "memory.write", "memory.delete", "team.write",
                 "member.invite", "member.remove"}},
      {"member", {"memory.read", "team.read", "memory.write"}},
      {"viewer", {"memory.read", "team.read"}},
  };
  CHECK(AllPermissions().size() == 9);
  for (Role role : AllRoles()) {
    for (Permission p : AllPermissions()) {
      bool want = expected.at(std::string(RoleName(role))).count(std::string(PermissionName(p))) > 0;
      CHECK_MESSAGE(Allows(role, p) == want, RoleName(role), " ", PermissionName(p));
      Status s = Require(role, p);
      CHECK(s.ok() == want);
      if (!want) CHECK(s.details()["permission"] == std::string(PermissionName(p)));
    }
  }
}

TEST_CASE("names parse back") {
  for (Role r : AllRoles()) CHECK(ParseRole(RoleName(r)) == r);
  for (Permission p : AllPermissions()) CHECK(ParsePermission(PermissionName(p)) == p);
  CHECK_FALSE(ParseRole("superuser"));
  CHECK_FALSE(ParsePermission("memory.destroy"));
}

TEST_CASE("only owners invite owners and members cannot invite at all") {
  CHECK(CheckInvite(Role::kOwner, Role::kOwner).ok());
  CHECK(CheckInvite(Role::kAdmin, Role::kMember).ok());
  CHECK(CheckInvite(Role::kAdmin, Role::kOwner).reason() == "owner_protected");
  CHECK(CheckInvite(Role::kMember, Role::kViewer).details()["permission"] == "member.invite");
}

TEST_CASE("role changes: last owner, owner_protected, self step-down") {
  // The last owner cannot be demoted, whoever asks.
  CHECK(CheckRoleChange(Role::kOwner, Role::kOwner, Role::kAdmin, 1, true).reason() == "last_owner");
  CHECK(CheckRoleChange(Role::kOwner, Role::kOwner, Role::kAdmin, 1, false).reason() == "last_owner");
  // With two owners, an owner may step down or demote the other.
  CHECK(CheckRoleChange(Role::kOwner, Role::kOwner, Role::kAdmin, 2, true).ok());
  CHECK(CheckRoleChange(Role::kOwner, Role::kOwner, Role::kMember, 2, false).ok());
  // Admins cannot change roles at all (member.change_role is owner-only).
  CHECK(CheckRoleChange(Role::kAdmin, Role::kOwner, Role::kMember, 2, false).details()["permission"] ==
        "member.change_role");
  CHECK(CheckRoleChange(Role::kAdmin, Role::kMember, Role::kOwner, 1, false).code() ==
        Code::kPermissionDenied);
  CHECK(CheckRoleChange(Role::kOwner, Role::kViewer, Role::kOwner, 1, false).ok());
  CHECK(CheckRoleChange(Role::kViewer, Role::kViewer, Role::kViewer, 1, true).ok());  // no-op
}

TEST_CASE("removal: anyone may leave but the last owner and admins cannot remove owners") {
  CHECK(CheckRemoval(Role::kViewer, Role::kViewer, 1, true).ok());
  CHECK(CheckRemoval(Role::kOwner, Role::kOwner, 1, true).reason() == "last_owner");
  CHECK(CheckRemoval(Role::kOwner, Role::kOwner, 2, true).ok());
  CHECK(CheckRemoval(Role::kAdmin, Role::kOwner, 2, false).reason() == "owner_protected");
  CHECK(CheckRemoval(Role::kAdmin, Role::kOwner, 1, false).reason() == "owner_protected");
  CHECK(CheckRemoval(Role::kAdmin, Role::kMember, 1, false).ok());
  CHECK(CheckRemoval(Role::kMember, Role::kViewer, 1, false).details()["permission"] == "member.remove");
  CHECK(CheckRemoval(Role::kOwner, Role::kOwner, 2, false).ok());
}
