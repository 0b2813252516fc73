#include "mgteam/activity.h"

#include <array>
#include <string_view>

namespace mgteam {
namespace {

constexpr std::array<std::string_view, 6> kEntityTypes = {"memory", "relationship", "member",
                                                          "invitation", "conflict", "workspace"};
constexpr std::array<std::string_view, 10> kActions = {"created", "updated", "deleted", "restored", "joined",
                                                       "removed", "role_changed", "resolved", "revoked", "resent"};

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

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
    title = Str(x, "title");
    for (const char* k : {"changed", "conflicts"})
      if (e.extra.contains(k)) detail[k] = e.extra[k];
  } else if (e.entity_type == "relationship") {
    title = Str(x, "type");
    detail = {{"from_memory_id", Str(x, "from_memory_id")}, {"to_memory_id", Str(x, "to_memory_id")}};
  } else if (e.entity_type == "member") {
    title = Str(x, "name");
    detail["role"] = Str(x, "role");
    for (const char* k : {"previous_role", "left"})
      if (e.extra.contains(k)) detail[k] = e.extra[k];
  } else if (e.entity_type == "conflict") {
    title = Str(x, "title");
    detail = {{"memory_id", Str(x, "memory_id")}, {"kind", Str(x, "kind")}, {"field", Str(x, "field")}};
    if (x.contains("lost_by")) detail["lost_by"] = x["lost_by"];
    if (x.contains("resolution") && x["resolution"].is_string()) detail["resolution"] = x["resolution"];
  } else if (e.entity_type == "invitation") {
    title = Str(x, "email");
    detail["role"] = Str(x, "role");
  } else if (e.entity_type == "workspace") {
    title = Str(x, "name");
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
