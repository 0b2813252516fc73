// The MCP protocol layer without I/O (cli/mcp/protocol.h) and the argument
// checks (cli/mcp/arguments.h): lines in, lines out.
#include "mcp/arguments.h"
#include "mcp/protocol.h"

#include <doctest/doctest.h>

using namespace mgteam;
using namespace mgteam::mcp;

namespace {

Server Echo() {
  Tool echo{"echo", "Echo", "Says it back",
            {{"type", "object"},
             {"properties", {{"text", {{"type", "string"}, {"maxLength", 5}}}, {"n", {{"type", "integer"}, {"minimum", 1}, {"maximum", 3}}}}},
             {"required", {"text"}}},
            {{"type", "object"}},
            [](const json& args) -> Result<json> {
              if (args["text"] == "fail") return Status::Invalid("x", "it failed; try another text");
              return json{{"said", args["text"]}, {"had_n", args.contains("n")}};
            }};
  return Server({"t", "", "1.0", ""}, {echo});
}

json Answer(Server& s, const json& msg) {
  auto out = s.HandleLine(msg.dump());
  REQUIRE(out);
  CHECK(out->find('\n') == std::string::npos);  // one message per line
  return json::parse(*out);
}

json Call(Server& s, json args) {
  return Answer(s, {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"},
                    {"params", {{"name", "echo"}, {"arguments", std::move(args)}}}})["result"];
}

}  // namespace

TEST_CASE("initialize echoes a supported version, answers others with the newest and never fails") {
  Server s = Echo();
  for (std::string v : {"2025-11-25", "2025-06-18", "2025-03-26"}) {
    json r = Answer(s, {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "initialize"}, {"params", {{"protocolVersion", v}}}});
    CHECK(r["result"]["protocolVersion"] == v);
  }
  for (json v : {json("2024-11-05"), json(7), json(nullptr)}) {
    json r = Answer(s, {{"jsonrpc", "2.0"}, {"id", "a"}, {"method", "initialize"}, {"params", {{"protocolVersion", v}}}});
    CHECK(r["id"] == "a");
    CHECK(r["result"]["protocolVersion"] == "2025-11-25");
  }
  json bare = Answer(s, {{"jsonrpc", "2.0"}, {"id", 2}, {"method", "initialize"}});
  CHECK(bare["result"]["capabilities"]["tools"]["listChanged"] == false);
}

TEST_CASE("unknown methods, garbage, notifications, responses and batches") {
  Server s = Echo();
  CHECK(Answer(s, {{"jsonrpc", "2.0"}, {"id", 3}, {"method", "server/discover"}})["error"]["code"] == kMethodNotFound);
  json garbage = json::parse(*s.HandleLine("{not json"));
  CHECK(garbage["error"]["code"] == kParseError);
  CHECK(garbage["id"].is_null());
  CHECK_FALSE(s.HandleLine(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  CHECK_FALSE(s.HandleLine(R"({"jsonrpc":"2.0","id":5,"result":{}})"));
  CHECK_FALSE(s.HandleLine("   "));
  CHECK(json::parse(*s.HandleLine("42"))["error"]["code"] == kInvalidRequest);
  CHECK(json::parse(*s.HandleLine("[]"))["error"]["code"] == kInvalidRequest);
  CHECK(json::parse(*s.HandleLine(R"({"jsonrpc":"2.0","id":{"x":1},"method":"ping"})"))["error"]["code"] ==
        kInvalidRequest);
  json batch = json::parse(*s.HandleLine(
      R"([{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":2,"method":"nope"}])"));
  REQUIRE(batch.size() == 2);
  CHECK(batch[0]["result"] == json::object());
  CHECK(batch[1]["error"]["code"] == kMethodNotFound);
  // Still serving.
  CHECK(Answer(s, {{"jsonrpc", "2.0"}, {"id", 9}, {"method", "ping"}})["result"] == json::object());
}

TEST_CASE("tools/call: results carry structuredContent and the same JSON as text, failures are isError") {
  Server s = Echo();
  json list = Answer(s, {{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/list"}})["result"]["tools"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["inputSchema"]["required"] == json({"text"}));
  CHECK(list[0]["outputSchema"]["type"] == "object");

  json ok = Call(s, {{"text", "hi"}, {"n", nullptr}});
  CHECK(ok["isError"] == false);
  CHECK(ok["structuredContent"] == json({{"said", "hi"}, {"had_n", false}}));  // null: not given
  CHECK(json::parse(ok["content"][0]["text"].get<std::string>()) == ok["structuredContent"]);
  CHECK(Call(s, {{"text", "hi"}, {"n", 2.0}})["isError"] == false);  // 2.0 is an integer

  json failed = Call(s, {{"text", "fail"}});
  CHECK(failed["isError"] == true);
  CHECK(failed["content"][0]["text"].get<std::string>().find("try another text") != std::string::npos);

  json unknown = Answer(s, {{"jsonrpc", "2.0"}, {"id", 4}, {"method", "tools/call"}, {"params", {{"name", "nope"}}}});
  CHECK(unknown["error"]["code"] == kInvalidParams);
}

TEST_CASE("argument checks name the argument and say how to fix it") {
  const json schema = {{"type", "object"},
                       {"properties",
                        {{"id", {{"type", "string"}, {"minLength", 1}}},
                         {"depth", {{"type", "integer"}, {"minimum", 1}, {"maximum", 5}}},
                         {"kinds", {{"type", "array"}, {"items", {{"type", "string"}, {"enum", {"a", "b"}}}}}},
                         {"title", {{"type", "string"}, {"maxLength", 3}}}}},
                       {"required", {"id"}}};
  auto message = [&](const json& args) {
    Status s = CheckArguments(schema, args);
    return s.ok() ? std::string() : s.message();
  };
  CHECK(message({{"id", "x"}, {"depth", 3}, {"kinds", {"a"}}}).empty());
  CHECK(message(json::object()) == "missing argument 'id' (required: id)");
  CHECK(message({{"id", 3}}) == "argument 'id' must be a string, not 3");
  CHECK(message({{"id", ""}}) == "argument 'id' must not be empty");
  CHECK(message({{"id", "x"}, {"depth", 9}}) == "argument 'depth' must be an integer from 1 to 5, not 9");
  CHECK(message({{"id", "x"}, {"depth", 2.5}}) == "argument 'depth' must be an integer from 1 to 5, not 2.5");
  CHECK(message({{"id", "x"}, {"kinds", {"a", "c"}}}) == "argument 'kinds[1]' must be one of: a, b (not \"c\")");
  CHECK(message({{"id", "x"}, {"title", "héllo"}}).find("at most 3 characters (it has 5)") != std::string::npos);
  CHECK(message({{"id", "x"}, {"Depth", 1}}) == "unknown argument 'Depth'; this tool takes: depth, id, kinds, title");
  CHECK(message(json::array()).find("must be a JSON object") != std::string::npos);
}
