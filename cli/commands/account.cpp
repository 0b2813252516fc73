// mgteam server set|show, signup, login, logout, whoami.
#include "exit_codes.h"
#include "invitation_link.h"
#include "paths.h"
#include "render.h"
#include "replica.h"
#include "session.h"
#include "mgteam/clock.h"

#include <algorithm>
#include <filesystem>
#include <memory>

namespace mgteam::cli {
namespace {

// Prints who is signed in, after StoreToken().
void PrintSignedIn(Session& s, const ServerUrl& url, const nlohmann::json& reply, const std::string& verb) {
  if (s.json()) {
    nlohmann::json out = reply;
    out.erase("token");  // the secret stays in the credentials file
    PrintJson(out);
    return;
  }
  const auto& user = reply["user"];
  Say(verb + " as " + user.value("name", "") + " <" + user.value("email", "") + "> on " + url.ToString());
}

// Stores the token for the server and prints who is signed in.
Status Remember(Session& s, const ServerUrl& url, const nlohmann::json& reply, const std::string& verb) {
  MG_RETURN_IF_ERROR(s.StoreToken(url, reply));
  PrintSignedIn(s, url, reply, verb);
  return Status::Ok();
}

// `server set`: another spelling of the configured server is not another
// server, and keeps the chosen workspace.
bool SameAsConfigured(const CliConfig& c, const ServerUrl& url) {
  if (!c.server) return false;
  auto configured = ParseServerUrl(*c.server);
  return configured.ok() && SameServer(*configured, url);
}

}  // namespace

void AddServerCommands(CLI::App& app, Cli& cli) {
  auto* server = app.add_subcommand("server", "Choose the mgteam server");
  server->require_subcommand(1);

  auto url = std::make_shared<std::string>();
  auto* set = server->add_subcommand("set", "Use the server at URL from now on");
  set->add_option("url", *url, "e.g. http://127.0.0.1:8474")->required();
  set->callback([&cli, url] {
    cli.action = [url](Session& s) -> Status {
      // Checked before anything changes: a mistyped URL leaves the server and
      // the chosen workspace as they were.
      auto parsed = ParseServerUrl(*url);
      if (!parsed.ok()) return UsageError(parsed.status().message());
      MG_ASSIGN_OR_RETURN(CliConfig * c, s.Config());
      if (!SameAsConfigured(*c, *parsed)) c->ForgetWorkspace();  // workspaces belong to a server
      c->server = parsed->ToString();
      MG_RETURN_IF_ERROR(c->SaveConfig());
      // A server that is down now is still the right one to choose (it may be
      // starting): accepted, with a warning.
      Status reachable = CheckReachable(*parsed);
      if (s.json()) {
        PrintJson({{"server", parsed->ToString()}, {"reachable", reachable.ok()}});
      } else {
        Say("Server set to " + parsed->ToString());
        if (!reachable.ok()) Note("warning: " + reachable.message());
      }
      return Status::Ok();
    };
  });

  auto* show = server->add_subcommand("show", "Print the server in use and whether it answers");
  show->callback([&cli] {
    cli.action = [](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ServerUrl parsed, s.Server());
      ApiClient api(parsed);
      api.set_timeout(std::chrono::seconds(3), std::chrono::seconds(5));
      auto health = api.Get("/healthz");
      if (s.json()) {
        nlohmann::json out = {{"server", parsed.ToString()}, {"reachable", health.ok()}};
        if (health.ok()) out["version"] = health->value("version", "");
        PrintJson(out);
        return Status::Ok();
      }
      Say(parsed.ToString() + (health.ok() ? "  (up, version " + health->value("version", "?") + ")"
                                           : "  (not answering)"));
      return health.ok() ? Status::Ok() : health.status();
    };
  });
}

