// The tools `mgteam mcp` offers an assistant (docs/mcp.md): MemoryGraph's
// tools under their names and parameters, so prompts written for MemoryGraph
// keep working, and the team's own (sync_status, list_workspaces,
// team_activity, list_conflicts).
//
// Every tool works on the local replica like the CLI does (cli/local.h):
// reads answer offline, writes are queued in the outbox and sent by the agent
// or, without one, from here. Each takes an optional `workspace` (id, slug or
// name; the current one otherwise). Every list is paged (limit/offset) with a
// default that keeps an answer far below 25,000 tokens, and list entries
// carry at most kBriefContent characters of a memory's text (get_memory has
// all of it).
#pragma once

#include "mcp/protocol.h"
#include "session.h"

#include <vector>

namespace mgteam::cli {

inline constexpr size_t kBriefContent = 500;

// The tools, for the global options `mgteam mcp` was started with.
std::vector<mcp::Tool> AssistantTools(const GlobalOptions& base);

}  // namespace mgteam::cli
