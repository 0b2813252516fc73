// mgteam join: from the link an invitation printed to a member of the team,
// in one command, also on a machine that has never seen the server (docs/teams.md,
// "Joining from a link"):
//   - the server is the link's (unless --server/MGTEAM_SERVER say otherwise),
//     and becomes the configured one once the link worked;
//   - signed in there: the invitation is accepted;
//   - not signed in: the account is created with the invitation (which works
//     on a closed server too), or, when the email already has one, signed in
//     to with the password given, and then the invitation is accepted;
//   - the team becomes the current workspace if none was chosen.
#include "exit_codes.h"
#include "invitation_link.h"
#include "render.h"
#include "session.h"

#include "mgteam/ids.h"

#include <iostream>

namespace mgteam::cli {
namespace {

using nlohmann::json;

std::string AcceptPath(const InvitationLink& link) { return "/api/v1/invitations/" + link.token + "/accept"; }

// The workspace `id` as the server lists it (name, slug), for a signup's
// answer, which names only the membership.
Result<json> FindWorkspace(Session& s, ApiClient& api, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto list, s.ListWorkspaces(api));
  for (const auto& w : list)
    if (w.id == id) return json{{"id", w.id}, {"name", w.name}, {"slug", w.slug}, {"type", w.type}, {"role", w.role}};
  return Status::NotFound("the team you joined is not in your workspace list; `mgteam workspace list` shows it");
}

// Signed in already: accept as that account.
Status JoinSignedIn(Session& s, ApiClient& api, const InvitationLink& link, const JoinOptions& o) {
  if (!o.email.empty()) {
    MG_ASSIGN_OR_RETURN(json me, api.Get("/api/v1/me"));
    const std::string email = me["user"].value("email", "");
    if (!SameText(email, o.email))
      return UsageError("you are signed in to " + api.url().ToString() + " as " + email + ", not " + o.email +
                        "; leave out --email to join as " + email + ", or `mgteam logout` first");
  }
  MG_ASSIGN_OR_RETURN(json r, api.Post(AcceptPath(link), json::object(), NewIdempotencyKey()));
  MG_RETURN_IF_ERROR(s.AdoptLinkServer());
  json member = r.value("member", json::object());
  r["account"] = "signed_in";
  return ReportJoined(s, api, std::move(r), member);
}

// What to say when there is no account to join with and no way to ask.
Status NeedAccount(const ServerUrl& url, const InvitationLink& link) {
  return Status(Code::kUnauthenticated, "not_signed_in",
                "you are not signed in to " + url.ToString() +
                    ". Create your account and join in one go: mgteam join " + link.ToString() +
                    " --email YOU [--name NAME] (--password-stdin in scripts); or sign in first: "
                    "mgteam login --email YOU");
}

// Not signed in: sign up with the invitation, or sign in to the account the
// email already has, then accept.
Status JoinWithAccount(Session& s, const ServerUrl& url, const InvitationLink& link, const JoinOptions& o) {
  std::string email = o.email;
  if (email.empty() && StdinIsTty() && !o.password_stdin) {
    std::cerr << "Not signed in to " << url.ToString() << ". Your email: " << std::flush;
    std::getline(std::cin, email);
  }
  if (email.empty()) return NeedAccount(url, link);
  // One password for both cases; on a terminal it is asked twice, since it
  // may be a new account's.
  MG_ASSIGN_OR_RETURN(std::string pw,
                      ReadPassword(o.password_stdin, "Password (choose one if you are new here): ", true));
  ApiClient api(url);
  json body = {{"email", email}, {"password", pw}, {"invitation_token", link.token}, {"token_name", CliTokenName()}};
  if (!o.name.empty()) body["name"] = o.name;
  auto created = api.Post("/api/v1/auth/signup", body, NewIdempotencyKey());
  if (created.ok()) {
    MG_RETURN_IF_ERROR(s.AdoptLinkServer());
    MG_RETURN_IF_ERROR(s.StoreToken(url, *created));
    api.set_token(created->value("token", ""));
    if (!s.json()) Say("Signed up as " + (*created)["user"].value("name", "") + " <" + email + "> on " + url.ToString());
    json member = created->value("membership", json::object());
    (*created)["account"] = "created";
    return ReportJoined(s, api, std::move(created).value(), member);
  }
  if (created.status().reason() != "email_taken") return created.status();
  // The email has an account here: the password is its password.
  MG_ASSIGN_OR_RETURN(json in, api.Post("/api/v1/auth/login",
                                        {{"email", email}, {"password", pw}, {"token_name", CliTokenName()}}));
  MG_RETURN_IF_ERROR(s.AdoptLinkServer());
  MG_RETURN_IF_ERROR(s.StoreToken(url, in));
  api.set_token(in.value("token", ""));
  if (!s.json()) Say("Logged in as " + in["user"].value("name", "") + " <" + email + "> on " + url.ToString());
  MG_ASSIGN_OR_RETURN(json r, api.Post(AcceptPath(link), json::object(), NewIdempotencyKey()));
  json member = r.value("member", json::object());
  r["account"] = "existing";
  r["user"] = in["user"];
  return ReportJoined(s, api, std::move(r), member);
}

}  // namespace

