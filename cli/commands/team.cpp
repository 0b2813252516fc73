// mgteam team create|list|show|rename|delete, mgteam workspace list|use|show.
#include "command_tree.h"
#include "render.h"
#include "session.h"

#include <iostream>

namespace mgteam::cli {
namespace {

void PrintWorkspace(const nlohmann::json& w) {
  Say(Bold(w.value("name", "")) + "  (" + w.value("type", "") + ")");
  Say("  id       " + w.value("id", ""));
  Say("  slug     " + w.value("slug", ""));
  Say("  role     " + w.value("role", ""));
  if (w.contains("member_count")) Say("  members  " + std::to_string(w.value("member_count", 0)));
  Say("  events   " + std::to_string(w.value("head_seq", 0)));
  Say("  created  " + Ago(w.value("created_at", "")));
}

Status ListWorkspaces(Session& s, bool teams_only) {
  MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
  MG_ASSIGN_OR_RETURN(nlohmann::json r, api.Get("/api/v1/workspaces"));
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& w : r["workspaces"])
    if (!teams_only || w.value("type", "") == "team") rows.push_back(w);
  if (s.json()) {
    PrintJson(rows);
    return Status::Ok();
  }
  std::string current;
  if (!teams_only) {
    auto ws = s.Workspace(api);
    if (ws.ok()) current = ws->id;
  }
  if (rows.empty()) {
    Say(teams_only ? "You are in no team yet. Create one: mgteam team create NAME" : "No workspaces.");
    return Status::Ok();
  }
  Table t(teams_only ? std::vector<std::string>{"NAME", "SLUG", "ROLE", "ID"}
                     : std::vector<std::string>{"", "NAME", "TYPE", "SLUG", "ROLE", "ID"},
          {});
  for (const auto& w : rows) {
    if (teams_only)
      t.Add({w.value("name", ""), w.value("slug", ""), w.value("role", ""), w.value("id", "")});
    else
      t.Add({w.value("id", "") == current ? "*" : "", w.value("name", ""), w.value("type", ""),
             w.value("slug", ""), w.value("role", ""), w.value("id", "")});
  }
  t.Print();
  return Status::Ok();
}

}  // namespace

