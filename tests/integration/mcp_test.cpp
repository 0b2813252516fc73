// `mgteam mcp` against a real server: raw JSON-RPC on its stdin/stdout, the
// official MCP client (npm @modelcontextprotocol/sdk, tests/js/mcp_client.mjs)
// calling every tool, a teammate's write reaching the assistant, offline
// writes delivered later, three MCP processes writing at once beside the
// agent, and `mgteam mcp install`.
#include "machine.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

using namespace mgteam;
using namespace mgteam::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string JsDir() {
  std::string js = MGTEAM_TESTS_JS_DIR;
  REQUIRE_MESSAGE(std::filesystem::exists(js + "/node_modules/@modelcontextprotocol/sdk"),
                  "run scripts/test (it installs tests/js with npm ci)");
  return js;
}

json Rpc(int id, const std::string& method, json params = json::object()) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

json Initialize(int id, const std::string& version) {
  return Rpc(id, "initialize",
             {{"protocolVersion", version}, {"capabilities", json::object()},
              {"clientInfo", {{"name", "raw"}, {"version", "1"}}}});
}

json ToolCall(int id, const std::string& name, json args) {
  return Rpc(id, "tools/call", {{"name", name}, {"arguments", std::move(args)}});
}

// Every line of `out` as JSON; fails the test on a line that is not.
std::vector<json> JsonLines(const std::string& out) {
  std::vector<json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    REQUIRE_MESSAGE(!j.is_discarded(), "stdout carried something other than JSON: ", line);
    lines.push_back(std::move(j));
  }
  return lines;
}

// The SDK client bridge (tests/js/mcp_client.mjs) on one machine.
class Assistant {
 public:
  explicit Assistant(Machine& m) {
    auto env = m.Env();
    env["MCP_COMMAND"] = CliBinary();
    env["MCP_ARGS"] = R"(["mcp"])";
    node_ = ChildProcess::Spawn({"node", JsDir() + "/mcp_client.mjs"}, env, true);
    ready_ = Read();
    REQUIRE_MESSAGE(ready_.value("ready", false), ready_.dump(), node_->Stderr());
  }
  ~Assistant() {
    node_->CloseStdin();
    node_->Wait(10s);
  }
  const json& ready() const { return ready_; }
  json List() {
    node_->WriteLine(json{{"list", true}}.dump());
    return Read();
  }
  // The CallToolResult, or {"error", "code"} when the call itself failed.
  json Call(const std::string& name, json args = json::object()) {
    node_->WriteLine(json{{"call", name}, {"arguments", std::move(args)}}.dump());
    json j = Read();
    return j.contains("result") ? j["result"] : j;
  }
  // A successful call's structuredContent (REQUIREs success).
  json Ok(const std::string& name, json args = json::object()) {
    json r = Call(name, args);
    REQUIRE_MESSAGE((r.contains("structuredContent") && !r.value("isError", true)), name, " ", args.dump(), " -> ",
                    r.dump());
    // The text block carries the same JSON.
    CHECK(json::parse(r["content"][0]["text"].get<std::string>()) == r["structuredContent"]);
    return r["structuredContent"];
  }
  // A call the tool refused (isError); returns its message.
  std::string Refused(const std::string& name, json args) {
    json r = Call(name, args);
    REQUIRE_MESSAGE(r.value("isError", false), name, " ", args.dump(), " -> ", r.dump());
    CHECK_FALSE(r.contains("structuredContent"));
    return r["content"][0]["text"].get<std::string>();
  }

 private:
  json Read() {
    auto line = node_->ReadLine(Scaled(30s));
    REQUIRE_MESSAGE(line, "the MCP client stalled; stderr: ", node_->Stderr());
    return json::parse(*line);
  }
  std::unique_ptr<ChildProcess> node_;
  json ready_;
};

std::string CliBinaryPath() { return CliBinary(); }

}  // namespace

