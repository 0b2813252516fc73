// The handlers behind AssistantTools(); their schemas are in
// tool_schemas.cpp. Each call opens the replica for the workspace it names,
// exactly as a CLI command would (OpenLocal), so `mgteam mcp` needs no state
// of its own and several of them, the agent and the CLI share one replica.
#include "titles.h"
#include "mcp/tools.h"

#include "local.h"
#include "sync.h"
#include "mcp/tool_schemas.h"

#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "mgteam/text.h"
#include "mgteam/validate.h"

namespace mgteam::cli {
namespace {

using nlohmann::json;

// One tool call's session and replica. Session keeps a reference to the
// options, so they live here together.
struct Call {
  explicit Call(GlobalOptions o) : options(std::move(o)), session(options) {}
  GlobalOptions options;
  Session session;
  Local local;
};

class Toolbox {
 public:
  explicit Toolbox(GlobalOptions base) : base_(std::move(base)) {}

  Result<std::unique_ptr<Call>> Open(const json& args, bool catch_up) const {
    GlobalOptions g = base_;
    if (auto w = args.find("workspace"); w != args.end()) g.workspace = w->get<std::string>();
    auto c = std::make_unique<Call>(std::move(g));
    MG_ASSIGN_OR_RETURN(c->local, OpenLocal(c->session, catch_up));
    // Without an agent, this process is the one that sends what an earlier
    // call queued while offline. What it cannot send stays queued with its
    // error (sync_status shows it), so the result needs no handling here.
    if (!c->local.agent_running && c->local.online) {
      agent::FlushResult sent = agent::Flush(*c->local.api, *c->local.replica, c->local.ws.id, true);
      (void)sent;
    }
    return c;
  }

 private:
  GlobalOptions base_;
};

std::string Str(const json& args, const char* key, std::string fallback = "") {
  auto it = args.find(key);
  return it != args.end() && it->is_string() ? it->get<std::string>() : fallback;
}

int Int(const json& args, const char* key, int fallback) {
  auto it = args.find(key);
  return it != args.end() && it->is_number() ? static_cast<int>(it->get<double>()) : fallback;
}

std::vector<std::string> Strings(const json& args, const char* key) {
  std::vector<std::string> out;
  if (auto it = args.find(key); it != args.end() && it->is_array())
    for (const auto& v : *it)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::string MemoryId(const json& args, const char* key = "memory_id") {
  std::string raw = Str(args, key);
  return NormalizeUuid(raw).value_or(raw);
}

json WorkspaceJson(const Local& l) { return {{"id", l.ws.id}, {"name", l.ws.name}, {"slug", l.ws.slug}}; }

// A memory in a list: its text cut to kBriefContent characters.
json Brief(const agent::LocalMemory& m) {
  json j = m.ToJson();
  if (CodePointCount(m.memory.content) > kBriefContent) {
    j["content"] = Ellipsize(m.memory.content, kBriefContent);
    j["content_truncated"] = true;
  }
  return j;
}

json BriefList(const std::vector<agent::LocalMemory>& rows, size_t limit) {
  json out = json::array();
  for (size_t i = 0; i < rows.size() && i < limit; ++i) out.push_back(Brief(rows[i]));
  return out;
}

// The memory's live relationships, each with the other memory's title.
Result<json> Links(agent::Replica& r, const std::string& ws, const std::string& id, int limit) {
  MG_ASSIGN_OR_RETURN(auto links, r.Links(ws, id, limit));
  json out = json::array();
  for (const auto& l : links) out.push_back(l.ToJson());
  return out;
}

// Sends a local write on. Offline is not a failure: the write is kept and
// sent later, and the answer says so. A refusal is.
Result<std::string> Send(Call& c, const std::string& op) {
  Status d = Deliver(c.session, c.local, op, false);
  if (d.ok()) return std::string();
  if (d.reason() == "queued")
    return std::string("saved on this machine; it reaches the team as soon as the server is reachable");
  return d;
}

// The entity as it is now (after the server's answer, if one came).
json NowMemory(Call& c, const agent::LocalMemory& fallback) {
  auto now = c.local.replica->GetMemory(c.local.ws.id, fallback.memory.id);
  return now.ok() && *now ? (*now)->ToJson() : fallback.ToJson();
}

// What store_memory and update_memory answer: the memory as it is now and
// where it stands, with `note` when there is something to say.
json MemoryAnswer(Call& c, const agent::LocalMemory& m, const std::string& note) {
  json j = NowMemory(c, m);
  json out = {{"memory_id", m.memory.id}, {"memory", j}, {"sync_state", j.value("sync_state", "pending")},
              {"workspace", WorkspaceJson(c.local)}};
  if (!note.empty()) out["note"] = note;
  return out;
}

json Page(json items, const char* key, int offset, int limit, bool has_more) {
  json out;
  out["count"] = items.size();
  out[key] = std::move(items);
  out["offset"] = offset;
  out["limit"] = limit;
  out["has_more"] = has_more;
  return out;
}

// ---- memory tools ---------------------------------------------------------------------------

Result<json> StoreMemory(const Toolbox& tb, const json& args) {
  json body = {{"title", Str(args, "title")}, {"type", Str(args, "type", "general")}, {"content", Str(args, "content")}};
  for (const char* key : {"summary", "tags", "importance", "confidence", "context", "id"})
    if (args.contains(key)) body[key] = args[key];
  MG_ASSIGN_OR_RETURN(Memory draft, ParseMemoryCreate(body));
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, false));
  std::string op;
  MG_ASSIGN_OR_RETURN(auto m, c->local.replica->CreateMemory(c->local.ws.id, draft, &op));
  MG_ASSIGN_OR_RETURN(std::string note, Send(*c, op));
  return MemoryAnswer(*c, m, note);
}

Result<json> GetMemory(const Toolbox& tb, const json& args) {
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, true));
  const std::string id = MemoryId(args);
  MG_ASSIGN_OR_RETURN(auto m, c->local.replica->GetMemory(c->local.ws.id, id));
  if (!m || m->memory.deleted)
    return Status::NotFound("no memory " + Str(args, "memory_id") + " in " + c->local.ws.name +
                            " (search_memories or recall_memories find ids)");
  json out = {{"memory", m->ToJson()}, {"workspace", WorkspaceJson(c->local)}};
  if (args.value("include_relationships", true)) {
    MG_ASSIGN_OR_RETURN(out["relationships"], Links(*c->local.replica, c->local.ws.id, id, 50));
  }
  return out;
}

