// The Model Context Protocol's server side over newline-delimited JSON-RPC
// 2.0 (stdio transport), without any I/O: a line in, at most a line out.
// `mgteam mcp` (cli/commands/mcp.cpp) feeds it stdin and writes its answers
// to stdout; the unit tests feed it strings.
//
// What it implements (docs/mcp.md): initialize (version negotiation: the
// client's version echoed when supported, else our newest; never an error),
// ping, tools/list, tools/call. Unknown methods get -32601 and the session
// goes on; a line that is not JSON gets -32700; notifications and responses
// are taken without an answer. A batch (an array, protocol 2025-03-26) gets
// an array of answers.
#pragma once

#include "mgteam/status.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mgteam::mcp {

using nlohmann::json;

// Protocol versions we speak, newest first.
inline const std::vector<std::string> kProtocolVersions = {"2025-11-25", "2025-06-18", "2025-03-26"};

// JSON-RPC error codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;

struct Tool {
  std::string name;
  std::string title;
  std::string description;
  json input_schema;   // checked before `call` runs (arguments.h)
  json output_schema;  // what `call` returns, as structuredContent
  // The complete result (a JSON object), or an error whose message tells
  // the assistant what went wrong and what to do.
  std::function<Result<json>(const json& args)> call;
};

struct ServerInfo {
  std::string name, title, version, instructions;
};

class Server {
 public:
  Server(ServerInfo info, std::vector<Tool> tools);

  // One line of input; the line to write back, if any.
  std::optional<std::string> HandleLine(std::string_view line);

  // The version agreed in initialize ("" before it).
  const std::string& protocol_version() const { return version_; }

 private:
  std::optional<json> HandleMessage(const json& msg);
  json Initialize(const json& params);
  json ListTools() const;
  // A tools/call result (a tool's failure included, as isError), or an error
  // for the call itself (an unknown tool: -32602).
  Result<json> CallTool(const json& params);

  ServerInfo info_;
  std::vector<Tool> tools_;
  std::string version_;
};

}  // namespace mgteam::mcp
