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
  // --server > MGTEAM_SERVER > config file.
  Result<ServerUrl> Server();
  // An API client; with `need_token`, fails (exit 3) when not signed in.
  Result<ApiClient> Client(bool need_token = true);
  // The token for `server`: MGTEAM_TOKEN, else the credentials file; "" if none.
  Result<std::string> Token(const ServerUrl& server);
  // Resolves --workspace > MGTEAM_WORKSPACE > config to a workspace you
  // belong to (by id, slug or name); defaults to your personal workspace.
  Result<WorkspaceRef> Workspace(ApiClient& api);
  // The reference the user chose ("" for the default).
  Result<std::string> WorkspaceChoice();
  // Resolves an explicit team reference (id, slug or name).
  Result<WorkspaceRef> Team(ApiClient& api, const std::string& ref);
  // Resolves a workspace reference: id, slug, name, or "personal" ("" is
  // personal too).
  Result<WorkspaceRef> Resolve(ApiClient& api, const std::string& ref, bool team_only);

  bool json() const { return global_.json; }
  const GlobalOptions& global() const { return global_; }

 private:
  const GlobalOptions& global_;
  std::optional<CliConfig> config_;
};

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
// A fresh Idempotency-Key for one logical write, so a retried request never
// applies twice.
std::string NewIdempotencyKey();

}  // namespace mgteam::cli
