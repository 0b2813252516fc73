#include "protocol.h"

#include "arguments.h"

#include <algorithm>

namespace mgteam::mcp {
namespace {

json Error(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json Answer(const json& id, json result) { return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}; }

// Compact, and never throwing on text that is not UTF-8 (a tool's result
// may quote what someone typed).
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A tool's failure: the model sees it and can correct the call.
json ToolError(const std::string& message) {
  return {{"content", json::array({{{"type", "text"}, {"text", message}}})}, {"isError", true}};
}

}  // namespace

Server::Server(ServerInfo info, std::vector<Tool> tools) : info_(std::move(info)), tools_(std::move(tools)) {}

std::optional<std::string> Server::HandleLine(std::string_view line) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return std::nullopt;
  json msg = json::parse(line, nullptr, false);
  if (msg.is_discarded()) return Dump(Error(nullptr, kParseError, "Parse error: a line must hold one JSON-RPC message"));
  if (msg.is_array()) {
    if (msg.empty()) return Dump(Error(nullptr, kInvalidRequest, "Invalid Request: an empty batch"));
    json answers = json::array();
    for (const auto& m : msg)
      if (auto a = HandleMessage(m)) answers.push_back(std::move(*a));
    if (answers.empty()) return std::nullopt;
    return Dump(answers);
  }
  auto answer = HandleMessage(msg);
  if (!answer) return std::nullopt;
  return Dump(*answer);
}

std::optional<json> Server::HandleMessage(const json& msg) {
  if (!msg.is_object()) return Error(nullptr, kInvalidRequest, "Invalid Request: a message must be a JSON object");
  const bool has_id = msg.contains("id");
  json id = has_id ? msg["id"] : json(nullptr);
  if (has_id && !id.is_string() && !id.is_number_integer())
    return Error(nullptr, kInvalidRequest, "Invalid Request: id must be a string or an integer");
  auto method = msg.find("method");
  if (method == msg.end()) {
    // A response to a request of ours (we send none), or nonsense without an
    // id that cannot be answered.
    if (msg.contains("result") || msg.contains("error") || !has_id) return std::nullopt;
    return Error(id, kInvalidRequest, "Invalid Request: no method");
  }
  if (!method->is_string()) return has_id ? std::optional<json>(Error(id, kInvalidRequest, "Invalid Request: method must be a string")) : std::nullopt;
  const std::string name = method->get<std::string>();
  const json params = msg.contains("params") && msg["params"].is_object() ? msg["params"] : json::object();
  if (!has_id) return std::nullopt;  // notifications: initialized, cancelled, ...

  if (name == "initialize") return Answer(id, Initialize(params));
  if (name == "ping") return Answer(id, json::object());
  if (name == "tools/list") return Answer(id, ListTools());
  if (name == "tools/call") {
    auto result = CallTool(params);
    if (!result.ok()) return Error(id, kInvalidParams, result.status().message());
    return Answer(id, std::move(result).value());
  }
  return Error(id, kMethodNotFound, "Method not found: " + name);
}

json Server::Initialize(const json& params) {
  std::string asked = params.contains("protocolVersion") && params["protocolVersion"].is_string()
                          ? params["protocolVersion"].get<std::string>()
                          : "";
  bool known = std::find(kProtocolVersions.begin(), kProtocolVersions.end(), asked) != kProtocolVersions.end();
  version_ = known ? asked : kProtocolVersions.front();
  json server = {{"name", info_.name}, {"version", info_.version}};
  if (!info_.title.empty()) server["title"] = info_.title;
  json result = {{"protocolVersion", version_},
                 {"capabilities", {{"tools", {{"listChanged", false}}}}},
                 {"serverInfo", server}};
  if (!info_.instructions.empty()) result["instructions"] = info_.instructions;
  return result;
}

json Server::ListTools() const {
  json list = json::array();
  for (const auto& t : tools_) {
    json j = {{"name", t.name}, {"description", t.description}, {"inputSchema", t.input_schema}};
    if (!t.title.empty()) j["title"] = t.title;
    if (!t.output_schema.is_null()) j["outputSchema"] = t.output_schema;
    list.push_back(std::move(j));
  }
  return {{"tools", list}};
}

Result<json> Server::CallTool(const json& params) {
  if (!params.contains("name") || !params["name"].is_string())
    return Status::Invalid("invalid_params", "tools/call needs the tool's name in params.name");
  const std::string name = params["name"].get<std::string>();
  auto tool = std::find_if(tools_.begin(), tools_.end(), [&](const Tool& t) { return t.name == name; });
  if (tool == tools_.end()) return Status::Invalid("unknown_tool", "Unknown tool: " + name + " (tools/list names them)");
  json args = params.contains("arguments") && !params["arguments"].is_null() ? params["arguments"] : json::object();
  if (Status ok = CheckArguments(tool->input_schema, args); !ok.ok())
    return ToolError(name + ": " + ok.message() + ". Fix the arguments and call it again.");
  // Nulls mean "not given" (CheckArguments let them through).
  for (auto it = args.begin(); it != args.end();) it = it->is_null() ? args.erase(it) : std::next(it);
  Result<json> out = tool->call(args);
  if (!out.ok()) return ToolError(name + ": " + out.status().message());
  json result = {{"content", json::array({{{"type", "text"}, {"text", Dump(*out)}}})},
                 {"structuredContent", *out},
                 {"isError", false}};
  return result;
}

}  // namespace mgteam::mcp