void AddTeamCommands(CLI::App& app, Cli& cli) {
  auto* team = app.add_subcommand("team", "Create and manage teams");
  team->require_subcommand(1);
  AddTransferCommand(*team, cli);
  struct Opts {
    std::string team, name, slug;
    bool yes = false;
  };
  auto o = std::make_shared<Opts>();

  auto* create = team->add_subcommand("create", "Create a team (you become its owner)");
  create->add_option("name", o->name, "The team's name")->required();
  create->add_option("--slug", o->slug, "URL-friendly short name (default: made from the name)");
  create->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      nlohmann::json body = {{"name", o->name}};
      if (!o->slug.empty()) body["slug"] = o->slug;
      MG_ASSIGN_OR_RETURN(nlohmann::json w, api.Post("/api/v1/teams", body, NewIdempotencyKey()));
      if (s.json()) {
        PrintJson(w);
        return Status::Ok();
      }
      Say("Created team " + Bold(w.value("name", "")) + " (slug " + w.value("slug", "") + ", id " +
          w.value("id", "") + ")");
      Say("Make it your default workspace: mgteam workspace use " + w.value("slug", ""));
      return Status::Ok();
    };
  });

  auto* list = team->add_subcommand("list", "List the teams you belong to");
  list->callback([&cli] { cli.action = [](Session& s) { return ListWorkspaces(s, true); }; });

  auto* show = team->add_subcommand("show", "Show a team (default: the current workspace)");
  show->add_option("team", o->team, "Team id, slug or name");
  show->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef ref, s.Team(api, o->team));
      MG_ASSIGN_OR_RETURN(nlohmann::json w, api.Get("/api/v1/teams/" + ref.id));
      if (s.json()) PrintJson(w);
      else PrintWorkspace(w);
      return Status::Ok();
    };
  });

  auto* rename = team->add_subcommand("rename", "Rename a team");
  rename->add_option("team", o->team, "Team id, slug or name")->required();
  rename->add_option("name", o->name, "The new name")->required();
  rename->add_option("--slug", o->slug, "Also change the slug");
  rename->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef ref, s.Team(api, o->team));
      nlohmann::json body = {{"name", o->name}};
      if (!o->slug.empty()) body["slug"] = o->slug;
      MG_ASSIGN_OR_RETURN(nlohmann::json w,
                          api.Patch("/api/v1/teams/" + ref.id, body, NewIdempotencyKey()));
      MG_ASSIGN_OR_RETURN(CliConfig * c, s.Config());
      if (c->workspace == ref.id) {  // the name it is remembered by
        c->ChooseWorkspace(ref.id, w.value("name", ""));
        MG_RETURN_IF_ERROR(c->SaveConfig());
      }
      if (s.json()) PrintJson(w);
      else Say("Renamed team to " + Bold(w.value("name", "")) + " (slug " + w.value("slug", "") + ")");
      return Status::Ok();
    };
  });

  auto* del = team->add_subcommand("delete", "Delete a team and all its memories");
  del->add_option("team", o->team, "Team id, slug or name")->required();
  del->add_flag("--yes,-y", o->yes, "Do not ask for confirmation");
  del->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef ref, s.Team(api, o->team));
      if (!o->yes) {
        if (!StdinIsTty())
          return Status::Invalid("confirmation_needed",
                                 "deleting a team cannot be undone; add --yes to confirm");
        std::cerr << "This deletes team '" << ref.name << "' and every memory in it for everyone.\n"
                  << "Type the team's slug (" << ref.slug << ") to confirm: " << std::flush;
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != ref.slug) return Status::Invalid("not_confirmed", "not deleted");
      }
      MG_RETURN_IF_ERROR(api.Delete("/api/v1/teams/" + ref.id, NewIdempotencyKey()).status());
      MG_ASSIGN_OR_RETURN(CliConfig * c, s.Config());
      if (c->workspace && (*c->workspace == ref.id || *c->workspace == ref.slug)) {
        c->ForgetWorkspace();
        MG_RETURN_IF_ERROR(c->SaveConfig());
      }
      if (s.json()) PrintJson({{"deleted", ref.id}});
      else Say("Deleted team " + ref.name);
      return Status::Ok();
    };
  });
}

void AddWorkspaceCommands(CLI::App& app, Cli& cli) {
  auto* ws = app.add_subcommand("workspace", "Choose where memories go");
  ws->require_subcommand(1);

  auto* list = ws->add_subcommand("list", "List your workspaces (* marks the current one)");
  list->callback([&cli] { cli.action = [](Session& s) { return ListWorkspaces(s, false); }; });

  auto ref = std::make_shared<std::string>();
  auto* use = ws->add_subcommand("use", "Make a workspace the default for later commands");
  use->add_option("workspace", *ref, "Workspace id, slug or name ('personal' for your own)")
      ->required()
      ->type_name(kWorkspaceValue);
  use->callback([&cli, ref] {
    cli.action = [ref](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef w, s.Resolve(api, *ref, false));
      MG_ASSIGN_OR_RETURN(CliConfig * c, s.Config());
      c->ChooseWorkspace(w.id, w.name);
      MG_RETURN_IF_ERROR(c->SaveConfig());
      if (s.json()) PrintJson({{"id", w.id}, {"name", w.name}, {"slug", w.slug}, {"type", w.type}, {"role", w.role}});
      else Say("Now using " + Bold(w.name) + " (" + w.slug + ")");
      return Status::Ok();
    };
  });

  auto* show = ws->add_subcommand("show", "Show the current workspace");
  show->callback([&cli] {
    cli.action = [](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef current, s.Workspace(api));
      MG_ASSIGN_OR_RETURN(nlohmann::json w, api.Get("/api/v1/workspaces/" + current.id));
      if (s.json()) PrintJson(w);
      else PrintWorkspace(w);
      return Status::Ok();
    };
  });
}

}  // namespace mgteam::cli
