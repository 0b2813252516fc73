// mgteam mcp: the Model Context Protocol server on stdio (docs/mcp.md), and
// mgteam mcp install: the entry that tells Claude Code to start it.
//
// Stdout belongs to the protocol: one JSON message per line and nothing else.
// Before anything runs, the real stdout is kept for the protocol alone and
// file descriptor 1 is pointed at stderr, so no stray print from any library
// can corrupt the stream.
#include "mcp/protocol.h"
#include "mcp/tools.h"
#include "render.h"
#include "session.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <unistd.h>

namespace mgteam::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kInstructions =
    "mgteam shares memories (problems, solutions, patterns, decisions and the links between them) with your team, "
    "live. Start with recall_memories for any question about what was learned before; record new learnings with "
    "store_memory and link them with create_relationship (a solution SOLVES a problem). Memories are shared with "
    "everyone in the workspace: never store secrets. Every tool takes an optional `workspace` (list_workspaces).";

Status Serve(const GlobalOptions& global) {
  int proto = ::dup(STDOUT_FILENO);
  if (proto < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
    return Status::Internal("cannot set up stdout for the protocol");
  std::FILE* out = ::fdopen(proto, "w");
  if (!out) return Status::Internal("cannot set up stdout for the protocol");

  mcp::Server server({"mgteam", "mgteam team memory", MGTEAM_VERSION, kInstructions}, AssistantTools(global));
  std::string line;
  while (std::getline(std::cin, line)) {
    auto answer = server.HandleLine(line);
    if (!answer) continue;
    if (std::fputs(answer->c_str(), out) < 0 || std::fputc('\n', out) == EOF || std::fflush(out) != 0) break;  // client gone
  }
  std::fclose(out);
  return Status::Ok();
}

// The command to put in the entry. A project's .mcp.json is shared with the
// team, so there it is plain `mgteam` when that is this binary on PATH (a
// teammate's may live elsewhere); otherwise, and for the user's own config,
// the path this binary runs from, which works whatever PATH the assistant
// is started with.
std::string Command(bool shared) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "mgteam";
  if (shared)
    if (const char* path = std::getenv("PATH")) {
      std::string dirs = path;
      for (size_t at = 0; at <= dirs.size();) {
        size_t end = dirs.find(':', at);
        if (end == std::string::npos) end = dirs.size();
        fs::path candidate = fs::path(dirs.substr(at, end - at)) / "mgteam";
        if (fs::equivalent(candidate, self, ec)) return "mgteam";
        at = end + 1;
      }
    }
  return self.string();
}

json ServerEntry(const GlobalOptions& global, bool shared) {
  json args = json::array();
  if (!global.server.empty()) args.insert(args.end(), {"--server", global.server});
  if (!global.workspace.empty()) args.insert(args.end(), {"--workspace", global.workspace});
  args.push_back("mcp");
  return {{"type", "stdio"}, {"command", Command(shared)}, {"args", args}, {"env", json::object()}};
}

Result<fs::path> ConfigPath(const std::string& scope) {
  if (scope == "project") return fs::current_path() / ".mcp.json";
  const char* home = std::getenv("HOME");
  if (!home || !*home) return Status::Invalid("usage", "HOME is not set; use --scope project or --print");
  return fs::path(home) / ".claude.json";
}

// Adds (or replaces) the "mgteam" entry under mcpServers, keeping everything
// else in the file (WriteFileAtomically: never through a symlink).
Status WriteEntry(const fs::path& path, const json& entry) {
  json config = json::object();
  std::error_code ec;
  unsigned mode = 0644;
  if (fs::is_symlink(path, ec))
    return Status::Invalid("symlink", path.string() + " is a symbolic link; not following it (add the entry from "
                                                      "--print by hand)");
  if (fs::exists(path, ec)) {
    std::ifstream in(path);
    config = json::parse(in, nullptr, false);
    if (config.is_discarded() || !config.is_object())
      return Status::Invalid("invalid_config", path.string() + " is not a JSON object; fix or move it, or use "
                                               "--print and add the entry by hand");
    // The user's ~/.claude.json holds Claude Code's own settings: keep its mode.
    mode = static_cast<unsigned>(fs::status(path, ec).permissions() & fs::perms::mask);
  }
  if (!config.contains("mcpServers") || !config["mcpServers"].is_object()) config["mcpServers"] = json::object();
  config["mcpServers"]["mgteam"] = entry;
  return WriteFileAtomically(path.string(), config.dump(2) + "\n", mode);
}

}  // namespace

void AddMcpCommands(CLI::App& app, Cli& cli) {
  auto* mcp = app.add_subcommand("mcp", "Serve team memory to an AI assistant over MCP (stdio)");
  mcp->callback([&cli, mcp] {
    if (!mcp->get_subcommands().empty()) return;
    cli.action = [&cli](Session&) { return Serve(cli.global); };
  });

  auto scope = std::make_shared<std::string>("project");
  auto print = std::make_shared<bool>(false);
  auto* install = mcp->add_subcommand("install", "Register `mgteam mcp` with Claude Code");
  install->add_option("--scope", *scope, "project: ./.mcp.json (default); user: ~/.claude.json")
      ->check(CLI::IsMember({"project", "user"}));
  install->add_flag("--print", *print, "Print the entry instead of writing it");
  install->callback([&cli, scope, print] {
    cli.action = [&cli, scope, print](Session&) -> Status {
      json entry = ServerEntry(cli.global, *scope == "project");
      if (*print) {
        Say(json{{"mcpServers", {{"mgteam", entry}}}}.dump(2));
        return Status::Ok();
      }
      MG_ASSIGN_OR_RETURN(fs::path path, ConfigPath(*scope));
      MG_RETURN_IF_ERROR(WriteEntry(path, entry));
      Say("Added the mgteam MCP server to " + path.string() +
          (*scope == "project" ? " (Claude Code asks once to trust it; commit the file to share it with the team)"
                               : "") + ". Restart your assistant to pick it up.");
      return Status::Ok();
    };
  });
}

}  // namespace mgteam::cli
