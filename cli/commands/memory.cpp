// mgteam memory add|get|list|search|update|delete, mgteam relate,
// mgteam relationship list|get|delete. Local-first (see cli/local.h): reads
// come from the replica, writes go through the outbox; --remote asks the
// server directly.
#include "command_tree.h"
#include "exit_codes.h"
#include "local.h"
#include "memory_ref.h"
#include "mgteam/ids.h"
#include "mgteam/text.h"
#include "mgteam/validate.h"
#include "render.h"
#include "session.h"
#include "titles.h"

#include <sstream>

namespace mgteam::cli {
namespace {

using nlohmann::json;

std::string MemoryPath(const WorkspaceRef& w) { return "/api/v1/workspaces/" + w.id + "/memories"; }

// "--tag a --tag b,c" -> [a, b, c].
std::vector<std::string> SplitTags(const std::vector<std::string>& raw) {
  std::vector<std::string> out;
  for (const auto& r : raw)
    for (auto& part : SplitList(r)) out.push_back(std::move(part));
  return out;
}

// "type problem and tags redis, prod": the filters a listing used.
std::string Describe(const std::string& type, const std::vector<std::string>& tags) {
  std::string out = type.empty() ? "" : "type " + type;
  if (!tags.empty()) out += std::string(out.empty() ? "" : " and ") + (tags.size() == 1 ? "tag " : "tags ");
  for (size_t i = 0; i < tags.size(); ++i) out += (i ? ", " : "") + tags[i];
  return out;
}

struct ContentOpts {
  std::string content;
  std::string content_file;
  bool has_content = false;
};

// Content from --content, --content-file FILE, or --content-file - (stdin).
Result<std::optional<std::string>> ReadContent(const ContentOpts& o) {
  if (!o.content_file.empty()) {
    MG_ASSIGN_OR_RETURN(std::string text, ReadInput(o.content_file));
    return std::optional<std::string>(text);
  }
  if (o.has_content) {
    if (o.content == "-") {
      MG_ASSIGN_OR_RETURN(std::string text, ReadInput("-"));
      return std::optional<std::string>(text);
    }
    return std::optional<std::string>(o.content);
  }
  return std::optional<std::string>();
}

Result<json> ParseContextFlag(const std::string& raw) {
  json ctx = json::parse(raw, nullptr, false);
  if (ctx.is_discarded() || !ctx.is_object())
    return Status::Invalid("invalid_context",
                           "--context must be a JSON object, e.g. '{\"project_path\":\"/src/app\"}'");
  return ctx;
}

// `memory update --context`: the given keys over the current ones, a null
// removing its key (JSON merge patch, one level), so one key can change
// without restating the rest.
json MergeContext(const json& current, const json& given) {
  json out = current.is_object() ? current : json::object();
  for (const auto& [key, value] : given.items()) {
    if (value.is_null()) out.erase(key);
    else out[key] = value;
  }
  return out;
}

std::string SyncMark(const json& m) {
  std::string s = m.value("sync_state", "synced");
  std::string mark = s == "synced" ? "" : " [" + s + "]";
  if (auto c = m.find("open_conflicts"); c != m.end() && c->is_array() && !c->empty()) mark += " [conflict]";
  return mark;
}

void PrintMemory(const json& m) {
  Say(Bold(m.value("title", "")) + "  [" + m.value("type", "") + "]" +
      (m.value("deleted", false) ? "  (deleted)" : ""));
  Say(Dim("id " + m.value("id", "") + "  version " + std::to_string(m.value("version", 0)) +
          "  created " + Ago(m.value("created_at", "")) + ", updated " + Ago(m.value("updated_at", ""))) +
      SyncMark(m));
  std::ostringstream meta;
  meta.precision(2);
  meta << "importance " << m.value("importance", 0.0) << "  confidence " << m.value("confidence", 0.0);
  std::string tags = JoinStrings(m["tags"]);
  Say((tags.empty() ? std::string() : "tags: " + tags + "  ") + meta.str());
  if (m.contains("summary") && m["summary"].is_string()) Say("summary: " + m["summary"].get<std::string>());
  if (m.contains("context") && m["context"].is_object() && !m["context"].empty())
    Say("context: " + m["context"].dump());
  std::string content = m.value("content", "");
  if (!content.empty()) {
    Say("");
    Say(content);
  }
  if (auto c = m.find("open_conflicts"); c != m.end() && c->is_array() && !c->empty()) {
    Say("");
    Say(Bold(std::to_string(c->size()) + " open conflict" + (c->size() == 1 ? "" : "s")) +
        ": a value someone wrote lost a merge and is kept. See: mgteam conflicts show " +
        (*c)[0].get<std::string>().substr(0, 13) + (c->size() > 1 ? "  (mgteam conflicts list --memory " +
                                                                         m.value("id", "") + ")" : ""));
  }
}

// "-> SOLVES  Redis connection timeout  (01a2...)": the other memory by title.
void PrintLinks(const std::vector<agent::MemoryLink>& links) {
  if (links.empty()) return;
  Say("");
  Say(Bold("Relationships"));
  for (const auto& l : links)
    Say((l.outgoing ? "  -> " : "  <- ") + l.relationship.type + "  " + l.other_title + "  " +
        Dim("[" + l.other_type + "] " + l.other_id));
}

// Prints a written entity. Still pending with an agent running: the agent
// sends it later (exit 0); still pending without one: exit 7 ("queued").
Status Report(Session& s, const Status& delivered, const json& entity, bool quiet, const std::string& done_line,
              const std::string& queued_line) {
  if (!delivered.ok() && delivered.reason() != "queued") return delivered;
  bool pending = !delivered.ok() || entity.value("sync_state", "synced") == "pending";
  // --quiet is for scripts: with --json too, the entity on one line.
  if (s.json() && quiet) Say(entity.dump());
  else if (s.json()) PrintJson(entity);
  else if (quiet) Say(entity.value("id", ""));
  else Say(pending ? queued_line : done_line);
  // A queued write's warning is the command's error, printed once by main().
  if (delivered.ok() && pending && !quiet && !s.json()) Note("The agent sends it to the server as soon as it can.");
  return delivered;
}

// After an update the server merged: say which of the values it decided on
// were someone else's, so nothing changes behind the user's back.
void NoteMergeOutcome(agent::Replica& replica, const std::string& ws, const json& m) {
  auto open = replica.ListConflicts(ws, true, m.value("id", ""));
  if (!open.ok()) return;
  const std::string me = replica.user_id();
  for (const auto& c : *open) {
    if (c.memory_version != m.value("version", int64_t{0}) || c.kind != "field") continue;
    bool mine_kept = c.kept_by.user_id == me && c.lost_by.user_id != me;
    Note(c.field + " was changed by someone else too: " +
         (mine_kept ? "yours is in the memory, theirs is kept" : "the later edit (theirs) is in the memory, yours is kept") +
         " in conflict " + c.id.substr(0, 13) + " (mgteam conflicts show " + c.id.substr(0, 13) + ")");
  }
}

void PrintMemoryTable(const json& items) {
  Table t({"ID", "TYPE", "TITLE", "TAGS", "UPDATED"}, {0, 0, 60, 30, 0});
  for (const auto& m : items)
    t.Add({m.value("id", ""), m.value("type", ""),
           m.value("title", "") + (m.value("deleted", false) ? " (deleted)" : "") + SyncMark(m),
           JoinStrings(m["tags"], ","), Ago(m.value("updated_at", ""))});
  t.Print();
}

// Pages through a listing until `limit` items (or all, if `all`).
Result<json> FetchAll(ApiClient& api, const std::string& path, std::map<std::string, std::string> q,
                      const char* key, int limit, bool all) {
  json items = json::array();
  std::string cursor;
  while (true) {
    int remaining = all ? 500 : limit - static_cast<int>(items.size());
    q["limit"] = std::to_string(std::min(remaining, 500));
    q["cursor"] = cursor;
    MG_ASSIGN_OR_RETURN(json page, api.Get(path + QueryString(q)));
    for (auto& x : page[key]) items.push_back(std::move(x));
    if (!page["next_cursor"].is_string()) break;
    if (!all && static_cast<int>(items.size()) >= limit) break;
    cursor = page["next_cursor"].get<std::string>();
  }
  return items;
}

}  // namespace

void AddMemoryCommands(CLI::App& app, Cli& cli) {
  auto* memory = app.add_subcommand("memory", "Add, read, change and delete memories");
  memory->require_subcommand(1);

  struct Opts {
    std::string id, title, type, summary, context;
    ContentOpts content;
    std::vector<std::string> tags, add_tags, remove_tags;
    std::optional<double> importance, confidence;
    bool quiet = false, all = false, include_deleted = false, wait = false, remote = false, replace_context = false;
    int limit = 50;
    int64_t base_version = 0;
  };
  auto o = std::make_shared<Opts>();
  auto content_flags = [o](CLI::App* cmd) {
    cmd->add_option("--content,-c", o->content.content, "The memory's text ('-' reads stdin)")
        ->each([o](const std::string&) { o->content.has_content = true; });
    cmd->add_option("--content-file,-f", o->content.content_file, "Read the text from a file ('-' is stdin)")
        ->type_name(kFileValue);
    cmd->add_option("--summary", o->summary, "A one-line summary (<= 500 characters)");
    cmd->add_option("--importance", o->importance, "0..1 (default 0.5)")->check(UnitInterval());
    cmd->add_option("--confidence", o->confidence, "0..1 (default 0.8)")->check(UnitInterval());
    cmd->add_option("--context", o->context, "A JSON object: project_path, files_involved, ...");
  };

  auto* add = memory->add_subcommand("add", "Record a new memory");
  auto* title_arg = add->add_option("title", o->title, "A short title (1-200 characters)");
  auto* title_flag = add->add_option("--title,-t", o->title, "The title (instead of the positional argument)");
  add->add_option("--type", o->type, "task, code_pattern, problem, solution, project, technology, error, "
                                     "fix, command, file_context, workflow, general, conversation")
      ->default_str("general")
      ->type_name(kMemoryTypeValue);
  add->add_option("--tag", o->tags, "A tag (repeat, or separate with commas)");
  add->add_option("--id", o->id, "Use this UUID as the memory's id");
  add->add_flag("--quiet,-q", o->quiet, "Print only the new memory's id");
  add->add_flag("--wait", o->wait, "Wait until the server has accepted it");
  content_flags(add);
  add->callback([&cli, o, title_arg, title_flag] {
    // No title at all is a usage mistake (exit 2); an empty one given is
    // input the validation refuses (exit 1, too_short) like the server would.
    const bool titled = title_arg->count() + title_flag->count() > 0;
    cli.action = [o, titled](Session& s) -> Status {
      if (!titled)
        return UsageError("give the memory a title: mgteam memory add \"Redis timeouts under load\" --type problem");
      json body = {{"title", o->title}, {"type", o->type.empty() ? "general" : o->type}};
      MG_ASSIGN_OR_RETURN(auto content, ReadContent(o->content));
      if (content) body["content"] = *content;
      if (!o->summary.empty()) body["summary"] = o->summary;
      if (!o->tags.empty()) body["tags"] = SplitTags(o->tags);
      if (o->importance) body["importance"] = *o->importance;
      if (o->confidence) body["confidence"] = *o->confidence;
      if (!o->context.empty()) {
        MG_ASSIGN_OR_RETURN(body["context"], ParseContextFlag(o->context));
      }
      if (!o->id.empty()) body["id"] = o->id;
      // The same rules as the server's, before anything leaves this machine.
      MG_ASSIGN_OR_RETURN(Memory draft, ParseMemoryCreate(body));
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, false));
      std::string op;
      MG_ASSIGN_OR_RETURN(auto m, l.replica->CreateMemory(l.ws.id, draft, &op));
      Status delivered = Deliver(s, l, op, o->wait);
      auto now = l.replica->GetMemory(l.ws.id, m.memory.id);
      json j = now.ok() && *now ? (*now)->ToJson() : m.ToJson();
      return Report(s, delivered, j, o->quiet,
                    "Added memory " + m.memory.id + " \"" + m.memory.title + "\" to " + l.ws.name,
                    "Saved memory " + m.memory.id + " \"" + m.memory.title + "\" locally (not yet on the server)");
    };
  });

  auto* get = memory->add_subcommand("get", "Show one memory");
  get->add_option("id", o->id, "The memory's id (or a unique prefix)")->required()->type_name(kMemoryIdValue);
  get->add_flag("--include-deleted", o->include_deleted, "Show it even if deleted");
  get->add_flag("--remote", o->remote, "Ask the server instead of the local copy");
  get->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      json m;
      if (o->remote) {
        MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
        MG_ASSIGN_OR_RETURN(WorkspaceRef ws, s.Workspace(api));
        MG_ASSIGN_OR_RETURN(m, api.Get(MemoryPath(ws) + "/" + UrlEncode(o->id) +
                                       (o->include_deleted ? "?include_deleted=true" : "")));
      } else {
        MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
        NoteIfOffline(l);
        MG_ASSIGN_OR_RETURN(std::string id, ResolveMemoryId(l, o->id, o->include_deleted));
        MG_ASSIGN_OR_RETURN(auto found, l.replica->GetMemory(l.ws.id, id));
        if (!found || (found->memory.deleted && !o->include_deleted))
          return Status::NotFound("no memory " + o->id + " in " + l.ws.name);
        m = found->ToJson();
        if (!s.json()) {
          PrintMemory(m);
          MG_ASSIGN_OR_RETURN(auto links, l.replica->Links(l.ws.id, id, 50));
          PrintLinks(links);
          return Status::Ok();
        }
      }
      if (s.json()) PrintJson(m);
      else PrintMemory(m);
      return Status::Ok();
    };
  });

  auto* list = memory->add_subcommand("list", "List memories, newest first");
  list->add_option("--type", o->type, "Only this type")->type_name(kMemoryTypeValue);
  list->add_option("--tag", o->tags, "Only memories with this tag (repeat, or separate with commas: all of them)");
  list->add_option("--limit,-n", o->limit, "At most this many (default 50)")->check(CLI::Range(1, 100000));
  list->add_flag("--all", o->all, "Every memory (pages through the whole workspace)");
  list->add_flag("--include-deleted", o->include_deleted, "Include deleted ones");
  list->add_flag("--remote", o->remote, "Ask the server instead of the local copy");
  list->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      json items = json::array();
      std::string ws_name;
      if (o->remote) {
        MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
        MG_ASSIGN_OR_RETURN(WorkspaceRef ws, s.Workspace(api));
        ws_name = ws.name;
        std::map<std::string, std::string> q;
        q["type"] = o->type;
        if (!o->tags.empty()) q["tag"] = JoinStrings(json(SplitTags(o->tags)), ",");
        if (o->include_deleted) q["include_deleted"] = "true";
        MG_ASSIGN_OR_RETURN(items, FetchAll(api, MemoryPath(ws), q, "memories", o->limit, o->all));
      } else {
        MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
        NoteIfOffline(l);
        ws_name = l.ws.name;
        agent::MemoryFilter f;
        f.workspace_id = l.ws.id;
        if (!o->type.empty()) f.type = o->type;
        MG_ASSIGN_OR_RETURN(f.tags, NormalizeTags(SplitTags(o->tags)));
        f.include_deleted = o->include_deleted;
        f.limit = o->all ? 1 << 30 : o->limit;
        MG_ASSIGN_OR_RETURN(auto rows, l.replica->ListMemories(f));
        for (const auto& m : rows) items.push_back(m.ToJson());
      }
      if (s.json()) {
        PrintJson(items);
        return Status::Ok();
      }
      if (items.empty()) {
        if (o->type.empty() && o->tags.empty())
          Say("No memories in " + ws_name + " yet. Add one: mgteam memory add \"What I learned\" --type solution");
        else
          Say("No memories in " + ws_name + " match " + Describe(o->type, SplitTags(o->tags)) +
              ". Without filters: mgteam memory list");
        return Status::Ok();
      }
      PrintMemoryTable(items);
      return Status::Ok();
    };
  });

  auto query = std::make_shared<std::string>();
  auto* search = memory->add_subcommand("search", "Full-text search of the local copy, best match first");
  search->add_option("query", *query, "Words to look for (the last one may be a prefix)")->required();
  search->add_option("--limit,-n", o->limit, "At most this many (default 50)")->check(CLI::Range(1, 10000));
  search->callback([&cli, o, query] {
    cli.action = [o, query](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      NoteIfOffline(l);
      MG_ASSIGN_OR_RETURN(auto rows, l.replica->Search(l.ws.id, *query, o->limit));
      json items = json::array();
      for (const auto& m : rows) items.push_back(m.ToJson());
      if (s.json()) {
        PrintJson(items);
        return Status::Ok();
      }
      if (items.empty()) {
        Say("Nothing in " + l.ws.name + " matches '" + *query + "'.");
        return Status::Ok();
      }
      PrintMemoryTable(items);
      return Status::Ok();
    };
  });

  auto depth = std::make_shared<int>(2);
  auto types = std::make_shared<std::vector<std::string>>();
  auto* related = memory->add_subcommand("related", "Memories linked to one, over up to 5 hops, with their paths");
  related->add_option("id", o->id, "The memory to start from (id or a unique prefix)")->required()->type_name(kMemoryIdValue);
  related->add_option("--depth,-d", *depth, "How many hops (1-5, default 2)")->check(CLI::Range(1, 5));
  related->add_option("--type", *types, "Follow only this relationship type (repeat for more)")
      ->transform(UpperCase)
      ->check([](const std::string& t) {
        return IsRelationshipType(t) ? std::string() : t + " is not a relationship type (SOLVES, CAUSES, RELATED_TO, ...)";
      })
      ->type_name(kRelationshipTypeValue);
  related->add_option("--limit,-n", o->limit, "At most this many (default 50)")->check(CLI::Range(1, 100000));
  related->callback([&cli, o, depth, types] {
    cli.action = [o, depth, types](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      NoteIfOffline(l);
      MG_ASSIGN_OR_RETURN(std::string id, ResolveMemoryId(l, o->id));
      MG_ASSIGN_OR_RETURN(auto found, l.replica->Related(l.ws.id, id, *depth, *types, o->limit, 0));
      if (s.json()) {
        json items = json::array();
        for (const auto& r : found.items) items.push_back(r.ToJson());
        PrintJson(items);
        return Status::Ok();
      }
      if (found.items.empty()) {
        Say("Nothing is linked to " + o->id + (types->empty() ? "" : " that way") + " within " +
            std::to_string(*depth) + " hop" + (*depth == 1 ? "" : "s") + ". Link memories: mgteam relate FROM TO --type SOLVES");
        return Status::Ok();
      }
      // The path from the start: "<- SOLVES <- BUILDS_ON" (arrows in each
      // relationship's own direction).
      Table t({"DEPTH", "PATH", "ID", "TYPE", "TITLE"}, {0, 50, 0, 0, 60});
      for (const auto& r : found.items) {
        std::string path, at = id;
        for (const auto& step : r.path) {
          bool forward = step.from_memory_id == at;
          path += (path.empty() ? "" : " ") + std::string(forward ? "-> " : "<- ") + step.type;
          at = forward ? step.to_memory_id : step.from_memory_id;
        }
        t.Add({std::to_string(r.depth), path, r.memory.memory.id, r.memory.memory.type, r.memory.memory.title});
      }
      t.Print();
      if (found.total > static_cast<int64_t>(found.items.size()))
        Note(std::to_string(found.total - static_cast<int64_t>(found.items.size())) + " more; raise --limit");
      return Status::Ok();
    };
  });

  auto* update = memory->add_subcommand("update", "Change fields of a memory");
  update->add_option("id", o->id, "The memory's id (or a unique prefix)")->required()->type_name(kMemoryIdValue);
  update->add_option("--title,-t", o->title, "New title");
  update->add_option("--type", o->type, "New type")->type_name(kMemoryTypeValue);
  update->add_option("--tag", o->tags, "Replace all tags with these");
  update->add_option("--add-tag", o->add_tags, "Add a tag");
  update->add_option("--remove-tag", o->remove_tags, "Remove a tag");
  update->add_option("--base-version", o->base_version,
                     "The version this edit is based on (default: the one in the local copy); edits made since are merged");
  content_flags(update);
  update->add_flag("--replace-context", o->replace_context,
                   "--context replaces the whole context (by default its keys are merged in, null removes one)");
  update->add_flag("--wait", o->wait, "Wait until the server has accepted the change");
  update->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      MG_ASSIGN_OR_RETURN(std::string id, ResolveMemoryId(l, o->id, true));
      MG_ASSIGN_OR_RETURN(auto found, l.replica->GetMemory(l.ws.id, id));
      if (!found) return Status::NotFound("no memory " + o->id + " in " + l.ws.name);
      // Deleted: the replica refuses the edit and says why (a conflict, exit 6).
      if (found->memory.deleted) return l.replica->UpdateMemory(l.ws.id, id, MemoryPatch{}).status();
      const Memory& current = found->memory;
      json body = json::object();
      if (o->base_version > 0) body["base_version"] = o->base_version;
      if (!o->title.empty()) body["title"] = o->title;
      if (!o->type.empty()) body["type"] = o->type;
      MG_ASSIGN_OR_RETURN(auto content, ReadContent(o->content));
      if (content) body["content"] = *content;
      if (!o->summary.empty()) body["summary"] = o->summary;
      if (o->importance) body["importance"] = *o->importance;
      if (o->confidence) body["confidence"] = *o->confidence;
      if (!o->context.empty()) {
        MG_ASSIGN_OR_RETURN(json given, ParseContextFlag(o->context));
        body["context"] = o->replace_context ? given : MergeContext(current.context, given);
      }
      if (!o->tags.empty() || !o->add_tags.empty() || !o->remove_tags.empty()) {
        std::vector<std::string> tags = o->tags.empty() ? current.tags : SplitTags(o->tags);
        for (const auto& t : SplitTags(o->add_tags)) tags.push_back(t);
        MG_ASSIGN_OR_RETURN(auto removed, NormalizeTags(SplitTags(o->remove_tags)));
        MG_ASSIGN_OR_RETURN(auto normal, NormalizeTags(tags));
        std::erase_if(normal, [&](const std::string& t) {
          return std::find(removed.begin(), removed.end(), t) != removed.end();
        });
        body["tags"] = normal;
      }
      MG_ASSIGN_OR_RETURN(MemoryPatch patch, ParseMemoryPatch(body));
      Memory next = current;
      ApplyPatch(next, patch);
      if (next.ToJson() == current.ToJson() && !patch.base_version) {
        if (s.json()) PrintJson(found->ToJson());
        else Say("Nothing changed");
        return Status::Ok();
      }
      std::string op;
      MG_ASSIGN_OR_RETURN(auto m, l.replica->UpdateMemory(l.ws.id, id, patch, &op));
      Status delivered = Deliver(s, l, op, o->wait);
      auto now = l.replica->GetMemory(l.ws.id, id);
      json j = now.ok() && *now ? (*now)->ToJson() : m.ToJson();
      if (delivered.ok() && j.value("sync_state", "") == "synced") {
        if (j.value("deleted", false))
          return Status::Conflict("memory_deleted", "someone deleted this memory first; your edit is kept: "
                                                    "mgteam conflicts list shows it, and resolving it with "
                                                    "--keep lost restores the memory with your edit");
        NoteMergeOutcome(*l.replica, l.ws.id, j);
      }
      return Report(s, delivered, j, false,
                    "Updated memory " + id + " (version " + std::to_string(j.value("version", 0)) + ")",
                    "Updated memory " + id + " locally (not yet on the server)");
    };
  });

  auto* del = memory->add_subcommand("delete", "Delete a memory (and its relationships)");
  del->add_option("id", o->id, "The memory's id (or a unique prefix)")->required()->type_name(kMemoryIdValue);
  del->add_flag("--wait", o->wait, "Wait until the server has accepted the change");
  del->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      MG_ASSIGN_OR_RETURN(std::string id, ResolveMemoryId(l, o->id));
      std::string op;
      MG_ASSIGN_OR_RETURN(auto m, l.replica->DeleteMemory(l.ws.id, id, &op));
      Status delivered = Deliver(s, l, op, o->wait);
      auto now = l.replica->GetMemory(l.ws.id, id);
      return Report(s, delivered, now.ok() && *now ? (*now)->ToJson() : m.ToJson(), false,
                    "Deleted memory " + id + " \"" + m.memory.title + "\"",
                    "Deleted memory " + id + " locally (not yet on the server)");
    };
  });
}