Result<agent::MemoryQuery> QueryFrom(const json& args, const Local& l, int default_limit) {
  agent::MemoryQuery q;
  q.workspace_id = l.ws.id;
  q.words = agent::SplitWords(Str(args, "query"));
  for (const auto& t : Strings(args, "terms"))
    for (const auto& w : agent::SplitWords(t)) q.words.push_back(w);
  q.types = Strings(args, "memory_types");
  MG_ASSIGN_OR_RETURN(q.tags, NormalizeTags(Strings(args, "tags")));
  q.project_path = Str(args, "project_path");
  if (args.contains("min_importance")) q.min_importance = args["min_importance"].get<double>();
  q.relationship_types = Strings(args, "relationship_filter");
  q.limit = Int(args, "limit", default_limit);
  q.offset = Int(args, "offset", 0);
  return q;
}

Result<json> FindMemories(agent::Replica& r, agent::MemoryQuery q) {
  const int limit = q.limit;
  q.limit = limit + 1;  // one more says whether there is a next page
  MG_ASSIGN_OR_RETURN(auto rows, r.Find(q));
  return Page(BriefList(rows, static_cast<size_t>(limit)), "memories", q.offset, limit,
              rows.size() > static_cast<size_t>(limit));
}

Result<json> SearchMemories(const Toolbox& tb, const json& args) {
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, true));
  MG_ASSIGN_OR_RETURN(agent::MemoryQuery q, QueryFrom(args, c->local, 20));
  q.match_all = Str(args, "match_mode", args.contains("terms") ? "any" : "all") == "all";
  q.word_match = Str(args, "search_tolerance", "normal") == "strict" ? agent::WordMatch::kExact : agent::WordMatch::kPrefix;
  MG_ASSIGN_OR_RETURN(json out, FindMemories(*c->local.replica, q));
  out["workspace"] = WorkspaceJson(c->local);
  return out;
}

