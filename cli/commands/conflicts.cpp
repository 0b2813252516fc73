// mgteam conflicts list|show|resolve (docs/conflicts.md). Lists read the
// replica (the server's log brings conflict records there); resolving is a
// server call, an ordinary versioned update of the memory.
#include "command_tree.h"
#include "local.h"
#include "memory_ref.h"
#include "mgteam/ids.h"
#include "mgteam/merge.h"
#include "render.h"
#include "session.h"
#include "sync.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace mgteam::cli {
namespace {

using nlohmann::json;

std::string Who(const EditStamp& s, const std::string& me) {
  if (s.user_id == me) return "you";
  if (!s.name.empty()) return s.name;
  return s.user_id.substr(0, 8);
}

// A value as a person reads it: text as it is, anything else as JSON.
std::string Show(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "(none)";
  return v.dump();
}

std::string OneLine(const json& v, size_t max) {
  std::string s = Show(v);
  for (char& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  return s.size() > max ? s.substr(0, max - 3) + "..." : s;
}

std::string What(const Conflict& c) {
  if (c.kind == "update_after_delete") return "edit after delete";
  if (c.kind == "delete_over_update") return "delete over edits";
  return c.field;
}

// Full id, or a unique prefix of one in the replica.
Result<Conflict> FindConflict(Local& l, const std::string& ref) {
  if (auto id = NormalizeUuid(ref)) {
    MG_ASSIGN_OR_RETURN(auto c, l.replica->GetConflict(l.ws.id, *id));
    if (c) return *c;
  }
  MG_ASSIGN_OR_RETURN(auto all, l.replica->ListConflicts(l.ws.id, false));
  std::vector<Conflict> hits;
  for (auto& c : all)
    if (ref.size() >= 4 && c.id.rfind(ref, 0) == 0) hits.push_back(c);
  if (hits.size() == 1) return hits.front();
  if (hits.size() > 1) return Status::Invalid("ambiguous_id", "'" + ref + "' matches several conflicts; give more of the id");
  return Status::NotFound("no conflict " + ref + " in " + l.ws.name);
}

void PrintConflict(const Conflict& c, const std::string& me) {
  Say(Bold(What(c)) + " of \"" + c.title + "\"" + (c.status == "open" ? "" : "  (resolved: " + c.resolution + ")"));
  Say(Dim("conflict " + c.id + "  memory " + c.memory_id + "  " + Ago(c.created_at)));
  Say("");
  if (c.kind == "field") {
    Say("in the memory (" + Who(c.kept_by, me) + ", " + Ago(c.kept_by.edited_at) + "):");
    Say("  " + Show(c.kept));
    Say("lost (" + Who(c.lost_by, me) + ", " + Ago(c.lost_by.edited_at) + "):");
    Say("  " + Show(c.lost));
  } else if (c.kind == "update_after_delete") {
    Say(Who(c.kept_by, me) + " deleted the memory; this edit by " + Who(c.lost_by, me) + " came after:");
    Say("  " + c.lost.dump());
  } else {
    Say(Who(c.kept_by, me) + " deleted the memory without seeing the edits of " + Who(c.lost_by, me) +
        "; the memory as it was:");
    Say("  " + OneLine(c.lost.value("title", json()), 200) + ": " + OneLine(c.lost.value("content", json()), 200));
  }
  if (c.status == "open") {
    Say("");
    Say(Dim(c.kind == "field" ? "keep it: mgteam conflicts resolve " + c.id.substr(0, 13) +
                                    " --keep current; restore the lost value: --keep lost; or --edit"
                              : "leave it deleted: mgteam conflicts resolve " + c.id.substr(0, 13) +
                                    " --keep current; restore the memory: --keep lost"));
  }
}

// Opens $VISUAL/$EDITOR on both values, git-style; returns what was saved.
Result<std::string> EditBoth(const Conflict& c, const std::string& me) {
  if (!c.kept.is_string() || !c.lost.is_string())
    return Status::Invalid("not_text", "--edit works on text fields; use --value for " + c.field);
  char path[] = "/tmp/mgteam-conflict-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return Status::Internal("cannot create a temporary file");
  ::close(fd);
  {
    std::ofstream f(path);
    f << "<<<<<<< in the memory (" << Who(c.kept_by, me) << ")\n"
      << c.kept.get<std::string>() << "\n=======\n"
      << c.lost.get<std::string>() << "\n>>>>>>> lost (" << Who(c.lost_by, me) << ")\n";
  }
  const char* editor = std::getenv("VISUAL");
  if (!editor || !*editor) editor = std::getenv("EDITOR");
  std::string cmd = std::string(editor && *editor ? editor : "vi") + " '" + path + "'";
  int rc = std::system(cmd.c_str());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  ::unlink(path);
  if (rc != 0) return Status::Invalid("editor_failed", "the editor exited with an error; nothing changed");
  std::string out = text.str();
  for (const char* marker : {"<<<<<<<", "=======", ">>>>>>>"})
    if (out.find(marker) != std::string::npos)
      return Status::Invalid("markers_left", "remove the <<<<<<< ======= >>>>>>> lines, keeping the text you want");
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (out.empty()) return Status::Invalid("empty_value", "the edited value is empty; nothing changed");
  return out;
}

// --value TEXT for a field: text fields take it as it is; numbers and
// context values are read as JSON when they parse.
json ValueFor(const Conflict& c, const std::string& raw) {
  if (c.kind != "field") return json::parse(raw, nullptr, false);
  if (c.kept.is_string() || c.lost.is_string()) return raw;
  json j = json::parse(raw, nullptr, false);
  return j.is_discarded() ? json(raw) : j;
}

}  // namespace

void AddConflictCommands(CLI::App& app, Cli& cli) {
  auto* conflicts = app.add_subcommand("conflicts", "Values that lost a merge, and restoring them");
  conflicts->require_subcommand(1);
  struct Opts {
    std::string id, memory, keep, value;
    bool all = false, edit = false;
  };
  auto o = std::make_shared<Opts>();

  auto* list = conflicts->add_subcommand("list", "Open conflicts in the workspace, newest first");
  list->add_flag("--all", o->all, "Resolved ones too");
  list->add_option("--memory", o->memory, "Only this memory's")->type_name(kMemoryIdValue);
  list->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      NoteIfOffline(l);
      std::optional<std::string> memory;
      if (!o->memory.empty()) {
        MG_ASSIGN_OR_RETURN(memory, ResolveMemoryId(l, o->memory, true));
      }
      MG_ASSIGN_OR_RETURN(auto rows, l.replica->ListConflicts(l.ws.id, !o->all, memory));
      if (s.json()) {
        json out = json::array();
        for (const auto& c : rows) out.push_back(c.ToJson());
        PrintJson(out);
        return Status::Ok();
      }
      if (rows.empty()) {
        Say(o->all ? "No conflicts in " + l.ws.name + "." : "No open conflicts in " + l.ws.name + ".");
        return Status::Ok();
      }
      const std::string me = l.replica->user_id();
      Table t({"ID", "MEMORY", "WHAT", "LOST VALUE", "LOST BY", "KEPT BY", "WHEN"}, {13, 40, 20, 40, 16, 16, 0});
      for (const auto& c : rows)
        t.Add({c.id.substr(0, 13), c.title, What(c) + (c.status == "open" ? "" : " (resolved)"),
               OneLine(c.kind == "field" ? c.lost : json(c.kind == "update_after_delete" ? "an edit" : "edits"), 40),
               Who(c.lost_by, me), Who(c.kept_by, me), Ago(c.created_at)});
      t.Print();
      return Status::Ok();
    };
  });

  auto* show = conflicts->add_subcommand("show", "Both values of one conflict, and who wrote them");
  show->add_option("id", o->id, "The conflict's id (or a unique prefix)")->required();
  show->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      NoteIfOffline(l);
      MG_ASSIGN_OR_RETURN(Conflict c, FindConflict(l, o->id));
      if (s.json()) PrintJson(c.ToJson());
      else PrintConflict(c, l.replica->user_id());
      return Status::Ok();
    };
  });

  auto* resolve = conflicts->add_subcommand("resolve", "Keep the current value, restore the lost one, or edit");
  resolve->add_option("id", o->id, "The conflict's id (or a unique prefix)")->required();
  resolve->add_option("--keep", o->keep,
                      "current (leave the memory as it is), lost (restore the value that lost), "
                      "mine or theirs (by who wrote it)")
      ->check(CLI::IsMember({"current", "lost", "mine", "theirs"}));
  resolve->add_option("--value", o->value, "Put this value in instead");
  resolve->add_flag("--edit", o->edit, "Edit both values in $EDITOR and keep what you save");
  resolve->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      int ways = !o->keep.empty() + !o->value.empty() + o->edit;
      if (ways != 1) return Status::Invalid("usage", "say how to resolve it: --keep, --value or --edit (one of them)");
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      MG_ASSIGN_OR_RETURN(Conflict c, FindConflict(l, o->id));
      if (c.status != "open") return Status::Conflict("conflict_resolved", "conflict " + c.id + " was already resolved");
      const std::string me = l.replica->user_id();
      json body;
      if (o->keep == "mine" || o->keep == "theirs") {
        bool lost_mine = c.lost_by.user_id == me, kept_mine = c.kept_by.user_id == me;
        if (lost_mine == kept_mine)
          return Status::Invalid("ambiguous_keep", std::string(lost_mine ? "you made both edits" : "you made neither edit") +
                                                       "; say --keep current or --keep lost");
        bool want_lost = (o->keep == "mine") == lost_mine;
        body = {{"keep", want_lost ? "lost" : "current"}};
      } else if (!o->keep.empty()) {
        body = {{"keep", o->keep}};
      } else if (o->edit) {
        if (c.kind != "field") return Status::Invalid("usage", "--edit works on field conflicts; use --keep");
        MG_ASSIGN_OR_RETURN(std::string text, EditBoth(c, me));
        body = {{"keep", "value"}, {"value", text}};
      } else {
        json v = ValueFor(c, o->value);
        if (v.is_discarded()) return Status::Invalid("usage", "--value must be a JSON object of fields for this conflict");
        body = {{"keep", "value"}, {"value", v}};
      }
      if (!l.online || !l.api) return Status::Unavailable("offline", "resolving needs the server: " + l.offline_reason);
      MG_ASSIGN_OR_RETURN(json done, l.api->Post("/api/v1/workspaces/" + l.ws.id + "/conflicts/" + c.id, body,
                                                 NewUuidV7()));
      // Bring the replica up to date now unless an agent does it anyway.
      // The resolution is on the server either way; a failed catch-up only
      // leaves the local copy behind until the next sync.
      if (!l.agent_running) {
        if (Status caught = agent::CatchUp(*l.api, *l.replica, l.ws.id); !caught.ok())
          Note("resolved, but the local copy is not updated yet (" + caught.message() + "); `mgteam sync now` retries");
      }
      if (s.json()) {
        PrintJson(done);
        return Status::Ok();
      }
      const json& m = done["memory"];
      std::string kept = body["keep"];
      if (kept == "current") Say("Resolved: kept what is in \"" + m.value("title", "") + "\".");
      else if (c.kind == "field") Say("Resolved: " + c.field + " of \"" + m.value("title", "") + "\" is now \"" +
                                      OneLine(FieldValue(*Memory::FromJson(m), c.field), 80) + "\" (version " +
                                      std::to_string(m.value("version", 0)) + ").");
      else Say("Resolved: restored \"" + m.value("title", "") + "\" (version " + std::to_string(m.value("version", 0)) + ").");
      return Status::Ok();
    };
  });
}

}  // namespace mgteam::cli