TEST_CASE("raw JSON-RPC: versions are negotiated, unknown methods and garbage are answered, stdout holds only JSON") {
  TeamServer ts("Raw");
  Machine alice(ts.url(), ts.alice);
  for (std::string v : {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2099-01-01", ""}) {
    auto r = alice.Cli({"mcp"}, Initialize(1, v).dump() + "\n");
    REQUIRE(r.exit_code == 0);
    auto lines = JsonLines(r.out);
    REQUIRE(lines.size() == 1);
    const bool ours = v == "2025-11-25" || v == "2025-06-18" || v == "2025-03-26";
    CHECK(lines[0]["result"]["protocolVersion"] == (ours ? v : "2025-11-25"));
    CHECK(lines[0]["result"]["capabilities"].contains("tools"));
    CHECK(lines[0]["result"]["serverInfo"]["name"] == "mgteam");
  }

  std::string input = Initialize(1, "2025-11-25").dump() + "\n" +
                      R"({"jsonrpc":"2.0","method":"notifications/initialized"})" + "\n" +
                      Rpc(2, "server/discover").dump() + "\n" +
                      "this is not json\n" +
                      Rpc(3, "ping").dump() + "\n" +
                      ToolCall(4, "store_memory", {{"type", "fix"}, {"title", "Raw fix"}, {"content", "x"},
                                                   {"workspace", "Raw"}}).dump() + "\n" +
                      ToolCall(5, "no_such_tool", json::object()).dump() + "\n" +
                      ToolCall(6, "get_memory", {{"memory_id", 42}}).dump() + "\n" +
                      "[" + Rpc(7, "ping").dump() + "," + Rpc(8, "resources/list").dump() + "]\n" +
                      R"({"jsonrpc":"2.0","id":9,"result":{}})" + "\n" +
                      Rpc(10, "tools/list").dump() + "\n";
  auto r = alice.Cli({"mcp"}, input);
  CHECK(r.exit_code == 0);  // EOF on stdin ends it
  auto lines = JsonLines(r.out);
  // initialize, discover, parse error, ping, store, unknown tool, bad args, the batch, tools/list
  REQUIRE(lines.size() == 9);
  CHECK(lines[0]["id"] == 1);
  CHECK(lines[1]["id"] == 2);
  CHECK(lines[1]["error"]["code"] == -32601);
  CHECK(lines[2]["id"].is_null());
  CHECK(lines[2]["error"]["code"] == -32700);
  CHECK(lines[3]["id"] == 3);
  CHECK(lines[3]["result"] == json::object());
  CHECK(lines[4]["id"] == 4);
  CHECK(lines[4]["result"]["isError"] == false);
  CHECK(lines[4]["result"]["structuredContent"]["workspace"]["name"] == "Raw");
  CHECK(lines[5]["error"]["code"] == -32602);
  CHECK(lines[6]["result"]["isError"] == true);
  CHECK(lines[6]["result"]["content"][0]["text"].get<std::string>().find("memory_id") != std::string::npos);
  REQUIRE(lines[7].is_array());
  CHECK(lines[7][0]["result"] == json::object());
  CHECK(lines[7][1]["error"]["code"] == -32601);
  CHECK(lines[8]["id"] == 10);
  CHECK(lines[8]["result"]["tools"].size() == 14);
  // The memory stored through the protocol is on the server.
  auto found = ts.http->Get("/api/v1/workspaces/" + ts.team + "/memories", ts.alice.token);
  REQUIRE(found.body["memories"].size() == 1);
  CHECK(found.body["memories"][0]["title"] == "Raw fix");
}

TEST_CASE("the official MCP client lists the tools and calls every one with good and bad arguments") {
  TeamServer ts("Platform Team");
  Machine alice(ts.url(), ts.alice);
  Assistant a(alice);
  CHECK(a.ready()["server"]["name"] == "mgteam");
  CHECK(a.ready()["instructions"].get<std::string>().find("recall_memories") != std::string::npos);

  json tools = a.List()["tools"];
  std::set<std::string> names;
  for (const auto& t : tools) {
    names.insert(t["name"].get<std::string>());
    CHECK(t["inputSchema"]["type"] == "object");
    CHECK(t["inputSchema"]["properties"].contains("workspace"));
    CHECK(t["outputSchema"]["type"] == "object");
    CHECK(!t["description"].get<std::string>().empty());
  }
  CHECK(names == std::set<std::string>{"store_memory", "get_memory", "search_memories", "update_memory",
                                       "delete_memory", "create_relationship", "get_related_memories",
                                       "recall_memories", "get_recent_activity", "get_memory_statistics",
                                       "sync_status", "list_workspaces", "team_activity", "list_conflicts"});

  const json team = {{"workspace", "Platform Team"}};
  auto with_team = [&](json args) {
    args["workspace"] = "Platform Team";
    return args;
  };
  // A problem, a solution that SOLVES it, a pattern the solution BUILDS_ON,
  // and an unsolved error: a chain of three for the traversal.
  json problem = a.Ok("store_memory", with_team({{"type", "problem"}, {"title", "Redis connection timeout under load"},
                                                 {"content", "Workers time out connecting to Redis past 64."},
                                                 {"tags", {"Redis", "timeout"}}, {"importance", 0.8},
                                                 {"context", {{"project_path", "/src/shop"}}}}));
  const std::string problem_id = problem["memory_id"];
  CHECK(problem["sync_state"] == "synced");
  CHECK(problem["memory"]["tags"] == json({"redis", "timeout"}));
  json solution = a.Ok("store_memory", with_team({{"type", "solution"}, {"title", "Retry Redis connect with jitter"},
                                                  {"content", std::string(3000, 'j')}}));
  const std::string solution_id = solution["memory_id"];
  json pattern = a.Ok("store_memory", with_team({{"type", "code_pattern"}, {"title", "Exponential backoff"},
                                                 {"content", "sleep = uniform(0, min(cap, base * 2 ** n))"}}));
  json error = a.Ok("store_memory", with_team({{"type", "error"}, {"title", "CSV export breaks on café names"},
                                               {"content", "Latin-1 output"}}));
  json rel = a.Ok("create_relationship", with_team({{"from_memory_id", solution_id}, {"to_memory_id", problem_id},
                                                    {"relationship_type", "SOLVES"}, {"strength", 0.9}}));
  CHECK(rel["relationship"]["type"] == "SOLVES");
  a.Ok("create_relationship", with_team({{"from_memory_id", solution_id}, {"to_memory_id", pattern["memory_id"]},
                                         {"relationship_type", "BUILDS_ON"}}));

  json got = a.Ok("get_memory", with_team({{"memory_id", problem_id}}));
  CHECK(got["memory"]["title"] == "Redis connection timeout under load");
  REQUIRE(got["relationships"].size() == 1);
  CHECK(got["relationships"][0]["other_title"] == "Retry Redis connect with jitter");
  CHECK(got["relationships"][0]["direction"] == "incoming");

  json found = a.Ok("search_memories", with_team({{"query", "redis timeouts"}}));
  REQUIRE(found["count"] == 1);  // "timeout" is a prefix of nothing in the solution
  CHECK(found["memories"][0]["id"] == problem_id);
  CHECK(a.Ok("search_memories", with_team({{"query", "redis timeouts"}, {"search_tolerance", "strict"}}))["count"] == 0);
  CHECK(a.Ok("search_memories", with_team({{"terms", {"jitter", "backoff"}}}))["count"] == 2);
  CHECK(a.Ok("search_memories", with_team({{"tags", {"REDIS"}}}))["count"] == 1);
  CHECK(a.Ok("search_memories", with_team({{"project_path", "/src/shop/"}}))["count"] == 1);
  CHECK(a.Ok("search_memories", with_team({{"min_importance", 0.7}}))["count"] == 1);
  CHECK(a.Ok("search_memories", with_team({{"relationship_filter", {"BUILDS_ON"}}}))["count"] == 2);
  json page = a.Ok("search_memories", with_team({{"limit", 3}}));
  CHECK(page["count"] == 3);
  CHECK(page["has_more"] == true);
  CHECK(a.Ok("search_memories", with_team({{"limit", 3}, {"offset", 3}}))["count"] == 1);

  json recalled = a.Ok("recall_memories", with_team({{"query", "how did we fix redis timeout"}}));
  REQUIRE(recalled["count"].get<int>() >= 2);
  CHECK(recalled["memories"][0]["id"] == problem_id);
  bool cut = false;
  for (const auto& m : recalled["memories"]) {
    CHECK(m.contains("relationships"));
    if (m["id"] == solution_id) cut = m.value("content_truncated", false) && m["content"].get<std::string>().size() < 3000;
  }
  CHECK(cut);  // lists carry a memory's text cut short; get_memory has all of it
  CHECK(a.Ok("get_memory", with_team({{"memory_id", solution_id}}))["memory"]["content"].get<std::string>().size() == 3000);

  json related = a.Ok("get_related_memories", with_team({{"memory_id", problem_id}, {"max_depth", 2}}));
  REQUIRE(related["total"] == 2);
  CHECK(related["related"][0]["memory"]["id"] == solution_id);
  CHECK(related["related"][0]["depth"] == 1);
  CHECK(related["related"][1]["memory"]["id"] == pattern["memory_id"]);
  CHECK(related["related"][1]["depth"] == 2);
  CHECK(related["related"][1]["path"].size() == 2);
  CHECK(a.Ok("get_related_memories", with_team({{"memory_id", problem_id}, {"max_depth", 2},
                                                {"relationship_types", {"SOLVES"}}}))["total"] == 1);

  json updated = a.Ok("update_memory", with_team({{"memory_id", problem_id}, {"importance", 1.0}, {"tags", {"redis"}}}));
  CHECK(updated["memory"]["importance"] == 1.0);
  CHECK(updated["memory"]["version"] == 2);
  // Context keys are set one by one; the others stay.
  json branched = a.Ok("update_memory", with_team({{"memory_id", problem_id}, {"context", {{"git_branch", "fix/redis"}}}}));
  CHECK(branched["memory"]["context"] == json({{"project_path", "/src/shop"}, {"git_branch", "fix/redis"}}));

  json recent = a.Ok("get_recent_activity", team);
  CHECK(recent["total"] == 4);
  REQUIRE(recent["unresolved_problems"].size() == 1);  // the problem is solved; the error is not
  CHECK(recent["unresolved_problems"][0]["id"] == error["memory_id"]);

  json stats = a.Ok("get_memory_statistics", team);
  CHECK(stats["memories"] == 4);
  CHECK(stats["relationships"] == 2);
  CHECK(stats["memories_by_type"]["problem"] == 1);
  CHECK(stats["relationships_by_type"]["SOLVES"] == 1);

  json sync = a.Ok("sync_status", team);
  CHECK(sync["pending"] == 0);
  CHECK(sync["failed"] == 0);
  CHECK(sync["agent_running"] == false);

  json ws = a.Ok("list_workspaces");
  CHECK(ws["workspaces"].size() == 2);
  CHECK(ws["current"]["id"] == ts.alice.personal_ws);

  json activity = a.Ok("team_activity", with_team({{"entity_type", "memory"}}));
  REQUIRE(activity["count"].get<int>() >= 5);
  CHECK(activity["activity"][0]["sentence"].get<std::string>().find("alice") != std::string::npos);

  CHECK(a.Ok("list_conflicts", team)["count"] == 0);

  json deleted = a.Ok("delete_memory", with_team({{"memory_id", error["memory_id"]}}));
  CHECK(deleted["deleted"] == true);
  CHECK(a.Ok("get_memory_statistics", team)["memories"] == 3);

  // Bad arguments: a result with isError whose text says how to fix the call.
  CHECK(a.Refused("store_memory", {{"title", "t"}, {"content", "c"}}).find("missing argument 'type'") != std::string::npos);
  CHECK(a.Refused("store_memory", {{"type", "decision"}, {"title", "t"}, {"content", "c"}}).find("one of") != std::string::npos);
  CHECK(a.Refused("store_memory", {{"type", "fix"}, {"title", ""}, {"content", "c"}}).find("title") != std::string::npos);
  CHECK(a.Refused("get_memory", {{"memory_id", "no-such-id"}}).find("no memory") != std::string::npos);
  CHECK(a.Refused("get_memory", {{"memoryId", problem_id}}).find("unknown argument 'memoryId'") != std::string::npos);
  CHECK(a.Refused("search_memories", {{"limit", 5000}}).find("from 1 to 50") != std::string::npos);
  CHECK(a.Refused("recall_memories", {{"memory_types", {"bogus"}}}).find("memory_types[0]") != std::string::npos);
  CHECK(a.Refused("update_memory", {{"memory_id", problem_id}}).find("say what to change") != std::string::npos);
  CHECK(a.Refused("update_memory", {{"memory_id", problem_id}, {"importance", 2}}).find("from 0") != std::string::npos);
  CHECK(a.Refused("delete_memory", json::object()).find("memory_id") != std::string::npos);
  CHECK(a.Refused("create_relationship", {{"from_memory_id", problem_id}, {"to_memory_id", problem_id},
                                          {"relationship_type", "FIXES"}}).find("SOLVES") != std::string::npos);
  CHECK(a.Refused("get_related_memories", {{"memory_id", problem_id}, {"max_depth", 6}}).find("from 1 to 5") !=
        std::string::npos);
  CHECK(a.Refused("get_recent_activity", {{"days", "seven"}}).find("integer") != std::string::npos);
  CHECK(a.Refused("get_memory_statistics", {{"workspace", "No Such Team"}}).find("No Such Team") != std::string::npos);
  CHECK(a.Refused("sync_status", {{"verbose", true}}).find("unknown argument") != std::string::npos);
  CHECK(a.Refused("list_workspaces", {{"workspace", 7}}).find("string") != std::string::npos);
  CHECK(a.Refused("team_activity", with_team({{"since", "yesterday-ish"}})).find("since") != std::string::npos);
  CHECK(a.Refused("list_conflicts", {{"status", "closed"}}).find("open, all") != std::string::npos);
  CHECK(a.Refused("search_memories", {{"tags", {std::string(100, 't')}}}).find("tag") != std::string::npos);
  // An unknown tool is a protocol error (-32602), not a tool result.
  json unknown = a.Call("forget_everything", json::object());
  CHECK(unknown.value("code", 0) == -32602);
}

TEST_CASE("a teammate's memory, added with the CLI or by his assistant on another machine, reaches the assistant's search within a second") {
  TeamServer ts("Live Team");
  Machine alice(ts.url(), ts.alice), bob(ts.url(), ts.bob);
  alice.StartAgent();
  Assistant a(alice);
  const json team = {{"workspace", "Live Team"}, {"query", "flaky checkout"}};
  CHECK(a.Ok("search_memories", team)["count"] == 0);
  auto added = bob.Cli({"-w", "Live Team", "memory", "add", "Flaky checkout test fixed", "--type", "fix", "--wait"});
  REQUIRE_MESSAGE(added.exit_code == 0, added.err);
  auto start = std::chrono::steady_clock::now();
  bool seen = Eventually([&] { return a.Ok("search_memories", team)["count"] == 1; }, Scaled(1000ms));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  CHECK_MESSAGE(seen, "not seen after ", took.count(), " ms");
  MESSAGE("bob's memory reached alice's assistant in ", took.count(), " ms");

  // The other way round, assistant to assistant: Bob's stores, Alice's finds.
  bob.StartAgent();
  {
    Assistant b(bob);
    json stored = b.Ok("store_memory", {{"workspace", "Live Team"}, {"type", "solution"},
                                        {"title", "Flaky checkout: wait for the payment iframe"},
                                        {"content", "await frame.ready before clicking pay"}});
    const std::string id = stored["memory_id"];
    bool found = Eventually(
        [&] {
          json found_now = a.Ok("search_memories", team);  // kept: iterating a temporary's member dangles
          for (const auto& m : found_now["memories"])
            if (m["id"] == id) return true;
          return false;
        },
        Scaled(2000ms));
    CHECK_MESSAGE(found, "alice's assistant did not find the memory bob's assistant stored: ", stored.dump(),
                  "\nbob's agent: ", bob.AgentLog());
  }

  // Without an agent, the next call catches up with the server first.
  alice.StopAgent();
  bob.Cli({"-w", "Live Team", "memory", "add", "Flaky checkout test again", "--type", "problem", "--wait"});
  CHECK(a.Ok("search_memories", team)["count"] == 3);
}

TEST_CASE("a memory stored offline is kept and reaches the server once it is back") {
  TeamServer ts("Offline Team");
  Machine alice(ts.url(), ts.alice);
  Assistant a(alice);
  a.Ok("list_workspaces");  // the replica knows the team
  ts.StopServer();
  json stored = a.Ok("store_memory", {{"workspace", "Offline Team"}, {"type", "solution"},
                                      {"title", "Written on a plane"}, {"content", "no network"}});
  CHECK(stored["sync_state"] == "pending");
  CHECK(stored["note"].get<std::string>().find("as soon as the server is reachable") != std::string::npos);
  // Reads answer from the local copy meanwhile.
  CHECK(a.Ok("search_memories", {{"workspace", "Offline Team"}, {"query", "plane"}})["count"] == 1);
  CHECK(a.Ok("sync_status", {{"workspace", "Offline Team"}})["pending"] == 1);
  ts.StartServer();
  // The next call, any call, sends it (no agent runs here).
  json status = a.Ok("sync_status", {{"workspace", "Offline Team"}});
  CHECK(status["pending"] == 0);
  auto on_server = ts.http->Get("/api/v1/workspaces/" + ts.team + "/memories/" +
                                    stored["memory_id"].get<std::string>(), ts.alice.token);
  CHECK(on_server.status == 200);
  CHECK(on_server.body["title"] == "Written on a plane");
}

TEST_CASE("three mgteam mcp processes writing 200 memories each beside the agent put all 600 on the server once") {
  TeamServer ts("Busy Team");
  Machine alice(ts.url(), ts.alice);
  alice.StartAgent();
  REQUIRE(alice.WaitSettled(ts.team));
  std::vector<std::unique_ptr<ChildProcess>> mcps;
  for (int p = 0; p < 3; ++p) {
    mcps.push_back(ChildProcess::Spawn({CliBinaryPath(), "mcp"}, alice.Env(), true));
    REQUIRE(mcps.back()->WriteLine(Initialize(0, "2025-11-25").dump()));
  }
  // Answers are read while requests are still being written, so no pipe
  // fills up and stalls a process; doctest's checks stay on this thread.
  std::vector<std::vector<std::string>> answers(3);
  std::vector<std::thread> readers;
  for (int p = 0; p < 3; ++p)
    readers.emplace_back([&, p] {
      while (auto line = mcps[p]->ReadLine(Scaled(60s))) answers[p].push_back(*line);
    });
  // All three write at once.
  for (int i = 0; i < 200; ++i)
    for (int p = 0; p < 3; ++p)
      REQUIRE(mcps[p]->WriteLine(ToolCall(i + 1, "store_memory",
                                          {{"workspace", "Busy Team"}, {"type", "general"},
                                           {"title", fmt::format("p{} #{}", p, i)},
                                           {"content", "concurrent"}})
                                     .dump()));
  for (int p = 0; p < 3; ++p) mcps[p]->CloseStdin();
  for (auto& t : readers) t.join();
  for (int p = 0; p < 3; ++p) {
    int answered = 0;
    for (const auto& line : answers[p]) {
      json j = json::parse(line);
      if (j["id"] == 0) continue;
      INFO(line);
      CHECK(j["result"]["isError"] == false);
      ++answered;
    }
    CHECK(answered == 200);
    CHECK(mcps[p]->Wait(Scaled(30s)) == 0);
    CHECK(mcps[p]->Stderr().find("database is locked") == std::string::npos);
  }
  REQUIRE(alice.WaitSettled(ts.team, Scaled(60s)));
  std::multiset<std::string> titles;
  std::string cursor;
  do {
    auto page = ts.http->Get("/api/v1/workspaces/" + ts.team + "/memories?limit=500" +
                                 (cursor.empty() ? "" : "&cursor=" + cursor), ts.alice.token);
    for (const auto& m : page.body["memories"]) titles.insert(m["title"].get<std::string>());
    cursor = page.body["next_cursor"].is_string() ? page.body["next_cursor"].get<std::string>() : "";
  } while (!cursor.empty());
  CHECK(titles.size() == 600);
  for (int p = 0; p < 3; ++p)
    for (int i = 0; i < 200; ++i) CHECK(titles.count(fmt::format("p{} #{}", p, i)) == 1);
}

TEST_CASE("mgteam mcp install writes Claude Code's entry beside other servers and refuses to clobber a broken file") {
  TempDir project;
  Machine m("http://127.0.0.1:9", TestUser{});
  const std::string file = project.path() + "/.mcp.json";
  {
    std::ofstream o(file);
    o << R"({"mcpServers": {"memorygraph": {"command": "memorygraph"}}, "other": 1})";
  }
  auto in_project = [&](const std::string& args) {
    return Run({"/bin/sh", "-c", "cd '" + project.path() + "' && '" + CliBinaryPath() + "' " + args}, m.Env());
  };
  auto r = in_project("mcp install");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json config = json::parse(std::ifstream(file));
  CHECK(config["other"] == 1);
  CHECK(config["mcpServers"]["memorygraph"]["command"] == "memorygraph");
  CHECK(config["mcpServers"]["mgteam"]["command"] == CliBinaryPath());
  CHECK(config["mcpServers"]["mgteam"]["args"] == json({"mcp"}));
  CHECK(config["mcpServers"]["mgteam"]["type"] == "stdio");

  auto printed = in_project("--workspace 'Platform Team' mcp install --print");
  REQUIRE(printed.exit_code == 0);
  CHECK(json::parse(printed.out)["mcpServers"]["mgteam"]["args"] == json({"--workspace", "Platform Team", "mcp"}));

  // The user scope goes to ~/.claude.json.
  auto env = m.Env();
  env["HOME"] = project.path() + "/home";
  std::filesystem::create_directories(env["HOME"]);
  auto user = Run({CliBinaryPath(), "mcp", "install", "--scope", "user"}, env);
  REQUIRE_MESSAGE(user.exit_code == 0, user.err);
  CHECK(json::parse(std::ifstream(env["HOME"] + "/.claude.json"))["mcpServers"].contains("mgteam"));

  // A link planted in a cloned repository is not written through.
  const std::string victim = project.path() + "/victim";
  { std::ofstream(victim) << "precious"; }
  std::filesystem::remove(file);
  std::filesystem::create_symlink(victim, file);
  auto linked = in_project("mcp install");
  CHECK(linked.exit_code != 0);
  CHECK(linked.err.find("symbolic link") != std::string::npos);
  std::ifstream untouched(victim);
  CHECK(std::string(std::istreambuf_iterator<char>(untouched), {}) == "precious");
  std::filesystem::remove(file);

  {
    std::ofstream o(file, std::ios::trunc);
    o << "{ not json";
  }
  auto broken = in_project("mcp install");
  CHECK(broken.exit_code != 0);
  CHECK(broken.err.find("not a JSON object") != std::string::npos);
  std::ifstream still(file);
  CHECK(std::string(std::istreambuf_iterator<char>(still), {}) == "{ not json");
}