void AddAccountCommands(CLI::App& app, Cli& cli) {
  struct Opts {
    std::string email, name, token_name;
    bool password_stdin = false;
    std::string invitation;
  };
  auto o = std::make_shared<Opts>();

  auto* signup = app.add_subcommand("signup", "Create an account on the server and sign in");
  signup->add_option("--email", o->email, "Your email address")->required();
  signup->add_option("--name", o->name, "Your display name (default: the part of the email before @)");
  signup->add_flag("--password-stdin", o->password_stdin, "Read the password from stdin (scripts)");
  signup->add_option("--invitation", o->invitation,
                     "The invitation link (or its mgi_ token): sign up on the link's server and join the team, "
                     "even where sign-up is closed");
  signup->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      std::optional<InvitationLink> invitation;
      if (!o->invitation.empty()) {
        MG_ASSIGN_OR_RETURN(invitation, ParseInvitationLink(o->invitation));
        if (invitation->server) MG_RETURN_IF_ERROR(s.UseLinkServer(*invitation->server));
      }
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client(false));
      MG_ASSIGN_OR_RETURN(std::string pw, ReadPassword(o->password_stdin, "Choose a password: ", true));
      nlohmann::json body = {{"email", o->email}, {"password", pw}, {"token_name", CliTokenName()}};
      if (!o->name.empty()) body["name"] = o->name;
      if (invitation) body["invitation_token"] = invitation->token;
      auto signed_up = api.Post("/api/v1/auth/signup", body, NewIdempotencyKey());
      if (invitation && signed_up.status().reason() == "email_taken")
        return Status(Code::kConflict, "email_taken",
                      o->email + " has an account on " + api.url().ToString() + "; join with it: mgteam join " +
                          invitation->ToString() + " --email " + o->email);
      MG_ASSIGN_OR_RETURN(nlohmann::json reply, std::move(signed_up));
      MG_RETURN_IF_ERROR(s.AdoptLinkServer());
      if (!invitation) return Remember(s, api.url(), reply, "Signed up");
      MG_RETURN_IF_ERROR(s.StoreToken(api.url(), reply));
      api.set_token(reply.value("token", ""));
      if (!s.json()) PrintSignedIn(s, api.url(), reply, "Signed up");
      return ReportJoined(s, api, reply, reply.value("membership", nlohmann::json::object()));
    };
  });

  auto* login = app.add_subcommand("login", "Sign in and store a token for this server");
  login->add_option("--email", o->email, "Your email address")->required();
  login->add_flag("--password-stdin", o->password_stdin, "Read the password from stdin (scripts)");
  login->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client(false));
      MG_ASSIGN_OR_RETURN(std::string pw, ReadPassword(o->password_stdin, "Password: ", false));
      MG_ASSIGN_OR_RETURN(nlohmann::json reply,
                          api.Post("/api/v1/auth/login",
                                   {{"email", o->email}, {"password", pw}, {"token_name", CliTokenName()}}));
      return Remember(s, api.url(), reply, "Logged in");
    };
  });

  // Logging out ends this machine's part in the server: the agent stops
  // syncing it and the replica goes, with any writes that never reached the
  // server, so those are refused unless the user says --force.
  auto force = std::make_shared<bool>(false);
  auto* logout = app.add_subcommand("logout", "Revoke this machine's token, stop syncing and remove the local copy");
  logout->add_flag("--force", *force, "Log out even though writes made here have not reached the server (they are lost)");
  logout->callback([&cli, force] {
    cli.action = [force](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ServerUrl url, s.Server());
      MG_ASSIGN_OR_RETURN(CliConfig * c, s.Config());
      const std::string replica_path = agent::ReplicaPath(url.ToString());
      if (std::filesystem::exists(replica_path) && !*force) {
        MG_ASSIGN_OR_RETURN(auto replica, agent::Replica::Open(replica_path));
        MG_ASSIGN_OR_RETURN(auto ops, replica->Ops());
        auto pending = std::count_if(ops.begin(), ops.end(),
                                     [](const agent::OutboxOp& op) { return op.state == agent::OpState::kPending; });
        if (pending > 0)
          return Status::Conflict("pending_writes",
                                  std::to_string(pending) + " write(s) made here have not reached the server yet; "
                                  "`mgteam sync now` sends them (`mgteam sync status` shows them), or "
                                  "`mgteam logout --force` drops them")
              .with("pending", pending);
      }
      const auto key = c->CredentialsKey(url);
      const bool signed_in = key.has_value();
      if (signed_in) {
        ApiClient api(url);
        api.set_token(c->credentials.at(*key).token);
        auto revoked = api.Post("/api/v1/auth/logout", nlohmann::json::object());
        // A token the server no longer knows is as good as revoked.
        if (!revoked.ok() && revoked.status().code() != Code::kUnauthenticated)
          Note("warning: the server could not revoke the token (" + revoked.status().message() +
               "); it was forgotten here anyway");
        c->credentials.erase(*key);
        MG_RETURN_IF_ERROR(c->SaveCredentials());
      }
      MG_RETURN_IF_ERROR(StopAgentOf(s, url.ToString()));
      std::error_code ec;
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(replica_path + suffix, ec);
      Say(signed_in ? "Logged out of " + url.ToString() + "; this machine's copy of its data was removed"
                    : "Not signed in to " + url.ToString());
      return Status::Ok();
    };
  });

  auto* whoami = app.add_subcommand("whoami", "Show who you are signed in as");
  whoami->callback([&cli] {
    cli.action = [](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(nlohmann::json me, api.Get("/api/v1/me"));
      if (s.json()) {
        PrintJson(me);
        return Status::Ok();
      }
      const auto& u = me["user"];
      Say(u.value("name", "") + " <" + u.value("email", "") + ">  id " + u.value("id", ""));
      Say("server " + api.url().ToString() + ", token '" + me["token"].value("name", "") + "'");
      return Status::Ok();
    };
  });
}

