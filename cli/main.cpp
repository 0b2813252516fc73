// mgteam: the command-line client. `mgteam <noun> <verb>`; see `man mgteam`.
#include "command_tree.h"
#include "exit_codes.h"
#include "render.h"
#include "session.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

using namespace mgteam;
using namespace mgteam::cli;

namespace {

// A command line the parser refused, explained: a mistyped command or flag is
// named with what was probably meant, and a command given without the
// subcommand it needs ("mgteam", "mgteam memory") shows its help.
int ExplainParseError(CLI::App& app, const std::vector<std::string>& args, const CLI::ParseError& e) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help, --version
  CommandStop stop = FollowCommands(app, args);
  std::string path = stop.app->get_name();
  for (const CLI::App* a = stop.app->get_parent(); a; a = a->get_parent()) path = a->get_name() + " " + path;
  if (!stop.unknown_command.empty()) {
    std::string msg = "mgteam: '" + stop.unknown_command + "' is not a command of `" + path + "`";
    if (auto guess = ClosestName(stop.unknown_command, SubcommandNames(*stop.app)))
      msg += "; did you mean `" + path + " " + *guess + "`?";
    std::fprintf(stderr, "%s\nSee `%s --help` for the commands.\n", msg.c_str(), path.c_str());
    return kExitUsage;
  }
  if (!stop.unknown_option.empty()) {
    std::vector<std::string> names;
    for (CLI::App* a = stop.app; a; a = a->get_parent())
      for (const CLI::Option* o : a->get_options())
        for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    std::string msg = "mgteam: `" + path + "` has no option " + stop.unknown_option;
    if (auto guess = ClosestName(stop.unknown_option, names)) msg += "; did you mean " + *guess + "?";
    std::fprintf(stderr, "%s\nSee `%s --help` for its options.\n", msg.c_str(), path.c_str());
    return kExitUsage;
  }
  // Only "a subcommand is required": a flag missing its value (`--server`
  // at the end) is a mistake like any other, exit 2.
  if (stop.needs_subcommand && dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
      std::string(e.what()).find("ubcommand") != std::string::npos) {
    std::fputs(stop.app->help().c_str(), stdout);
    return kExitOk;
  }
  app.exit(e);
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // Warnings from the libraries go to stderr: stdout carries what scripts
  // parse (--json) and, for `mgteam mcp`, the protocol.
  spdlog::set_default_logger(spdlog::stderr_color_mt("mgteam"));
  Cli cli;
  CLI::App app{"mgteam: share your AI assistant's memories with your team, live", "mgteam"};
  app.set_version_flag("--version", std::string("mgteam ") + MGTEAM_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--server", cli.global.server, "Server URL (overrides MGTEAM_SERVER and the config)");
  app.add_option("--workspace,-w", cli.global.workspace,
                 "Workspace id, slug or name (overrides MGTEAM_WORKSPACE and the config)")
      ->type_name(kWorkspaceValue);
  app.add_flag("--json", cli.global.json, "Machine-readable JSON output");

  AddServerCommands(app, cli);
  AddAccountCommands(app, cli);
  AddTokenCommands(app, cli);
  AddTeamCommands(app, cli);
  AddWorkspaceCommands(app, cli);
  AddMemoryCommands(app, cli);
  AddRelationshipCommands(app, cli);
  AddRevisionCommands(app, cli);
  AddEventCommands(app, cli);
  AddSyncCommands(app, cli);
  AddConflictCommands(app, cli);
  AddActivityCommands(app, cli);
  AddMemberCommands(app, cli);
  AddMcpCommands(app, cli);
  AddGraphFileCommands(app, cli);
  AddCompletionCommand(app, cli);
  AddAliases(app);

  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args.front() == "__complete")
    return RunCompletion(app, cli.global, std::vector<std::string>(args.begin() + 1, args.end()));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return ExplainParseError(app, args, e);
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
