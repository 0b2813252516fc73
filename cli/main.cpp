// mgteam: the command-line client. `mgteam <noun> <verb>`; see `man mgteam`.
#include "exit_codes.h"
#include "render.h"
#include "session.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

using namespace mgteam;
using namespace mgteam::cli;

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // Warnings from the libraries go to stderr: stdout carries what scripts
  // parse (--json) and, for `mgteam mcp`, the protocol.
  spdlog::set_default_logger(spdlog::stderr_color_mt("mgteam"));
  Cli cli;
  CLI::App app{"mgteam: share your AI assistant's memories with your team, live"};
  app.set_version_flag("--version", std::string("mgteam ") + MGTEAM_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--server", cli.global.server, "Server URL (overrides MGTEAM_SERVER and the config)");
  app.add_option("--workspace,-w", cli.global.workspace,
                 "Workspace id, slug or name (overrides MGTEAM_WORKSPACE and the config)");
  app.add_flag("--json", cli.global.json, "Machine-readable JSON output");

  AddServerCommands(app, cli);
  AddAccountCommands(app, cli);
  AddTokenCommands(app, cli);
  AddTeamCommands(app, cli);
  AddWorkspaceCommands(app, cli);
  AddMemoryCommands(app, cli);
  AddRelationshipCommands(app, cli);
  AddEventCommands(app, cli);
  AddSyncCommands(app, cli);
  AddConflictCommands(app, cli);
  AddActivityCommands(app, cli);
  AddMemberCommands(app, cli);
  AddMcpCommands(app, cli);
  AddGraphFileCommands(app, cli);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (!cli.action) return kExitUsage;
  Session session(cli.global);
  Status s = cli.action(session);
  if (s.ok()) return kExitOk;
  if (cli.global.json) {
    std::fprintf(stderr, "%s\n", ErrorBody(s).dump().c_str());
  } else {
    std::string msg = "mgteam: " + s.message();
    if (s.details().contains("field") && s.details()["field"].is_string() &&
        s.message().find(s.details()["field"].get<std::string>()) == std::string::npos)
      msg += " (field " + s.details()["field"].get<std::string>() + ")";
    std::fprintf(stderr, "%s\n", msg.c_str());
  }
  return ExitCodeFor(s);
}