// MemoryGraph's "start here" search: any of the words, best match first, with
// each memory's immediate relationships.
Result<json> RecallMemories(const Toolbox& tb, const json& args) {
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, true));
  MG_ASSIGN_OR_RETURN(agent::MemoryQuery q, QueryFrom(args, c->local, 20));
  q.match_all = false;
  MG_ASSIGN_OR_RETURN(json out, FindMemories(*c->local.replica, q));
  for (auto& m : out["memories"]) {
    MG_ASSIGN_OR_RETURN(m["relationships"], Links(*c->local.replica, c->local.ws.id, m.value("id", ""), 10));
  }
  out["workspace"] = WorkspaceJson(c->local);
  return out;
}

Result<json> UpdateMemory(const Toolbox& tb, const json& args) {
  json body = json::object();
  for (const char* key : {"title", "content", "summary", "tags", "importance", "confidence", "type", "context"})
    if (args.contains(key)) body[key] = args[key];
  if (body.empty())
    return Status::Invalid("nothing_to_change", "say what to change: title, content, summary, tags, importance, "
                                                "confidence, type or context");
  MG_ASSIGN_OR_RETURN(MemoryPatch patch, ParseMemoryPatch(body));
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, true));
  if (patch.context) {
    // The keys given are set; the memory's other context keys stay (the
    // store replaces the whole object, so the merge happens here).
    MG_ASSIGN_OR_RETURN(auto current, c->local.replica->GetMemory(c->local.ws.id, MemoryId(args)));
    if (current) {
      json merged = current->memory.context.is_object() ? current->memory.context : json::object();
      for (const auto& [k, v] : patch.context->items()) merged[k] = v;
      MG_RETURN_IF_ERROR(ValidateContext(merged));
      patch.context = merged;
    }
  }
  std::string op;
  MG_ASSIGN_OR_RETURN(auto m, c->local.replica->UpdateMemory(c->local.ws.id, MemoryId(args), patch, &op));
  MG_ASSIGN_OR_RETURN(std::string note, Send(*c, op));
  json out = MemoryAnswer(*c, m, "");
  if (!out["memory"].value("open_conflicts", json::array()).empty())
    out["note"] = "someone else changed this memory too: the merged memory is shown, and the value that lost is "
                  "kept in a conflict record (list_conflicts)";
  if (!note.empty()) out["note"] = note;
  return out;
}

Result<json> DeleteMemory(const Toolbox& tb, const json& args) {
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, true));
  std::string op;
  MG_ASSIGN_OR_RETURN(auto m, c->local.replica->DeleteMemory(c->local.ws.id, MemoryId(args), &op));
  MG_ASSIGN_OR_RETURN(std::string note, Send(*c, op));
  json j = NowMemory(*c, m);
  json out = {{"memory_id", m.memory.id}, {"deleted", true}, {"title", m.memory.title},
              {"sync_state", j.value("sync_state", "pending")}, {"workspace", WorkspaceJson(c->local)}};
  if (!note.empty()) out["note"] = note;
  return out;
}

Result<json> CreateRelationship(const Toolbox& tb, const json& args) {
  json body = {{"from_memory_id", MemoryId(args, "from_memory_id")},
               {"to_memory_id", MemoryId(args, "to_memory_id")},
               {"type", Str(args, "relationship_type")}};
  for (const char* key : {"strength", "confidence", "context"})
    if (args.contains(key)) body[key] = args[key];
  MG_ASSIGN_OR_RETURN(Relationship draft, ParseRelationshipCreate(body));
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, true));
  std::string op;
  MG_ASSIGN_OR_RETURN(auto r, c->local.replica->CreateRelationship(c->local.ws.id, draft, &op));
  MG_ASSIGN_OR_RETURN(std::string note, Send(*c, op));
  auto now = c->local.replica->GetRelationship(c->local.ws.id, r.relationship.id);
  json j = now.ok() && *now ? (*now)->ToJson() : r.ToJson();
  json out = {{"relationship_id", r.relationship.id}, {"relationship", j},
              {"sync_state", j.value("sync_state", "pending")}, {"workspace", WorkspaceJson(c->local)}};
  if (!note.empty()) out["note"] = note;
  return out;
}

