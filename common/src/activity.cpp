#include "mgteam/activity.h"

#include <array>
#include <string_view>

namespace mgteam {
namespace {

constexpr std::array<std::string_view, 6> kEntityTypes = {"memory", "relationship", "member",
                                                          "invitation", "conflict", "workspace"};
constexpr std::array<std::string_view, 10> kActions = {"created", "updated", "deleted", "restored", "joined",
                                                       "removed", "role_changed", "resolved", "revoked", "resent"};

}  // namespace

bool IsActivityEntityType(const std::string& t) {
  for (auto k : kEntityTypes)
    if (k == t) return true;
  return false;
}

bool IsActivityAction(const std::string& a) {
  for (auto k : kActions)
    if (k == a) return true;
  return false;
}

std::string MaskEmail(const std::string& email) {
  auto at = email.find('@');
  if (at == std::string::npos || at == 0) return "***";
  return email.substr(0, 1) + "***" + email.substr(at);
}

json ActivityEntry(const Event& e) {
  std::string action = e.type;
  if (action.rfind(e.entity_type + "_", 0) == 0) action = action.substr(e.entity_type.size() + 1);
  json detail = json::object();
  std::string title;
  const json& x = e.entity;
  if (e.entity_type == "memory") {
    title = StringField(x, "title");
    for (const char* k : {"changed", "conflicts"})
      if (e.extra.contains(k)) detail[k] = e.extra[k];
  } else if (e.entity_type == "relationship") {
    title = StringField(x, "type");
    detail = {{"from_memory_id", StringField(x, "from_memory_id")}, {"to_memory_id", StringField(x, "to_memory_id")}};
    // "memory_deleted": the link went with a memory, nobody removed it by hand.
    if (e.extra.contains("cause")) detail["cause"] = e.extra["cause"];
  } else if (e.entity_type == "member") {
    title = StringField(x, "name");
    detail["role"] = StringField(x, "role");
    for (const char* k : {"previous_role", "left"})
      if (e.extra.contains(k)) detail[k] = e.extra[k];
  } else if (e.entity_type == "conflict") {
    title = StringField(x, "title");
    detail = {{"memory_id", StringField(x, "memory_id")}, {"kind", StringField(x, "kind")}, {"field", StringField(x, "field")}};
    if (x.contains("lost_by")) detail["lost_by"] = x["lost_by"];
    if (x.contains("resolution") && x["resolution"].is_string()) detail["resolution"] = x["resolution"];
  } else if (e.entity_type == "invitation") {
    title = StringField(x, "email");
    detail["role"] = StringField(x, "role");
  } else if (e.entity_type == "workspace") {
    title = StringField(x, "name");
  }
  return {{"seq", e.seq},
          {"at", e.at},
          {"type", e.type},
          {"action", action},
          {"entity_type", e.entity_type},
          {"entity_id", e.entity_id},
          {"actor", e.actor},
          {"actor_name", e.actor_name},
          {"title", title},
          {"detail", detail}};
}

}  // namespace mgteam
