#include "mgteam/model.h"

#include <algorithm>
#include <array>

namespace mgteam {
namespace {

constexpr std::array<std::string_view, 13> kMemoryTypes = {
    "task",    "code_pattern", "problem",      "solution", "project",  "technology",  "error",
    "fix",     "command",      "file_context", "workflow", "general",  "conversation"};

constexpr std::array<std::string_view, 35> kRelationshipTypes = {
    "CAUSES",         "TRIGGERS",       "LEADS_TO",    "PREVENTS",    "BREAKS",      "SOLVES",
    "ADDRESSES",      "ALTERNATIVE_TO", "IMPROVES",    "REPLACES",    "OCCURS_IN",   "APPLIES_TO",
    "WORKS_WITH",     "REQUIRES",       "USED_IN",     "BUILDS_ON",   "CONTRADICTS", "CONFIRMS",
    "GENERALIZES",    "SPECIALIZES",    "SIMILAR_TO",  "VARIANT_OF",  "RELATED_TO",  "ANALOGY_TO",
    "OPPOSITE_OF",    "FOLLOWS",        "DEPENDS_ON",  "ENABLES",     "BLOCKS",      "PARALLEL_TO",
    "EFFECTIVE_FOR",  "INEFFECTIVE_FOR", "PREFERRED_OVER", "DEPRECATED_BY", "VALIDATED_BY"};

template <class T>
bool Get(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return false;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return false;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return false;
  } else if constexpr (std::is_integral_v<T>) {
    if (!it->is_number_integer()) return false;
  } else {
    if (!it->is_number()) return false;
  }
  out = it->get<T>();
  return true;
}

}  // namespace

