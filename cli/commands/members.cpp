// mgteam invite [list|revoke], mgteam join, mgteam member list|remove|role|leave,
// mgteam team transfer (docs/teams.md). Straight to the server: membership
// is not something to queue offline.
#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "render.h"
#include "session.h"

namespace mgteam::cli {
namespace {

using nlohmann::json;

std::string TeamPath(const WorkspaceRef& t) { return "/api/v1/teams/" + t.id; }

}  // namespace

Result<json> FindMember(ApiClient& api, const WorkspaceRef& t, const std::string& who) {
  MG_ASSIGN_OR_RETURN(json members, api.Get(TeamPath(t) + "/members"));
  auto id = NormalizeUuid(who);
  for (const auto& m : members["members"])
    if ((id && m.value("user_id", "") == *id) || SameText(m.value("email", ""), who) || SameText(m.value("name", ""), who))
      return m;
  return Status::NotFound("no member '" + who + "' in " + t.name + "; `mgteam member list` shows who is");
}

namespace {

// --expires as seconds.
Result<int64_t> Duration(const std::string& v) {
  if (auto d = ParseDuration(v)) return static_cast<int64_t>(d->count());
  return Status::Invalid("usage", "--expires takes a duration like 7d, 12h or 30m");
}

// A pending invitation's id from its id or the invited email.
Result<std::string> PendingId(ApiClient& api, const WorkspaceRef& t, const std::string& ref) {
  if (auto id = NormalizeUuid(ref)) return *id;
  MG_ASSIGN_OR_RETURN(json r, api.Get(TeamPath(t) + "/invitations"));
  for (const auto& i : r["invitations"])
    if (SameText(i.value("email", ""), ref)) return i.value("id", "");
  return Status::NotFound("no pending invitation for " + ref + " in " + t.name);
}

// Mailed, or the link to pass on (no mail configured, or delivery failed).
void PrintDelivery(const json& r, const std::string& email) {
  if (r.value("delivery", "") == "sent") {
    Say("The invitation was mailed to " + email + ".");
    return;
  }
  if (r.value("delivery", "") == "failed")
    Note("The mail could not be sent (" + r.value("delivery_error", "") + "); pass the link on yourself.");
  const std::string link = r.value("accept_url", "");
  Say("Send them this link: " + link);
  Say("They open it in a browser (the dashboard signs them up or in and joins),");
  Say("or join with: mgteam join " + link + "  (new to this server: mgteam join " + link + " --email " + email +
      ")");
}

void PrintMembers(const json& members) {
  Table t({"NAME", "EMAIL", "ROLE", "JOINED", "ID"}, {30, 40, 0, 0, 0});
  for (const auto& m : members)
    t.Add({m.value("name", ""), m.value("email", ""), m.value("role", ""), Ago(m.value("joined_at", "")),
           m.value("user_id", "")});
  t.Print();
}

}  // namespace

void AddMemberCommands(CLI::App& app, Cli& cli) {
  struct Opts {
    std::string team, email, role = "member", expires, id, who;
    bool yes = false;
  };
  auto o = std::make_shared<Opts>();

  // ---- invitations ----
  auto* invite = app.add_subcommand("invite", "Invite someone to a team by email: mgteam invite bob@example.com");
  invite->add_option("email", o->email, "Their email address");
  invite->add_option("--role", o->role, "owner, admin, member (default) or viewer")
      ->check(CLI::IsMember({"owner", "admin", "member", "viewer"}));
  invite->add_option("--team", o->team, "The team (default: the current workspace)");
  invite->add_option("--expires", o->expires, "How long the invitation is valid (default 7d; e.g. 12h, 30d)");
  invite->callback([&cli, o, invite] {
    if (!invite->get_subcommands().empty()) return;  // invite list / revoke
    cli.action = [o](Session& s) -> Status {
      if (o->email.empty()) return Status::Invalid("usage", "say whom to invite: mgteam invite EMAIL");
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef t, s.Team(api, o->team));
      json body = {{"email", o->email}, {"role", o->role}};
      if (!o->expires.empty()) {
        MG_ASSIGN_OR_RETURN(body["expires_in"], Duration(o->expires));
      }
      MG_ASSIGN_OR_RETURN(json r, api.Post(TeamPath(t) + "/invite", body, NewUuidV7()));
      if (s.json()) {
        PrintJson(r);
        return Status::Ok();
      }
      Say("Invited " + o->email + " to " + t.name + " as " + o->role + " (valid until " +
          r["invitation"].value("expires_at", "") + ").");
      PrintDelivery(r, o->email);
      return Status::Ok();
    };
  });
  auto* ilist = invite->add_subcommand("list", "Pending invitations of a team");
  ilist->add_option("--team", o->team, "The team (default: the current workspace)");
  ilist->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef t, s.Team(api, o->team));
      MG_ASSIGN_OR_RETURN(json r, api.Get(TeamPath(t) + "/invitations"));
      if (s.json()) {
        PrintJson(r["invitations"]);
        return Status::Ok();
      }
      if (r["invitations"].empty()) {
        Say("No pending invitations in " + t.name + ".");
        return Status::Ok();
      }
      Table tab({"EMAIL", "ROLE", "INVITED", "EXPIRES", "ID"}, {});
      for (const auto& i : r["invitations"])
        tab.Add({i.value("email", ""), i.value("role", ""), Ago(i.value("created_at", "")), i.value("expires_at", ""),
                 i.value("id", "")});
      tab.Print();
      return Status::Ok();
    };
  });
  auto* irevoke = invite->add_subcommand("revoke", "Revoke a pending invitation (by id or email)");
  irevoke->add_option("invitation", o->id, "The invitation's id, or the invited email")->required();
  irevoke->add_option("--team", o->team, "The team (default: the current workspace)");
  irevoke->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef t, s.Team(api, o->team));
      MG_ASSIGN_OR_RETURN(std::string id, PendingId(api, t, o->id));
      MG_ASSIGN_OR_RETURN(json r, api.Delete(TeamPath(t) + "/invitations/" + id, NewUuidV7()));
      if (s.json()) PrintJson(r);
      else Say("Revoked the invitation of " + r.value("email", o->id) + ".");
      return Status::Ok();
    };
  });

  auto* iresend = invite->add_subcommand("resend", "Send a pending invitation again (new link, new expiry)");
  iresend->add_option("invitation", o->id, "The invitation's id, or the invited email")->required();
  iresend->add_option("--team", o->team, "The team (default: the current workspace)");
  iresend->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef t, s.Team(api, o->team));
      MG_ASSIGN_OR_RETURN(std::string id, PendingId(api, t, o->id));
      MG_ASSIGN_OR_RETURN(json r, api.Post(TeamPath(t) + "/invitations/" + id + "/resend", json::object(), NewUuidV7()));
      if (s.json()) {
        PrintJson(r);
        return Status::Ok();
      }
      Say("Renewed the invitation of " + r["invitation"].value("email", "") + " (valid until " +
          r["invitation"].value("expires_at", "") + "); the old link no longer works.");
      PrintDelivery(r, r["invitation"].value("email", ""));
      return Status::Ok();
    };
  });

  auto join_opts = std::make_shared<JoinOptions>();
  auto* join = app.add_subcommand("join", "Join a team from an invitation link: mgteam join LINK");
  join->add_option("invitation", join_opts->invitation, "The link you were sent (or its mgi_ token)")->required();
  join->add_option("--email", join_opts->email,
                   "Not signed in to the link's server: your email there (creates the account if it has none)");
  join->add_option("--name", join_opts->name, "For a new account: your display name (default: from the email)");
  join->add_flag("--password-stdin", join_opts->password_stdin, "Read the password from stdin (scripts)");
  join->callback([&cli, join_opts] {
    cli.action = [join_opts](Session& s) { return Join(s, *join_opts); };
  });

  // ---- members ----
  auto* member = app.add_subcommand("member", "A team's members and their roles");
  member->require_subcommand(1);
  auto* mlist = member->add_subcommand("list", "Members: name, email, role, joined");
  mlist->add_option("--team", o->team, "The team (default: the current workspace)");
  mlist->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef t, s.Team(api, o->team));
      MG_ASSIGN_OR_RETURN(json r, api.Get(TeamPath(t) + "/members"));
      if (s.json()) PrintJson(r["members"]);
      else PrintMembers(r["members"]);
      return Status::Ok();
    };
  });
  auto* mrole = member->add_subcommand("role", "Change a member's role: mgteam member role bob viewer");
  mrole->add_option("member", o->who, "Name, email or user id")->required();
  mrole->add_option("role", o->role, "owner, admin, member or viewer")
      ->required()
      ->check(CLI::IsMember({"owner", "admin", "member", "viewer"}));
  mrole->add_option("--team", o->team, "The team (default: the current workspace)");
  mrole->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef t, s.Team(api, o->team));
      MG_ASSIGN_OR_RETURN(json m, FindMember(api, t, o->who));
      MG_ASSIGN_OR_RETURN(json r, api.Patch(TeamPath(t) + "/members/" + m.value("user_id", ""), {{"role", o->role}},
                                            NewUuidV7()));
      if (s.json()) PrintJson(r);
      else Say(m.value("name", "") + " is now " + o->role + " in " + t.name + " (was " + m.value("role", "") + ").");
      return Status::Ok();
    };
  });
  auto* mremove = member->add_subcommand("remove", "Remove a member from the team");
  mremove->add_option("member", o->who, "Name, email or user id")->required();
  mremove->add_option("--team", o->team, "The team (default: the current workspace)");
  mremove->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef t, s.Team(api, o->team));
      MG_ASSIGN_OR_RETURN(json m, FindMember(api, t, o->who));
      MG_ASSIGN_OR_RETURN(json r, api.Delete(TeamPath(t) + "/members/" + m.value("user_id", ""), NewUuidV7()));
      if (s.json()) PrintJson(r);
      else Say("Removed " + m.value("name", "") + " from " + t.name + ".");
      return Status::Ok();
    };
  });
  auto* leave = member->add_subcommand("leave", "Leave a team");
  leave->add_option("--team", o->team, "The team (default: the current workspace)");
  leave->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef t, s.Team(api, o->team));
      MG_ASSIGN_OR_RETURN(json me, api.Get("/api/v1/me"));
      MG_ASSIGN_OR_RETURN(json r, api.Delete(TeamPath(t) + "/members/" + me["user"].value("id", ""), NewUuidV7()));
      if (s.json()) PrintJson(r);
      else Say("You left " + t.name + ". Its memories leave this machine at the next sync.");
      return Status::Ok();
    };
  });
}

