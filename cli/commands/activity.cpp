// mgteam activity: the team's feed as sentences ("alice added "Fixed Redis
// timeout" (2 minutes ago)"), filtered, and live with --follow.
#include "mgteam/activity.h"
#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "render.h"
#include "session.h"
#include "titles.h"

#include <iostream>

namespace mgteam::cli {
namespace {

using nlohmann::json;

std::string Quoted(const json& entry) { return "\"" + entry.value("title", "") + "\""; }

}  // namespace

// One entry as a sentence (without the time).
std::string ActivitySentence(const json& e, const std::function<std::string(const std::string&)>& title_of) {
  const std::string who = e.value("actor_name", "").empty() ? "someone" : e.value("actor_name", "");
  const std::string type = e.value("entity_type", ""), action = e.value("action", "");
  const json& d = e.contains("detail") ? e["detail"] : json::object();
  if (type == "memory") {
    std::string verb = action == "created" ? "added" : action;
    std::string s = who + " " + verb + " " + Quoted(e);
    if (auto c = d.find("conflicts"); c != d.end() && c->is_array() && !c->empty())
      s += " (merged; " + std::to_string(c->size()) + " conflicting value" + (c->size() == 1 ? "" : "s") + " kept)";
    return s;
  }
  if (type == "relationship") {
    if (title_of && d.contains("from_memory_id") && d.contains("to_memory_id")) {
      std::string link = title_of(d.value("from_memory_id", "")) + " " + e.value("title", "") + " " +
                         title_of(d.value("to_memory_id", ""));
      if (action == "created") return who + " linked " + link;
      if (action == "deleted" && d.value("cause", "") == "memory_deleted") return link + " went with the deleted memory";
      if (action == "deleted") return who + " unlinked " + link;
      return who + " changed the link " + link;
    }
    if (action == "created") return who + " linked two memories (" + e.value("title", "") + ")";
    if (action == "deleted") return who + " removed a " + e.value("title", "") + " link";
    return who + " changed a " + e.value("title", "") + " link";
  }
  if (type == "member") {
    const std::string name = e.value("title", "");
    if (action == "joined") return name + " joined as " + d.value("role", "member");
    if (action == "removed") return d.value("left", false) ? name + " left the team" : who + " removed " + name;
    if (action == "role_changed")
      return who + " made " + name + " " + d.value("role", "") + " (was " + d.value("previous_role", "") + ")";
  }
  if (type == "invitation") {
    if (action == "created") return who + " invited " + e.value("title", "") + " as " + d.value("role", "member");
    if (action == "revoked") return who + " revoked the invitation of " + e.value("title", "");
  }
  if (type == "conflict") {
    std::string what = d.value("field", "").empty() ? "an edit" : d.value("field", "");
    if (action == "created") return who + "'s change to " + Quoted(e) + " conflicted on " + what + "; the other value is kept";
    if (action == "resolved") return who + " resolved a conflict on " + what + " in " + Quoted(e);
  }
  if (type == "workspace") {
    if (action == "created") return who + " created " + Quoted(e);
    if (action == "updated") return who + " renamed the team to " + Quoted(e);
  }
  return who + " " + e.value("type", "") + " " + Quoted(e);
}

namespace {

void PrintEntry(const json& e, bool as_json, MemoryTitles& titles) {
  if (as_json) std::cout << e.dump() << std::endl;
  else
    std::cout << ActivitySentence(e, [&titles](const std::string& id) { return titles.Of(id); }) << " "
              << Dim("(" + Ago(e.value("at", "")) + ")") << std::endl;
}

}  // namespace

Result<std::string> TimeArg(const std::string& flag, const std::string& v) {
  if (auto t = ParseRfc3339(v)) return FormatRfc3339(*t);
  if (auto d = ParseDuration(v)) return FormatRfc3339(Now() - *d);
  return Status::Invalid("usage", flag + " takes a duration before now (30m, 2h, 3d, 1w) or an RFC 3339 time");
}

void AddActivityCommands(CLI::App& app, Cli& cli) {
  struct Opts {
    std::string user, action, type, since, until;
    int limit = 50;
    bool follow = false;
  };
  auto o = std::make_shared<Opts>();
  auto* activity = app.add_subcommand("activity", "What the team has been doing, newest first");
  activity->add_option("--user,-u", o->user, "Only this member's (name, email or id)");
  activity->add_option("--action", o->action,
                       "created, updated, deleted, restored, joined, removed, role_changed, resolved, revoked")
      ->check(CLI::IsMember({"created", "updated", "deleted", "restored", "joined", "removed", "role_changed",
                             "resolved", "revoked", "resent"}));
  activity->add_option("--type", o->type, "memory, relationship, member, invitation, conflict or workspace")
      ->check(CLI::IsMember({"memory", "relationship", "member", "invitation", "conflict", "workspace"}));
  activity->add_option("--since", o->since, "Only after this: 30m, 2h, 3d, 1w ago, or an RFC 3339 time");
  activity->add_option("--until", o->until, "Only before this (same forms)");
  activity->add_option("--limit,-n", o->limit, "At most this many (default 50)")->check(CLI::Range(1, 100000));
  activity->add_flag("--follow,-f", o->follow, "Then keep printing new activity as it happens");
  activity->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef ws, s.Workspace(api));
      std::map<std::string, std::string> q;
      std::string actor;
      if (!o->user.empty()) {
        if (auto id = NormalizeUuid(o->user)) {
          actor = *id;  // also someone who has left the team
        } else {
          MG_ASSIGN_OR_RETURN(json m, FindMember(api, ws, o->user));
          actor = m.value("user_id", "");
        }
        q["actor"] = actor;
      }
      if (!o->action.empty()) q["action"] = o->action;
      if (!o->type.empty()) q["entity_type"] = o->type;
      if (!o->since.empty()) {
        MG_ASSIGN_OR_RETURN(q["since"], TimeArg("--since", o->since));
      }
      if (!o->until.empty()) {
        MG_ASSIGN_OR_RETURN(q["until"], TimeArg("--until", o->until));
      }
      MemoryTitles titles(s, ws.id);
      json items = json::array();
      std::string cursor;
      while (static_cast<int>(items.size()) < o->limit) {
        q["limit"] = std::to_string(std::min(500, o->limit - static_cast<int>(items.size())));
        q["cursor"] = cursor;
        MG_ASSIGN_OR_RETURN(json page, api.Get("/api/v1/workspaces/" + ws.id + "/activity" + QueryString(q)));
        for (auto& e : page["activity"]) items.push_back(std::move(e));
        if (!page["next_cursor"].is_string()) break;
        cursor = page["next_cursor"].get<std::string>();
      }
      if (!o->follow) {
        if (s.json()) PrintJson(items);
        else if (items.empty()) Say("No activity in " + ws.name + (q.size() > 2 ? " matching that." : " yet."));
        else
          for (const auto& e : items) PrintEntry(e, false, titles);
        return Status::Ok();
      }
      // Following: the latest entries oldest first, like tail -f, then live
      // ones (JSON Lines with --json), filtered the same way.
      for (auto it = items.rbegin(); it != items.rend(); ++it) PrintEntry(*it, s.json(), titles);
      int64_t since = items.empty() ? -1 : items[0].value("seq", int64_t{0});
      std::optional<int64_t> from;
      if (since >= 0) from = since;
      else {
        MG_ASSIGN_OR_RETURN(json w, api.Get("/api/v1/workspaces/" + ws.id));
        from = w.value("head_seq", int64_t{0});
      }
      return Follow(s, api, ws, from, [&](const json& raw) {
        auto ev = Event::FromJson(raw);
        if (!ev) return;
        json e = ActivityEntry(*ev);
        if (!actor.empty() && e["actor"] != actor) return;
        if (!o->action.empty() && e["action"] != o->action) return;
        if (!o->type.empty() && e["entity_type"] != o->type) return;
        PrintEntry(e, s.json(), titles);
      });
    };
  });
}

}  // namespace mgteam::cli