std::string StringField(const json& j, std::string_view key, std::string fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

int64_t IntField(const json& j, std::string_view key, int64_t fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

bool BoolField(const json& j, std::string_view key, bool fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

const json& ArrayField(const json& j, std::string_view key) {
  static const json kEmpty = json::array();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : kEmpty;
}

const json& ObjectField(const json& j, std::string_view key) {
  static const json kEmpty = json::object();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}

std::span<const std::string_view> MemoryTypes() { return kMemoryTypes; }
std::span<const std::string_view> RelationshipTypes() { return kRelationshipTypes; }
bool IsMemoryType(std::string_view t) {
  return std::find(kMemoryTypes.begin(), kMemoryTypes.end(), t) != kMemoryTypes.end();
}
bool IsRelationshipType(std::string_view t) {
  return std::find(kRelationshipTypes.begin(), kRelationshipTypes.end(), t) !=
         kRelationshipTypes.end();
}

json User::ToJson() const {
  return {{"id", id}, {"email", email}, {"name", name}, {"created_at", created_at}};
}

json Workspace::ToJson(std::optional<std::string_view> role) const {
  json j = {{"id", id},          {"type", kind},         {"name", name},
            {"slug", slug},      {"owner_id", owner_id}, {"epoch", epoch},
            {"head_seq", head_seq}, {"created_at", created_at}, {"updated_at", updated_at}};
  if (role) j["role"] = std::string(*role);
  return j;
}

json Member::ToJson() const {
  return {{"workspace_id", workspace_id}, {"user_id", user_id}, {"name", name},
          {"email", email},               {"role", role},       {"joined_at", joined_at}};
}

json Memory::ToJson() const {
  return {{"id", id},
          {"workspace_id", workspace_id},
          {"type", type},
          {"title", title},
          {"content", content},
          {"summary", summary ? json(*summary) : json(nullptr)},
          {"tags", tags},
          {"importance", importance},
          {"confidence", confidence},
          {"context", context},
          {"created_by", created_by},
          {"updated_by", updated_by},
          {"created_at", created_at},
          {"updated_at", updated_at},
          {"version", version},
          {"deleted", deleted}};
}

std::optional<Memory> Memory::FromJson(const json& j) {
  if (!j.is_object()) return std::nullopt;
  Memory m;
  if (!Get(j, "id", m.id) || !Get(j, "workspace_id", m.workspace_id) || !Get(j, "type", m.type) ||
      !Get(j, "title", m.title) || !Get(j, "version", m.version))
    return std::nullopt;
  Get(j, "content", m.content);
  std::string summary;
  if (Get(j, "summary", summary)) m.summary = summary;
  if (auto it = j.find("tags"); it != j.end() && it->is_array())
    for (const auto& t : *it)
      if (t.is_string()) m.tags.push_back(t.get<std::string>());
  Get(j, "importance", m.importance);
  Get(j, "confidence", m.confidence);
  if (auto it = j.find("context"); it != j.end() && it->is_object()) m.context = *it;
  Get(j, "created_by", m.created_by);
  Get(j, "updated_by", m.updated_by);
  Get(j, "created_at", m.created_at);
  Get(j, "updated_at", m.updated_at);
  Get(j, "deleted", m.deleted);
  return m;
}

json EditStamp::ToJson() const {
  json j = {{"user_id", user_id}, {"edited_at", edited_at}};
  if (!name.empty()) j["name"] = name;
  return j;
}

EditStamp EditStamp::FromJson(const json& j) {
  EditStamp s;
  if (j.is_object()) {
    Get(j, "user_id", s.user_id);
    Get(j, "edited_at", s.edited_at);
    Get(j, "name", s.name);
  }
  return s;
}

json Conflict::ToJson() const {
  return {{"id", id},
          {"workspace_id", workspace_id},
          {"memory_id", memory_id},
          {"kind", kind},
          {"field", field},
          {"title", title},
          {"kept", kept},
          {"lost", lost},
          {"kept_by", kept_by.ToJson()},
          {"lost_by", lost_by.ToJson()},
          {"seq", seq},
          {"memory_version", memory_version},
          {"status", status},
          {"resolution", resolution.empty() ? json(nullptr) : json(resolution)},
          {"resolved_by", resolved_by.empty() ? json(nullptr) : json(resolved_by)},
          {"resolved_at", resolved_at.empty() ? json(nullptr) : json(resolved_at)},
          {"created_at", created_at}};
}

std::optional<Conflict> Conflict::FromJson(const json& j) {
  if (!j.is_object()) return std::nullopt;
  Conflict c;
  if (!Get(j, "id", c.id) || !Get(j, "workspace_id", c.workspace_id) || !Get(j, "memory_id", c.memory_id) ||
      !Get(j, "kind", c.kind))
    return std::nullopt;
  Get(j, "field", c.field);
  Get(j, "title", c.title);
  if (auto it = j.find("kept"); it != j.end()) c.kept = *it;
  if (auto it = j.find("lost"); it != j.end()) c.lost = *it;
  if (auto it = j.find("kept_by"); it != j.end()) c.kept_by = EditStamp::FromJson(*it);
  if (auto it = j.find("lost_by"); it != j.end()) c.lost_by = EditStamp::FromJson(*it);
  Get(j, "seq", c.seq);
  Get(j, "memory_version", c.memory_version);
  Get(j, "status", c.status);
  Get(j, "resolution", c.resolution);
  Get(j, "resolved_by", c.resolved_by);
  Get(j, "resolved_at", c.resolved_at);
  Get(j, "created_at", c.created_at);
  return c;
}

json Relationship::ToJson() const {
  return {{"id", id},
          {"workspace_id", workspace_id},
          {"from_memory_id", from_memory_id},
          {"to_memory_id", to_memory_id},
          {"type", type},
          {"strength", strength},
          {"confidence", confidence},
          {"context", context ? json(*context) : json(nullptr)},
          {"evidence_count", evidence_count},
          {"created_by", created_by},
          {"updated_by", updated_by},
          {"created_at", created_at},
          {"updated_at", updated_at},
          {"version", version},
          {"deleted", deleted}};
}

std::optional<Relationship> Relationship::FromJson(const json& j) {
  if (!j.is_object()) return std::nullopt;
  Relationship r;
  if (!Get(j, "id", r.id) || !Get(j, "workspace_id", r.workspace_id) ||
      !Get(j, "from_memory_id", r.from_memory_id) || !Get(j, "to_memory_id", r.to_memory_id) ||
      !Get(j, "type", r.type) || !Get(j, "version", r.version))
    return std::nullopt;
  Get(j, "strength", r.strength);
  Get(j, "confidence", r.confidence);
  std::string context;
  if (Get(j, "context", context)) r.context = context;
  Get(j, "evidence_count", r.evidence_count);
  Get(j, "created_by", r.created_by);
  Get(j, "updated_by", r.updated_by);
  Get(j, "created_at", r.created_at);
  Get(j, "updated_at", r.updated_at);
  Get(j, "deleted", r.deleted);
  return r;
}

json Event::ToJson() const {
  json j = {{"type", type},   {"workspace_id", workspace_id}, {"seq", seq},
            {"actor", actor}, {"actor_name", actor_name},     {"at", at}};
  for (const auto& [k, v] : extra.items()) j[k] = v;
  j[entity_type.empty() ? std::string("entity") : entity_type] = entity;
  return j;
}

std::optional<Event> Event::FromJson(const json& j) {
  json copy = j;
  return FromJson(std::move(copy));
}

std::optional<Event> Event::FromJson(json&& j) {
  if (!j.is_object()) return std::nullopt;
  Event e;
  if (!Get(j, "type", e.type) || !Get(j, "workspace_id", e.workspace_id) || !Get(j, "seq", e.seq))
    return std::nullopt;
  Get(j, "actor", e.actor);
  Get(j, "actor_name", e.actor_name);
  Get(j, "at", e.at);
  static const std::array<std::string_view, 6> kCommon = {"type", "workspace_id", "seq",
                                                          "actor", "actor_name", "at"};
  for (const char* key : {"memory", "relationship", "member", "workspace", "conflict", "invitation"}) {
    if (auto it = j.find(key); it != j.end() && it->is_object() && e.entity_type.empty()) {
      e.entity_type = key;
      e.entity = std::move(*it);
      if (auto id = e.entity.find(std::string(key) == "member" ? "user_id" : "id");
          id != e.entity.end() && id->is_string())
        e.entity_id = id->get<std::string>();
    }
  }
  for (auto& [k, v] : j.items())
    if (k != e.entity_type && std::find(kCommon.begin(), kCommon.end(), k) == kCommon.end())
      e.extra[k] = std::move(v);
  return e;
}

}  // namespace mgteam
