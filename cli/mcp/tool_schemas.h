// What tools/list says about each tool: its description, the input schema
// enforced before the handler runs (mcp/arguments.h) and the output schema
// its structuredContent follows. Kept apart from the handlers so the
// contract an assistant sees can be read in one place (docs/mcp.md).
#pragma once

#include "mcp/protocol.h"

#include <string>

namespace mgteam::cli {

// The tool's definition without its handler. Every input schema has the
// optional `workspace` argument.
mcp::Tool ToolSchema(const std::string& name);

}  // namespace mgteam::cli