void AddTokenCommands(CLI::App& app, Cli& cli) {
  auto* token = app.add_subcommand("token", "Personal access tokens (for CI jobs and scripts)");
  token->require_subcommand(1);

  auto name = std::make_shared<std::string>();
  auto expires = std::make_shared<std::string>();
  auto* create = token->add_subcommand("create", "Create a token; it is shown once");
  create->add_option("name", *name, "What the token is for, e.g. 'ci-deploy'")->required();
  create->add_option("--expires", *expires, "Stop working after this long: 30m, 12h, 90d (default: never)");
  create->callback([&cli, name, expires] {
    cli.action = [name, expires](Session& s) -> Status {
      nlohmann::json body = {{"name", *name}};
      if (!expires->empty()) {
        auto d = ParseDuration(*expires);
        if (!d || d->count() <= 0 || d->count() > 10LL * 366 * 86400)
          return Status::Invalid("invalid_duration", "--expires wants a duration like 30m, 12h or 90d (at most 3660d), not '" +
                                                         *expires + "'");
        body["expires_in"] = d->count();
      }
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(nlohmann::json t, api.Post("/api/v1/tokens", body, NewIdempotencyKey()));
      if (s.json()) {
        PrintJson(t);
        return Status::Ok();
      }
      Say(t.value("token", ""));
      const nlohmann::json until = t.value("expires_at", nlohmann::json());
      Note("Token '" + *name + "' created" +
           (until.is_string() ? ", valid until " + until.get<std::string>() : std::string()) +
           ". It is shown only now: store it as a secret (e.g. MGTEAM_TOKEN in CI).");
      return Status::Ok();
    };
  });

  auto* list = token->add_subcommand("list", "List your tokens");
  list->callback([&cli] {
    cli.action = [](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(nlohmann::json r, api.Get("/api/v1/tokens"));
      const auto& tokens = r["tokens"];
      if (s.json()) {
        PrintJson(tokens);
        return Status::Ok();
      }
      Table t({"ID", "KIND", "NAME", "PREFIX", "CREATED", "LAST USED", "EXPIRES", "STATUS"}, {0, 40});
      const std::string now = NowRfc3339();
      for (const auto& x : tokens) {
        const bool expired = x.value("expires_at", nlohmann::json()).is_string() &&
                             x["expires_at"].get<std::string>() <= now;
        std::string status = !x["revoked_at"].is_null()  ? "revoked"
                             : expired                    ? "expired"
                             : x.value("current", false) ? "active (this one)"
                                                         : "active";
        // A "session" is a dashboard sign-in (docs/dashboard.md).
        t.Add({x.value("id", ""), x.value("kind", "token") == "session" ? "browser" : "token", x.value("name", ""),
               x.value("prefix", "") + "…",
               Ago(x.value("created_at", "")),
               x["last_used_at"].is_null() ? "never" : Ago(x["last_used_at"].get<std::string>()),
               x.value("expires_at", nlohmann::json()).is_string() ? x["expires_at"].get<std::string>() : "never",
               status});
      }
      t.Print();
      return Status::Ok();
    };
  });

  auto id = std::make_shared<std::string>();
  auto sessions = std::make_shared<bool>(false);
  auto* revoke = token->add_subcommand("revoke", "Revoke a token or browser session (or all sessions)");
  revoke->add_option("id", *id, "The token's id (see `mgteam token list`)");
  revoke->add_flag("--sessions", *sessions, "Sign out of the dashboard in every browser (tokens stay)");
  revoke->callback([&cli, id, sessions] {
    cli.action = [id, sessions](Session& s) -> Status {
      if (id->empty() == !*sessions)
        return UsageError("name what to revoke: a token id (see `mgteam token list`) or --sessions, one of them");
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      if (*sessions) {
        MG_ASSIGN_OR_RETURN(nlohmann::json r, api.Delete("/api/v1/auth/sessions"));
        if (s.json()) PrintJson(r);
        else Say("Signed out of " + std::to_string(r.value("revoked", 0)) + " browser session(s)");
        return Status::Ok();
      }
      MG_ASSIGN_OR_RETURN(nlohmann::json t, api.Delete("/api/v1/tokens/" + UrlEncode(*id)));
      if (s.json()) PrintJson(t);
      else Say("Revoked " + std::string(t.value("kind", "token") == "session" ? "browser session" : "token") + " '" +
               t.value("name", "") + "'");
      return Status::Ok();
    };
  });
}

}  // namespace mgteam::cli