Status ReportJoined(Session& s, ApiClient& api, json out, const json& member) {
  out.erase("token");  // a signup's secret stays in the credentials file
  if (!out.contains("workspace")) {
    MG_ASSIGN_OR_RETURN(out["workspace"], FindWorkspace(s, api, member.value("workspace_id", "")));
  }
  const json w = out["workspace"];
  // Someone who never chose a workspace joined to work in this team; someone
  // who did keeps their choice and is shown the way over.
  MG_ASSIGN_OR_RETURN(CliConfig * c, s.Config());
  // The config's workspace belongs to the configured server: a join on
  // another one (--server) chooses nothing there.
  const bool switched = !c->workspace && s.OnConfiguredServer();
  if (switched) {
    c->ChooseWorkspace(w.value("id", ""), w.value("name", ""));
    MG_RETURN_IF_ERROR(c->SaveConfig());
  }
  out["server"] = api.url().ToString();
  out["current_workspace"] = switched;
  if (s.json()) {
    PrintJson(out);
    return Status::Ok();
  }
  Say("You joined " + w.value("name", "") + " as " + member.value("role", "") + ".");
  if (switched) Say("It is now your current workspace (your own one: mgteam workspace use personal).");
  else Say("Switch to it: mgteam workspace use " + w.value("slug", ""));
  return Status::Ok();
}

Status Join(Session& s, const JoinOptions& o) {
  MG_ASSIGN_OR_RETURN(InvitationLink link, ParseInvitationLink(o.invitation));
  if (link.server) MG_RETURN_IF_ERROR(s.UseLinkServer(*link.server));
  auto url = s.Server();
  if (!url.ok() && url.status().reason() == "no_server")
    return Status::Invalid("no_server",
                           "no server is set, and a bare token does not say which server it is for: pass the whole "
                           "link (mgteam join http://HOST:PORT/join/mgi_...), or `mgteam server set URL` first");
  if (!url.ok()) return url.status();
  if (Status reachable = CheckReachable(*url); !reachable.ok()) {
    // A server started without --public-url puts its listen address in its
    // links, which may not be how this machine reaches it.
    if (link.server && !s.ServerGiven())
      return Status(reachable.code(), reachable.reason(),
                    reachable.message() + ". If the server has another address from here, name it: mgteam --server URL join " +
                        link.token);
    return reachable;
  }
  MG_ASSIGN_OR_RETURN(std::string token, s.Token(*url));
  if (token.empty()) return JoinWithAccount(s, *url, link, o);
  ApiClient api(*url);
  api.set_token(token);
  return JoinSignedIn(s, api, link, o);
}

}  // namespace mgteam::cli