Result<json> GetRelatedMemories(const Toolbox& tb, const json& args) {
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, true));
  const std::string id = MemoryId(args);
  const int depth = Int(args, "max_depth", 1), limit = Int(args, "limit", 50), offset = Int(args, "offset", 0);
  MG_ASSIGN_OR_RETURN(auto found, c->local.replica->Related(c->local.ws.id, id, depth,
                                                            Strings(args, "relationship_types"), limit, offset));
  json related = json::array();
  for (const auto& r : found.items) {
    json j = r.ToJson();
    j["memory"] = Brief(r.memory);
    related.push_back(std::move(j));
  }
  return json{{"memory_id", id},
              {"max_depth", depth},
              {"related", related},
              {"count", related.size()},
              {"total", found.total},
              {"offset", offset},
              {"has_more", offset + static_cast<int64_t>(related.size()) < found.total},
              {"workspace", WorkspaceJson(c->local)}};
}

Result<json> RecentActivity(const Toolbox& tb, const json& args) {
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, true));
  const int days = Int(args, "days", 7), limit = Int(args, "limit", 20);
  const std::string since = FormatRfc3339(Now() - std::chrono::hours(24) * days);
  MG_ASSIGN_OR_RETURN(auto recent, c->local.replica->Recent(c->local.ws.id, since, Str(args, "project"), limit));
  return json{{"days", days},
              {"since", since},
              {"total", recent.total},
              {"memories_by_type", recent.by_type},
              {"recent_memories", BriefList(recent.recent, static_cast<size_t>(limit))},
              {"unresolved_problems", BriefList(recent.unresolved_problems, static_cast<size_t>(limit))},
              {"workspace", WorkspaceJson(c->local)}};
}

Result<json> MemoryStatistics(const Toolbox& tb, const json& args) {
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, true));
  MG_ASSIGN_OR_RETURN(auto stats, c->local.replica->Statistics(c->local.ws.id));
  json out = stats.ToJson();
  out["workspace"] = WorkspaceJson(c->local);
  return out;
}

// ---- the team's tools -----------------------------------------------------------------------

Result<json> SyncStatusTool(const Toolbox& tb, const json& args) {
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, false));
  MG_ASSIGN_OR_RETURN(json all, SyncStatus(c->session));
  MG_ASSIGN_OR_RETURN(auto stats, c->local.replica->Statistics(c->local.ws.id));
  const bool agent = all["agent"].value("running", false);
  json out = {{"workspace", WorkspaceJson(c->local)},
              {"agent_running", agent},
              {"connected", false},
              {"state", agent ? "agent" : c->local.online ? "no agent: synced on each call" : "offline"},
              {"pending", stats.pending},
              {"failed", stats.failed},
              {"open_conflicts", stats.open_conflicts},
              {"last_sync_at", ""},
              {"failed_writes", json::array()}};
  for (const auto& w : all["workspaces"]) {
    if (w.value("id", "") != c->local.ws.id) continue;
    out["connected"] = w.value("connected", false);
    out["last_sync_at"] = w.value("last_sync_at", "");
    out["cursor"] = w.value("cursor", 0);
    out["head_seq"] = w.value("head_seq", 0);
    if (!w.value("last_error", "").empty()) out["last_error"] = w.value("last_error", "");
    if (agent) out["state"] = w.value("connected", false) ? "live" : w.value("state", "");
  }
  for (const auto& op : all["ops_with_problems"])
    if (op.value("workspace_id", "") == c->local.ws.id && op.value("state", "") == "failed")
      out["failed_writes"].push_back({{"op_id", op.value("op_id", "")}, {"kind", op.value("kind", "")},
                                      {"entity_id", op.value("entity_id", "")}, {"error", op.value("last_error", "")}});
  if (!c->local.online) out["offline_reason"] = c->local.offline_reason;
  return out;
}

Result<json> ListWorkspaces(const Toolbox& tb, const json& args) {
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, false));
  MG_ASSIGN_OR_RETURN(auto list, c->local.replica->Workspaces());
  json out = json::array();
  for (const auto& w : list)
    out.push_back({{"id", w.id}, {"name", w.name}, {"slug", w.slug}, {"type", w.kind}, {"role", w.role},
                   {"current", w.id == c->local.ws.id}});
  return json{{"workspaces", out}, {"current", WorkspaceJson(c->local)}};
}

