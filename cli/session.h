// Session: what every command needs: the loaded config, the global flags,
// an API client for the chosen server with the right token, and the chosen
// workspace.
#pragma once

#include "client_config.h"
#include "mgteam/api_client.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mgteam::cli {

using agent::CliConfig;
using agent::Credentials;

struct GlobalOptions {
  std::string server;     // --server
  std::string workspace;  // --workspace / -w
  bool json = false;      // --json
};

struct WorkspaceRef {
  std::string id;
  std::string name;
  std::string slug;
  std::string type;
  std::string role;
};

// Picks `ref` (id, slug, unique name, or "personal"/"" for the personal
// workspace) out of `list`.
Result<WorkspaceRef> PickWorkspace(const std::vector<WorkspaceRef>& list, const std::string& ref, bool team_only);

class Session {
 public:
  explicit Session(const GlobalOptions& g) : global_(g) {}

  // Loads config and credentials (lazily, once).
  Result<CliConfig*> Config();
  // --server > MGTEAM_SERVER > an invitation link's server (UseLinkServer) >
  // config file; in canonical form.
  Result<ServerUrl> Server();
  // Whether this command was told the server (--server or MGTEAM_SERVER).
  bool ServerGiven() const;
  // Whether the server in use is the configured one (under any spelling):
  // only there do the saved workspace choice and its forgetting apply.
  bool OnConfiguredServer();
  // The server an invitation link names, for this command: unless the
  // command was told one (which wins: a link may carry an address only the
  // server's own machine can use) or the configured one is the same server.
  Status UseLinkServer(const ServerUrl& link);
  // Makes the link's server the configured one (once the link worked):
  // a user who joins a team from a link expects the next command to see it.
  // Says so on stderr, with the way back.
  Status AdoptLinkServer();
  // An API client; with `need_token`, fails when there is no token for the
  // server: exit 8 when it does not answer, else exit 3 (naming the servers
  // you are signed in to).
  Result<ApiClient> Client(bool need_token = true);
  // The token for `server`: MGTEAM_TOKEN, else the credentials file (the
  // server's own entry, else another loopback name's); "" if none.
  // MGTEAM_TOKEN is never sent to a server only an invitation link named: a
  // link is text from someone else, and the token is not theirs to collect.
  Result<std::string> Token(const ServerUrl& server);
  // Stores the token of a signup or login `reply` for `server`; the first
  // server signed in to becomes the configured one.
  Status StoreToken(const ServerUrl& server, const nlohmann::json& reply);
  // Resolves --workspace > MGTEAM_WORKSPACE > config to a workspace you
  // belong to (by id, slug or name); defaults to your personal workspace.
  Result<WorkspaceRef> Workspace(ApiClient& api);
  // The reference the user chose ("" for the default).
  Result<std::string> WorkspaceChoice();
  // Picks the current workspace (WorkspaceChoice()) out of `list`, the
  // server's listing. A team saved with `workspace use` that the server no
  // longer lists means you were removed from it (or it was deleted): says so
  // once, forgets the choice and uses your personal workspace. The team is
  // called `known_name` (what the replica held), else what the config says.
  Result<WorkspaceRef> PickCurrent(const std::vector<WorkspaceRef>& list, const std::string& known_name = "");
  // Resolves an explicit team reference (id, slug or name).
  Result<WorkspaceRef> Team(ApiClient& api, const std::string& ref);
  // Resolves a workspace reference: id, slug, name, or "personal" ("" is
  // personal too).
  Result<WorkspaceRef> Resolve(ApiClient& api, const std::string& ref, bool team_only);
  // The workspaces you belong to, as the server lists them.
  Result<std::vector<WorkspaceRef>> ListWorkspaces(ApiClient& api);

  bool json() const { return global_.json; }
  const GlobalOptions& global() const { return global_; }

 private:
  Status NotSignedIn(const ServerUrl& server);
  // The workspace choice comes from the config (not a flag or MGTEAM_WORKSPACE).
  bool ChoiceIsSaved() const;

  const GlobalOptions& global_;
  std::optional<CliConfig> config_;
  std::optional<ServerUrl> link_server_;
};

// OK when an mgteam server answers at `url` (GET /healthz, within seconds);
// else why not, as exit 8: nothing answers, or something that is not an
// mgteam server does.
Status CheckReachable(const ServerUrl& url);

// The command line, shared by all command files: each subcommand stores
// what to run in `action`; main() runs it after parsing.
struct Cli {
  GlobalOptions global;
  std::function<Status(Session&)> action;
};