void AddRelationshipCommands(CLI::App& app, Cli& cli) {
  struct Opts {
    std::string from, to, type, context, id, memory;
    std::optional<double> strength, confidence;
    int limit = 50;
    bool all = false, include_deleted = false, quiet = false, wait = false;
  };
  auto o = std::make_shared<Opts>();

  auto* relate = app.add_subcommand("relate", "Link two memories: mgteam relate FROM TO --type SOLVES");
  relate->add_option("from", o->from, "The memory the relationship starts at (id or a unique prefix)")
      ->required()
      ->type_name(kMemoryIdValue);
  relate->add_option("to", o->to, "The memory it points to (id or a unique prefix)")->required()->type_name(kMemoryIdValue);
  relate->add_option("--type", o->type, "One of the 35 relationship types (SOLVES, CAUSES, RELATED_TO, ...)")
      ->required()
      ->transform(UpperCase)
      ->type_name(kRelationshipTypeValue);
  relate->add_option("--strength", o->strength, "0..1 (default 0.5)")->check(UnitInterval());
  relate->add_option("--confidence", o->confidence, "0..1 (default 0.8)")->check(UnitInterval());
  relate->add_option("--context", o->context, "A note on why they are related");
  relate->add_flag("--quiet,-q", o->quiet, "Print only the new relationship's id");
  relate->add_flag("--wait", o->wait, "Wait until the server has accepted it");
  relate->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      MG_ASSIGN_OR_RETURN(std::string from, ResolveMemoryId(l, o->from));
      MG_ASSIGN_OR_RETURN(std::string to, ResolveMemoryId(l, o->to));
      json body = {{"from_memory_id", from}, {"to_memory_id", to}, {"type", o->type}};
      if (o->strength) body["strength"] = *o->strength;
      if (o->confidence) body["confidence"] = *o->confidence;
      if (!o->context.empty()) body["context"] = o->context;
      MG_ASSIGN_OR_RETURN(Relationship draft, ParseRelationshipCreate(body));
      std::string op;
      MG_ASSIGN_OR_RETURN(auto r, l.replica->CreateRelationship(l.ws.id, draft, &op));
      Status delivered = Deliver(s, l, op, o->wait);
      auto now = l.replica->GetRelationship(l.ws.id, r.relationship.id);
      json j = now.ok() && *now ? (*now)->ToJson() : r.ToJson();
      MemoryTitles titles(l.replica.get(), l.ws.id);
      std::string line = titles.Of(from) + " " + r.relationship.type + " " + titles.Of(to) + " (relationship " +
                         r.relationship.id + ")";
      return Report(s, delivered, j, o->quiet, "Related " + line, "Related " + line + " locally (not yet on the server)");
    };
  });

  auto* rel = app.add_subcommand("relationship", "List, show and delete relationships");
  rel->require_subcommand(1);

  auto* list = rel->add_subcommand("list", "List relationships, newest first");
  list->add_option("--memory", o->memory, "Only those touching this memory")->type_name(kMemoryIdValue);
  list->add_option("--type", o->type, "Only this type")->transform(UpperCase)->type_name(kRelationshipTypeValue);
  list->add_option("--limit,-n", o->limit, "At most this many (default 50)")->check(CLI::Range(1, 100000));
  list->add_flag("--all", o->all, "All of them");
  list->add_flag("--include-deleted", o->include_deleted, "Include deleted ones");
  list->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      NoteIfOffline(l);
      std::optional<std::string> memory, type;
      if (!o->memory.empty()) {
        MG_ASSIGN_OR_RETURN(memory, ResolveMemoryId(l, o->memory, o->include_deleted));
      }
      if (!o->type.empty()) type = o->type;
      MG_ASSIGN_OR_RETURN(auto rows, l.replica->ListRelationships(l.ws.id, memory, type, o->include_deleted,
                                                                  o->all ? 1 << 30 : o->limit));
      json items = json::array();
      for (const auto& r : rows) items.push_back(r.ToJson());
      if (s.json()) {
        PrintJson(items);
        return Status::Ok();
      }
      if (items.empty()) {
        Say("No relationships. Link two memories: mgteam relate FROM TO --type SOLVES");
        return Status::Ok();
      }
      MemoryTitles titles(l.replica.get(), l.ws.id);
      Table t({"ID", "FROM", "TYPE", "TO", "STRENGTH", "CREATED"}, {0, 40, 0, 40, 0, 0});
      for (const auto& r : items) {
        std::ostringstream strength;
        strength.precision(2);
        strength << r.value("strength", 0.0);
        t.Add({r.value("id", ""), titles.Of(r.value("from_memory_id", "")),
               r.value("type", "") + (r.value("deleted", false) ? " (deleted)" : ""),
               titles.Of(r.value("to_memory_id", "")), strength.str(), Ago(r.value("created_at", ""))});
      }
      t.Print();
      return Status::Ok();
    };
  });

  auto* get = rel->add_subcommand("get", "Show one relationship");
  get->add_option("id", o->id, "The relationship's id")->required();
  get->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      NoteIfOffline(l);
      MG_ASSIGN_OR_RETURN(auto found, l.replica->GetRelationship(l.ws.id, NormalizeUuid(o->id).value_or(o->id)));
      if (!found || found->relationship.deleted) return Status::NotFound("no relationship " + o->id + " in " + l.ws.name);
      json r = found->ToJson();
      if (s.json()) {
        PrintJson(r);
        return Status::Ok();
      }
      MemoryTitles titles(l.replica.get(), l.ws.id);
      Say(titles.Of(r.value("from_memory_id", "")) + " " + Bold(r.value("type", "")) + " " +
          titles.Of(r.value("to_memory_id", "")));
      Say(Dim("from " + r.value("from_memory_id", "") + "  to " + r.value("to_memory_id", "")));
      Say(Dim("id " + r.value("id", "") + "  version " + std::to_string(r.value("version", 0)) +
              "  created " + Ago(r.value("created_at", ""))));
      if (r["context"].is_string()) Say("context: " + r["context"].get<std::string>());
      return Status::Ok();
    };
  });

  auto* del = rel->add_subcommand("delete", "Delete a relationship");
  del->add_option("id", o->id, "The relationship's id")->required();
  del->add_flag("--wait", o->wait, "Wait until the server has accepted the change");
  del->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      std::string op;
      MG_ASSIGN_OR_RETURN(auto r, l.replica->DeleteRelationship(l.ws.id, NormalizeUuid(o->id).value_or(o->id), &op));
      Status delivered = Deliver(s, l, op, o->wait);
      return Report(s, delivered, r.ToJson(), false, "Deleted relationship " + r.relationship.id,
                    "Deleted relationship " + r.relationship.id + " locally (not yet on the server)");
    };
  });
}

}  // namespace mgteam::cli