void AddTransferCommand(CLI::App& team, Cli& cli) {
  auto who_team = std::make_shared<std::string>();
  auto* who = team.add_subcommand("who", "Who on the team is connected right now");
  who->add_option("--team", *who_team, "The team (default: the current workspace)");
  who->callback([&cli, who_team] {
    cli.action = [who_team](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef t, s.Team(api, *who_team));
      MG_ASSIGN_OR_RETURN(json r, api.Get("/api/v1/workspaces/" + t.id + "/presence"));
      if (s.json()) {
        PrintJson(r["presence"]);
        return Status::Ok();
      }
      Table tab({"NAME", "ROLE", "STATUS"}, {30, 0, 0});
      for (const auto& p : r["presence"]) {
        std::string status = p.value("online", false) ? "online"
                             : p["last_seen"].is_string() ? "last seen " + Ago(p["last_seen"].get<std::string>())
                                                          : "not seen";
        tab.Add({p.value("name", ""), p.value("role", ""), status});
      }
      tab.Print();
      Say(std::to_string(r.value("online", 0)) + " of " + std::to_string(r["presence"].size()) + " online.");
      return Status::Ok();
    };
  });

  auto o = std::make_shared<std::pair<std::string, std::string>>();  // member, team
  auto* transfer = team.add_subcommand("transfer", "Make another member the owner (you become admin)");
  transfer->add_option("member", o->first, "Name, email or user id")->required();
  transfer->add_option("--team", o->second, "The team (default: the current workspace)");
  transfer->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef t, s.Team(api, o->second));
      MG_ASSIGN_OR_RETURN(json m, FindMember(api, t, o->first));
      MG_ASSIGN_OR_RETURN(json r, api.Post(TeamPath(t) + "/transfer", {{"user_id", m.value("user_id", "")}}, NewUuidV7()));
      if (s.json()) PrintJson(r);
      else Say(m.value("name", "") + " now owns " + t.name + "; you are an admin.");
      return Status::Ok();
    };
  });
}

}  // namespace mgteam::cli
