#include "mcp/tool_schemas.h"

#include "mgteam/model.h"

#include <map>

namespace mgteam::cli {
namespace {

using nlohmann::json;

json Names(std::span<const std::string_view> values) {
  json out = json::array();
  for (auto v : values) out.push_back(std::string(v));
  return out;
}

json Str(const std::string& desc) { return {{"type", "string"}, {"description", desc}}; }
json Text(const std::string& desc, int max) { return {{"type", "string"}, {"description", desc}, {"maxLength", max}}; }
json Flag(const std::string& desc) { return {{"type", "boolean"}, {"description", desc}}; }
json Int(const std::string& desc, int min, int max) {
  return {{"type", "integer"}, {"description", desc}, {"minimum", min}, {"maximum", max}};
}
json Unit(const std::string& desc) { return {{"type", "number"}, {"description", desc}, {"minimum", 0.0}, {"maximum", 1.0}}; }
json OneOf(const std::string& desc, json values) { return {{"type", "string"}, {"description", desc}, {"enum", values}}; }
json ListOf(const std::string& desc, json item) { return {{"type", "array"}, {"description", desc}, {"items", item}}; }
json AnyObject(const std::string& desc) { return {{"type", "object"}, {"description", desc}}; }

json MemoryType() { return OneOf("The kind of memory", Names(MemoryTypes())); }
json RelationshipType() { return OneOf("The kind of link", Names(RelationshipTypes())); }
json Limit(int def, int max) { return Int("At most this many results (default " + std::to_string(def) + ")", 1, max); }
json Offset() { return Int("Skip this many results, for the next page (default 0)", 0, 1000000); }

json Input(json props, json required = json::array()) {
  props["workspace"] = Str("Workspace id, slug or name (default: the current one; list_workspaces names them)");
  json s = {{"type", "object"}, {"properties", props}};
  if (!required.empty()) s["required"] = required;
  return s;
}

json Output(json props, json required) {
  return {{"type", "object"}, {"properties", props}, {"required", required}};
}

const json kObject = {{"type", "object"}};
const json kArray = {{"type", "array"}};
const json kString = {{"type", "string"}};
const json kInteger = {{"type", "integer"}};
const json kBoolean = {{"type", "boolean"}};

json PageOutput(const std::string& key) {
  return Output({{key, kArray}, {"count", kInteger}, {"offset", kInteger}, {"limit", kInteger},
                 {"has_more", kBoolean}, {"workspace", kObject}},
                {key, "count", "has_more"});
}

json SearchInput(bool advanced) {
  json p = {{"query", Str("Words to look for in titles, text, summaries and tags")},
            {"memory_types", ListOf("Only memories of these types", MemoryType())},
            {"project_path", Str("Only memories whose context.project_path is this directory or below it")},
            {"limit", Limit(20, 50)},
            {"offset", Offset()}};
  if (advanced) {
    p["terms"] = ListOf("More words to look for (with query, or instead of it); each word is matched on its own", kString);
    p["tags"] = ListOf("Only memories with at least one of these tags", kString);
    p["min_importance"] = Unit("Only memories at least this important");
    p["search_tolerance"] = OneOf("normal: a word also finds longer forms (timeout -> timeouts); strict: whole "
                                  "words only; fuzzy: as normal",
                                  {"strict", "normal", "fuzzy"});
    p["match_mode"] = OneOf("all: every word must occur (default with query); any: one is enough (default with terms)",
                            {"any", "all"});
    p["relationship_filter"] = ListOf("Only memories with a relationship of one of these types", RelationshipType());
  }
  return Input(p);
}

std::map<std::string, mcp::Tool> Definitions() {
  std::map<std::string, mcp::Tool> d;
  auto add = [&](std::string name, std::string title, std::string desc, json in, json out) {
    d[name] = mcp::Tool{name, std::move(title), std::move(desc), std::move(in), std::move(out), nullptr};
  };
  const json memory_out = Output({{"memory_id", kString}, {"memory", kObject}, {"sync_state", kString},
                                  {"note", kString}, {"workspace", kObject}},
                                 {"memory_id", "memory", "sync_state"});

  add("recall_memories", "Recall team memories",
      "Start here to recall what you or your team learned: pass a natural-language query; memories matching any of "
      "its words come first by relevance, each with its immediate relationships (what solves or causes it). Without "
      "a query: the newest memories. Shared live with the team; answers offline from this machine's copy.",
      SearchInput(false), PageOutput("memories"));
  add("store_memory", "Store a memory",
      "Record a problem, solution, error, fix, pattern, decision or other learning. The whole team sees it within "
      "moments (offline: as soon as the server is reachable). Write a searchable title; put details in content; "
      "then link it with create_relationship (a solution SOLVES a problem). Returns memory_id.",
      Input({{"type", MemoryType()},
             {"title", Text("A short, searchable title (1-200 characters)", 200)},
             {"content", Str("The details")},
             {"summary", Text("One line (at most 500 characters)", 500)},
             {"tags", ListOf("Tags, e.g. [\"redis\", \"timeout\"] (lowercased)", kString)},
             {"importance", Unit("0.8-1 critical, 0.5 normal (default), below 0.4 reference")},
             {"confidence", Unit("How sure this is (default 0.8)")},
             {"context", AnyObject("project_path, files_involved, languages, frameworks, git_branch, ...")},
             {"id", Str("A UUID for the new memory (default: a new one)")}},
            {"type", "title", "content"}),
      memory_out);
  add("get_memory", "Get a memory",
      "One memory in full by its id, with its relationships (each with the other memory's title).",
      Input({{"memory_id", Str("The memory's id")},
             {"include_relationships", Flag("List its relationships too (default true)")}},
            {"memory_id"}),
      Output({{"memory", kObject}, {"relationships", kArray}, {"workspace", kObject}}, {"memory"}));
  add("search_memories", "Search memories",
      "Search with fine control: all or any words, whole words only, tags, types, importance, project, "
      "relationship types; paged with limit/offset. recall_memories is simpler for everyday questions.",
      SearchInput(true), PageOutput("memories"));
  add("update_memory", "Update a memory",
      "Change some fields of a memory; the others stay. If a teammate changed it meanwhile, the edits are merged "
      "and a value that loses is kept in a conflict record (list_conflicts).",
      Input({{"memory_id", Str("The memory's id")},
             {"title", Text("New title", 200)},
             {"content", Str("New text")},
             {"summary", Text("New summary", 500)},
             {"tags", ListOf("The new set of tags", kString)},
             {"importance", Unit("New importance")},
             {"confidence", Unit("New confidence")},
             {"type", MemoryType()},
             {"context", AnyObject("Context keys to set; the memory's other context keys stay")}},
            {"memory_id"}),
      memory_out);
  add("delete_memory", "Delete a memory",
      "Delete a memory and its relationships, for the whole team.",
      Input({{"memory_id", Str("The memory's id")}}, {"memory_id"}),
      Output({{"memory_id", kString}, {"deleted", kBoolean}, {"title", kString}, {"sync_state", kString},
              {"note", kString}, {"workspace", kObject}},
             {"memory_id", "deleted"}));
  add("create_relationship", "Link two memories",
      "Link two memories: from_memory_id RELATIONSHIP_TYPE to_memory_id, e.g. a solution SOLVES a problem, an error "
      "CAUSES a failure, a module DEPENDS_ON a library. Returns relationship_id.",
      Input({{"from_memory_id", Str("Where the link starts (e.g. the solution)")},
             {"to_memory_id", Str("Where it points (e.g. the problem)")},
             {"relationship_type", RelationshipType()},
             {"strength", Unit("How strong the link is (default 0.5)")},
             {"confidence", Unit("How sure (default 0.8)")},
             {"context", Text("Why they are linked", 2000)}},
            {"from_memory_id", "to_memory_id", "relationship_type"}),
      Output({{"relationship_id", kString}, {"relationship", kObject}, {"sync_state", kString}, {"note", kString},
              {"workspace", kObject}},
             {"relationship_id", "relationship"}));
  add("get_related_memories", "Follow relationships",
      "Memories linked to one memory, in both directions, up to max_depth hops (1: direct links), nearest first, "
      "each with the path that reaches it. relationship_types limits which links are followed ([\"SOLVES\"] finds "
      "solutions).",
      Input({{"memory_id", Str("Where to start")},
             {"relationship_types", ListOf("Follow only these types of link", RelationshipType())},
             {"max_depth", Int("How many hops (default 1)", 1, 5)},
             {"limit", Limit(50, 100)},
             {"offset", Offset()}},
            {"memory_id"}),
      Output({{"memory_id", kString}, {"related", kArray}, {"count", kInteger}, {"total", kInteger},
              {"has_more", kBoolean}, {"max_depth", kInteger}, {"offset", kInteger}, {"workspace", kObject}},
             {"memory_id", "related", "total", "has_more"}));
  add("get_recent_activity", "Catch up on recent memories",
      "What was recorded or changed in the last days: counts by type, the newest memories, and problems or errors "
      "nothing SOLVES or ADDRESSES yet.",
      Input({{"days", Int("How many days back (default 7)", 1, 365)},
             {"project", Str("Only memories of this project path")},
             {"limit", Limit(20, 50)}}),
      Output({{"days", kInteger}, {"since", kString}, {"total", kInteger}, {"memories_by_type", kObject},
              {"recent_memories", kArray}, {"unresolved_problems", kArray}, {"workspace", kObject}},
             {"total", "recent_memories", "unresolved_problems"}));
  add("get_memory_statistics", "Memory statistics",
      "How many memories and relationships the workspace holds, by type; average importance; writes not yet "
      "synced; open conflicts.",
      Input(json::object()),
      Output({{"memories", kInteger}, {"relationships", kInteger}, {"memories_by_type", kObject},
              {"relationships_by_type", kObject}, {"average_importance", {{"type", "number"}}},
              {"pending_writes", kInteger}, {"failed_writes", kInteger}, {"open_conflicts", kInteger},
              {"workspace", kObject}},
             {"memories", "relationships"}));
  add("sync_status", "Team sync status",
      "Whether this machine is in sync with the team: agent running, live connection, last sync, writes pending or "
      "refused (with why), open conflicts.",
      Input(json::object()),
      Output({{"workspace", kObject}, {"agent_running", kBoolean}, {"connected", kBoolean}, {"state", kString},
              {"pending", kInteger}, {"failed", kInteger}, {"open_conflicts", kInteger}, {"last_sync_at", kString},
              {"failed_writes", kArray}},
             {"workspace", "agent_running", "connected", "pending", "failed", "open_conflicts"}));
  add("list_workspaces", "List workspaces",
      "Your personal workspace and the teams you belong to, with your role in each; pass one as `workspace` to "
      "any tool.",
      Input(json::object()), Output({{"workspaces", kArray}, {"current", kObject}}, {"workspaces", "current"}));
  add("team_activity", "Team activity",
      "Who did what in the team, newest first: memories added or changed, links, members joining, conflicts "
      "(each entry with a sentence). Needs the server; page on with next_cursor.",
      Input({{"since", Str("Only after this: 30m, 2h, 3d, 1w ago, or an RFC 3339 time")},
             {"user", Str("Only this member's (name, email or id)")},
             {"action", OneOf("Only this action", {"created", "updated", "deleted", "restored", "joined", "removed",
                                                   "role_changed", "resolved", "revoked", "resent"})},
             {"entity_type", OneOf("Only about this", {"memory", "relationship", "member", "invitation", "conflict",
                                                       "workspace"})},
             {"limit", Limit(20, 100)},
             {"cursor", Str("next_cursor of the previous page")}}),
      Output({{"activity", kArray}, {"count", kInteger}, {"next_cursor", kString}, {"workspace", kObject}},
             {"activity", "count"}));
  add("list_conflicts", "List conflicts",
      "Values that lost a merge when two people edited the same memory, kept so nothing typed is lost. Resolve them "
      "with `mgteam conflicts resolve`.",
      Input({{"status", OneOf("open (default) or all", {"open", "all"})},
             {"memory_id", Str("Only this memory's")},
             {"limit", Limit(20, 100)},
             {"offset", Offset()}}),
      PageOutput("conflicts"));
  return d;
}

}  // namespace

mcp::Tool ToolSchema(const std::string& name) {
  static const std::map<std::string, mcp::Tool> defs = Definitions();
  return defs.at(name);
}

}  // namespace mgteam::cli