Result<json> TeamActivity(const Toolbox& tb, const json& args) {
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, false));
  if (!c->local.online)
    return Status::Unavailable("unreachable", "the server cannot be reached (" + c->local.offline_reason +
                                                  "); the team's activity feed lives there. get_recent_activity "
                                                  "answers from this machine's copy");
  std::map<std::string, std::string> q;
  if (args.contains("since")) {
    MG_ASSIGN_OR_RETURN(q["since"], TimeArg("since", Str(args, "since")));
  }
  if (args.contains("user")) {
    MG_ASSIGN_OR_RETURN(json m, FindMember(*c->local.api, c->local.ws, Str(args, "user")));
    q["actor"] = m.value("user_id", "");
  }
  if (args.contains("action")) q["action"] = Str(args, "action");
  if (args.contains("entity_type")) q["entity_type"] = Str(args, "entity_type");
  q["limit"] = std::to_string(Int(args, "limit", 20));
  q["cursor"] = Str(args, "cursor");
  MG_ASSIGN_OR_RETURN(json page, c->local.api->Get("/api/v1/workspaces/" + c->local.ws.id + "/activity" +
                                                   QueryString(q)));
  MemoryTitles titles(c->local.replica.get(), c->local.ws.id);
  json items = json::array();
  for (const auto& e : ArrayField(page, "activity")) {
    json j = e;
    j["sentence"] = ActivitySentence(e, [&titles](const std::string& id) { return titles.Of(id); });
    items.push_back(std::move(j));
  }
  json out = {{"activity", items}, {"count", items.size()}, {"workspace", WorkspaceJson(c->local)}};
  if (page.contains("next_cursor") && page["next_cursor"].is_string()) out["next_cursor"] = page["next_cursor"];
  return out;
}

Result<json> ListConflicts(const Toolbox& tb, const json& args) {
  MG_ASSIGN_OR_RETURN(auto c, tb.Open(args, true));
  std::optional<std::string> memory;
  if (args.contains("memory_id")) memory = MemoryId(args);
  MG_ASSIGN_OR_RETURN(auto all, c->local.replica->ListConflicts(c->local.ws.id, Str(args, "status", "open") == "open",
                                                                memory));
  const int limit = Int(args, "limit", 20), offset = Int(args, "offset", 0);
  json items = json::array();
  for (size_t i = static_cast<size_t>(offset); i < all.size() && items.size() < static_cast<size_t>(limit); ++i)
    items.push_back(all[i].ToJson());
  json out = Page(std::move(items), "conflicts", offset, limit, all.size() > static_cast<size_t>(offset + limit));
  out["total"] = all.size();
  out["workspace"] = WorkspaceJson(c->local);
  return out;
}

}  // namespace

std::vector<mcp::Tool> AssistantTools(const GlobalOptions& base) {
  auto tb = std::make_shared<Toolbox>(base);
  using Handler = Result<json> (*)(const Toolbox&, const json&);
  const std::vector<std::pair<std::string, Handler>> handlers = {
      {"recall_memories", RecallMemories},       {"store_memory", StoreMemory},
      {"get_memory", GetMemory},                 {"search_memories", SearchMemories},
      {"update_memory", UpdateMemory},           {"delete_memory", DeleteMemory},
      {"create_relationship", CreateRelationship}, {"get_related_memories", GetRelatedMemories},
      {"get_recent_activity", RecentActivity},   {"get_memory_statistics", MemoryStatistics},
      {"sync_status", SyncStatusTool},           {"list_workspaces", ListWorkspaces},
      {"team_activity", TeamActivity},           {"list_conflicts", ListConflicts},
  };
  std::vector<mcp::Tool> tools;
  for (const auto& [name, handler] : handlers) {
    mcp::Tool t = ToolSchema(name);
    t.call = [tb, handler = handler](const json& args) { return handler(*tb, args); };
    tools.push_back(std::move(t));
  }
  return tools;
}

}  // namespace mgteam::cli
