#include "graph_file.h"

#include "mgteam/clock.h"
#include "mgteam/digest.h"
#include "mgteam/ids.h"
#include "mgteam/validate.h"

#include <map>
#include <set>

namespace mgteam::cli {
namespace {

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// A time the server accepts (UTC, milliseconds), or "" for none.
std::string Time(const json& j, const char* key) {
  auto t = ParseRfc3339(Str(j, key));
  return t ? FormatRfc3339(*t) : "";
}

// The file's id as a UUID: kept if it is one, else mapped.
std::string IdFor(const std::string& original, bool* mapped) {
  if (auto id = NormalizeUuid(original)) return *id;
  *mapped = true;
  return MappedId(original);
}

// A tombstone: "deleted": true (anything else, null or 0 included, is not).
bool Deleted(const json& j) {
  auto it = j.find("deleted");
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

void CopyIf(const json& from, json& to, const char* key, const char* as = nullptr) {
  auto it = from.find(key);
  if (it != from.end() && !it->is_null()) to[as ? as : key] = *it;
}

// One memory of either format as a batch create body, or why it is skipped.
Result<json> MemoryBody(const json& m, const std::string& id, const std::string& original) {
  json body = {{"id", id}, {"title", m.contains("title") ? m["title"] : json("")}};
  for (const char* key : {"content", "tags", "importance", "confidence"}) CopyIf(m, body, key);
  if (m.contains("summary") && m["summary"].is_string() && !m["summary"].get<std::string>().empty())
    body["summary"] = m["summary"];
  json context = m.contains("context") && m["context"].is_object() ? m["context"] : json::object();
  if (m.contains("context") && !m["context"].is_null() && !m["context"].is_object())
    context["original_context"] = m["context"];
  if (id != original) context["original_id"] = original;
  std::string type = Str(m, "type");
  if (IsMemoryType(type)) {
    body["type"] = type;
  } else {
    body["type"] = "general";
    if (!type.empty()) context["original_type"] = type;
  }
  if (!context.empty()) body["context"] = context;
  if (auto t = Time(m, "created_at"); !t.empty()) body["created_at"] = t;
  // Checked here with the server's rules, so a bad entry is reported by name
  // rather than as a refused batch item.
  MG_RETURN_IF_ERROR(ParseMemoryCreate(body).status());
  if (auto t = Time(m, "updated_at"); !t.empty()) body["updated_at"] = t;
  return body;
}

}  // namespace

std::string MappedId(const std::string& original) {
  std::string h = RowHash(json("mgteam-import:" + original)).substr(0, 32);
  h[12] = '5';                                                   // version 5 (name-based)
  h[16] = "89ab"[std::stoi(std::string(1, h[16]), nullptr, 16) & 3];  // RFC 4122 variant
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

Result<ImportPlan> PlanImport(const json& file) {
  if (!file.is_object() || !file.contains("memories") || !file["memories"].is_array())
    return Status::Invalid("invalid_file", "not a graph export: expected a JSON object with \"memories\" (a MemoryGraph "
                                           "export, format_version 2.0, or an `mgteam export`)");
  ImportPlan plan;
  if (Str(file, "format") == "mgteam") plan.format = "mgteam";
  else if (Str(file, "format_version") == "2.0") plan.format = "memorygraph";
  else
    return Status::Invalid("invalid_file", "unknown export format (format_version '" + Str(file, "format_version") +
                                               "'); MemoryGraph's format_version 2.0 and mgteam's own are read");

  std::map<std::string, std::string> ids;  // the file's id -> ours
  for (const auto& m : file["memories"]) {
    std::string original = m.is_object() ? Str(m, "id") : "";
    if (original.empty()) {
      plan.skipped.push_back({"memory", "", "no id"});
      continue;
    }
    if (ids.count(original)) {
      plan.skipped.push_back({"memory", original, "duplicate id in the file"});
      continue;
    }
    if (Deleted(m)) {
      plan.skipped.push_back({"memory", original, "deleted (a tombstone)"});
      continue;
    }
    bool mapped = false;
    std::string id = IdFor(original, &mapped);
    auto body = MemoryBody(m, id, original);
    if (!body.ok()) {
      plan.skipped.push_back({"memory", original, body.status().message()});
      continue;
    }
    ids[original] = id;
    plan.mapped_ids += mapped;
    plan.memories.push_back(std::move(body).value());
  }

  std::set<std::string> seen;
  for (const auto& r : file.value("relationships", json::array())) {
    if (!r.is_object()) continue;
    const std::string from = Str(r, "from_memory_id"), to = Str(r, "to_memory_id"), type = Str(r, "type");
    std::string original = Str(r, "id");
    const std::string label = original.empty() ? from + " " + type + " " + to : original;
    if (Deleted(r)) {
      plan.skipped.push_back({"relationship", label, "deleted (a tombstone)"});
      continue;
    }
    if (!ids.count(from) || !ids.count(to)) {
      plan.skipped.push_back({"relationship", label, std::string("dangling: memory ") + (ids.count(from) ? to : from) +
                                                         " is not in the file"});
      continue;
    }
    bool mapped = false;
    // Without an id, one derived from what it links: the same on every run.
    std::string id = original.empty() ? MappedId("relationship:" + ids[from] + ">" + ids[to] + ":" + type)
                                      : IdFor(original, &mapped);
    if (!seen.insert(id).second) {
      plan.skipped.push_back({"relationship", label, "duplicate id in the file"});
      continue;
    }
    // MemoryGraph keeps the numbers under "properties"; mgteam's export at the top.
    const json& p = r.contains("properties") && r["properties"].is_object() ? r["properties"] : r;
    json body = {{"id", id}, {"from_memory_id", ids[from]}, {"to_memory_id", ids[to]}, {"type", type}};
    for (const char* key : {"strength", "confidence", "evidence_count"}) CopyIf(p, body, key);
    if (p.contains("context") && p["context"].is_string() && !p["context"].get<std::string>().empty())
      body["context"] = p["context"];
    else if (p.contains("context") && (p["context"].is_object() || p["context"].is_array()))
      body["context"] = p["context"].dump();
    if (auto s = ParseRelationshipCreate(body); !s.ok()) {
      plan.skipped.push_back({"relationship", label, s.status().message()});
      continue;
    }
    for (const char* key : {"created_at", "updated_at"}) {
      std::string t = Time(r, key);
      if (t.empty()) t = Time(p, key);
      if (!t.empty()) body[key] = t;
    }
    plan.mapped_ids += mapped;
    plan.relationships.push_back(std::move(body));
  }
  return plan;
}

json ExportMemoryGraph(const std::vector<Memory>& memories, const std::vector<Relationship>& relationships,
                       const std::string& now) {
  json ms = json::array(), rs = json::array();
  for (const auto& m : memories) {
    if (m.deleted) continue;
    json j = {{"id", m.id},          {"type", m.type},           {"title", m.title},
              {"content", m.content}, {"summary", m.summary ? json(*m.summary) : json(nullptr)},
              {"tags", m.tags},      {"importance", m.importance}, {"confidence", m.confidence},
              {"created_at", m.created_at}, {"updated_at", m.updated_at}, {"context", m.context}};
    ms.push_back(std::move(j));
  }
  for (const auto& r : relationships) {
    if (r.deleted) continue;
    rs.push_back({{"id", r.id},
                  {"from_memory_id", r.from_memory_id},
                  {"to_memory_id", r.to_memory_id},
                  {"type", r.type},
                  {"properties",
                   {{"strength", r.strength},
                    {"confidence", r.confidence},
                    {"context", r.context ? json(*r.context) : json(nullptr)},
                    {"evidence_count", r.evidence_count}}},
                  {"created_at", r.created_at},
                  {"updated_at", r.updated_at}});
  }
  return {{"format_version", "2.0"},
          {"export_version", "1.0"},
          {"export_date", now},
          {"backend_type", "mgteam"},
          {"memory_count", ms.size()},
          {"relationship_count", rs.size()},
          {"memories", ms},
          {"relationships", rs}};
}

json ExportMgteam(const json& workspace, const std::vector<Memory>& memories,
                  const std::vector<Relationship>& relationships, const std::string& now) {
  json ms = json::array(), rs = json::array();
  for (const auto& m : memories) ms.push_back(m.ToJson());
  for (const auto& r : relationships) rs.push_back(r.ToJson());
  return {{"format", "mgteam"},   {"format_version", 1}, {"exported_at", now}, {"workspace", workspace},
          {"memories", ms},       {"relationships", rs}};
}

}  // namespace mgteam::cli