// One registration function per noun (cli/commands/*.cpp).
// Prints live events of `ws` through `print` (from after `since`, else the
// last `backlog`) until Ctrl-C or a permanent refusal; survives reconnects
// (cli/commands/events.cpp).
// `backlog`: how many past events to show first when `since` is not given.
Status Follow(Session& s, ApiClient& api, const WorkspaceRef& ws, std::optional<int64_t> since,
              const std::function<void(const nlohmann::json&)>& print, int64_t backlog = 10);

// A team member (as `GET .../members` lists them) by name or email (any
// case) or user id; NotFound otherwise (cli/commands/members.cpp).
Result<nlohmann::json> FindMember(ApiClient& api, const WorkspaceRef& team, const std::string& who);

// What `mgteam sync status --json` prints: the agent's view when it runs,
// else the replica's (cli/commands/sync.cpp).
Result<nlohmann::json> SyncStatus(Session& s);
// An activity feed entry as a sentence: "alice added "Fixed Redis timeout"";
// `title_of` names a relationship's memories by id, where known
// (cli/commands/activity.cpp).
std::string ActivitySentence(const nlohmann::json& entry,
                             const std::function<std::string(const std::string&)>& title_of = {});
// "2h", "30m", "3d", "45s", "1w" before now, or an RFC 3339 time, as RFC 3339;
// errors name `flag` (cli/commands/activity.cpp).
Result<std::string> TimeArg(const std::string& flag, const std::string& v);

void AddServerCommands(CLI::App& app, Cli& cli);
void AddAccountCommands(CLI::App& app, Cli& cli);
void AddTokenCommands(CLI::App& app, Cli& cli);
void AddTeamCommands(CLI::App& app, Cli& cli);
void AddWorkspaceCommands(CLI::App& app, Cli& cli);
void AddMemoryCommands(CLI::App& app, Cli& cli);
void AddRelationshipCommands(CLI::App& app, Cli& cli);
void AddEventCommands(CLI::App& app, Cli& cli);
void AddSyncCommands(CLI::App& app, Cli& cli);  // sync and agent
void AddVerifyCommand(CLI::App& sync, Cli& cli);  // sync verify
// Stops the agent if it syncs `server` (logout); no agent is fine.
Status StopAgentOf(Session& s, const std::string& server);
void AddConflictCommands(CLI::App& app, Cli& cli);
void AddActivityCommands(CLI::App& app, Cli& cli);
void AddMemberCommands(CLI::App& app, Cli& cli);  // invite, join, member
struct JoinOptions {
  std::string invitation;  // the link, or the bare token
  std::string email, name;  // for signing up (or in) on the way
  bool password_stdin = false;
};
// mgteam join: accepts an invitation, signing up or in first when this
// machine holds no token for the link's server (cli/commands/join.cpp).
Status Join(Session& s, const JoinOptions& o);
// After an invitation was accepted (`join`, `signup --invitation`): makes the
// team the current workspace when none was chosen, and says so or how to
// switch. `out` is what --json prints (a signup's answer, its token taken
// out); `member` is the new membership (cli/commands/join.cpp).
Status ReportJoined(Session& s, ApiClient& api, nlohmann::json out, const nlohmann::json& member);
void AddTransferCommand(CLI::App& team, Cli& cli);  // team transfer
void AddMcpCommands(CLI::App& app, Cli& cli);       // mcp, mcp install
void AddGraphFileCommands(CLI::App& app, Cli& cli); // import, export
void AddCompletionCommand(CLI::App& app, Cli& cli); // completion
// memory restore, relationship update: after AddMemoryCommands and
// AddRelationshipCommands (cli/commands/revise.cpp).
void AddRevisionCommands(CLI::App& app, Cli& cli);
// `mgteam __complete WORDS...`: what fits the last word, a line each, after
// a first line ":files" or ":values" (cli/commands/completion.cpp).
int RunCompletion(CLI::App& app, const GlobalOptions& global, const std::vector<std::string>& words);

// Reads a whole file ("-" is stdin).
Result<std::string> ReadInput(const std::string& path);
// Replaces `path` with `text`: written to a new temporary file beside it
// (mkstemp: O_EXCL, never through a symlink, created with `mode`), then renamed over
// it, so a crash leaves the old file or the new one. A `path` that is a
// symbolic link is refused: the command would otherwise write wherever a
// cloned repository's link points.
Status WriteFileAtomically(const std::string& path, const std::string& text, unsigned mode);
// Reads a password: from stdin (first line) when `from_stdin`, else from the
// terminal without echo; fails with a hint when there is no terminal.
Result<std::string> ReadPassword(bool from_stdin, const std::string& prompt, bool confirm);
// The name of the tokens this CLI creates: "mgteam CLI on HOST".
std::string CliTokenName();
// A fresh Idempotency-Key for one logical write, so a retried request never
// applies twice.
std::string NewIdempotencyKey();

}  // namespace mgteam::cli
