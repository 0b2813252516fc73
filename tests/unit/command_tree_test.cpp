// The command tree as data (cli/command_tree.h): completion and typo
// suggestions over a small CLI11 tree built here.
#include "command_tree.h"

#include <doctest/doctest.h>

using namespace mgteam::cli;

namespace {

struct Tree {
  CLI::App app{"test", "mgteam"};
  std::string ws, id, shell, file, title;
  std::vector<std::string> tags;
  bool flag = false;
  Tree() {
    app.add_option("--workspace,-w", ws)->type_name(kWorkspaceValue);
    app.add_flag("--json", flag);
    auto* memory = app.add_subcommand("memory", "Memories");
    auto* get = memory->add_subcommand("get", "Show one");
    get->add_option("id", id)->type_name(kMemoryIdValue);
    auto* add = memory->add_subcommand("add", "Record one");
    add->add_option("title", title);
    add->add_option("--tag", tags, "A tag");
    add->add_option("--type", title)->type_name(kMemoryTypeValue);
    add->add_option("--content-file,-f", file)->type_name(kFileValue);
    memory->add_subcommand("list", "List them");
    app.add_subcommand("member", "Members");
    app.add_subcommand("completion", "Scripts")->add_option("shell", shell)->check(CLI::IsMember({"bash", "zsh", "fish"}));
    app.add_subcommand("hidden", "")->group("");
    AddAliases(app);
  }
};

std::vector<std::string> Values(const Completion& c) {
  std::vector<std::string> out;
  for (const auto& x : c.candidates) out.push_back(x.value);
  return out;
}

// Records what the lookup was asked for.
struct Lookup {
  std::string kind, prefix, workspace;
  ValueLookup fn() {
    return [this](const std::string& k, const std::string& p, const std::string& w) {
      kind = k, prefix = p, workspace = w;
      return std::vector<Candidate>{{p + "-match", "a title"}};
    };
  }
};

}  // namespace

TEST_CASE("completion walks the tree: commands, flags (inherited too), enumerations, types and files") {
  Tree t;
  Lookup l;
  CHECK(Values(Complete(t.app, {"mem"}, l.fn())) == std::vector<std::string>{"memory", "member"});
  CHECK(Values(Complete(t.app, {""}, l.fn())).size() == 3);  // hidden ones are not offered
  CHECK(Values(Complete(t.app, {"memory", "l"}, l.fn())) == std::vector<std::string>{"list"});
  CHECK(Values(Complete(t.app, {"memories", "a"}, l.fn())) == std::vector<std::string>{"add"});  // an alias leads too
  CHECK(Values(Complete(t.app, {"memory", "add", "--t"}, l.fn())) == std::vector<std::string>{"--tag", "--type"});
  auto flags = Values(Complete(t.app, {"memory", "add", "--"}, l.fn()));
  CHECK(std::find(flags.begin(), flags.end(), "--workspace") != flags.end());
  CHECK(std::find(flags.begin(), flags.end(), "--json") != flags.end());
  CHECK(Values(Complete(t.app, {"memory", "add", "--type", "pro"}, l.fn())) ==
        std::vector<std::string>{"problem", "project"});
  CHECK(Values(Complete(t.app, {"completion", "z"}, l.fn())) == std::vector<std::string>{"zsh"});
  CHECK(Complete(t.app, {"memory", "add", "-f", ""}, l.fn()).files);
  // A flag's value is skipped: the positional after it still completes.
  CHECK(Values(Complete(t.app, {"--json", "memory", "get", "01a"}, l.fn())) == std::vector<std::string>{"01a-match"});
  CHECK(l.kind == kMemoryIdValue);
  CHECK(l.workspace.empty());
}

TEST_CASE("completion hands the lookup the workspace the line chose, in either spelling") {
  Tree t;
  Lookup l;
  Complete(t.app, {"-w", "platform", "memory", "get", "01"}, l.fn());
  CHECK(l.workspace == "platform");
  Complete(t.app, {"--workspace=infra", "memory", "get", "01"}, l.fn());
  CHECK(l.workspace == "infra");
  auto ws = Values(Complete(t.app, {"--workspace=pl"}, l.fn()));
  CHECK(ws == std::vector<std::string>{"--workspace=pl-match"});
  CHECK(l.kind == kWorkspaceValue);
}

TEST_CASE("typos: the closest name when it is close, nothing when it is not or when two are as close") {
  std::vector<std::string> names = {"memory", "member", "conflicts", "list", "login", "logout"};
  CHECK(ClosestName("memroy", names) == "memory");
  CHECK(ClosestName("conflict", names) == "conflicts");
  CHECK(ClosestName("lsit", names) == "list");
  CHECK(ClosestName("mem", names) == std::nullopt);  // memory or member
  CHECK(ClosestName("conf", names) == "conflicts");   // the start of only one
  CHECK(ClosestName("xyzzy", names) == std::nullopt);
  CHECK(ClosestName("", names) == std::nullopt);
}

TEST_CASE("the tree says where a command line stops: a typo, an unknown flag, a missing subcommand") {
  Tree t;
  t.app.require_subcommand(1);
  t.app.get_subcommand("memory")->require_subcommand(1);
  auto typo = FollowCommands(t.app, {"memroy", "list"});
  CHECK(typo.unknown_command == "memroy");
  CHECK(typo.app == &t.app);
  auto flag = FollowCommands(t.app, {"memory", "add", "--tga", "x"});
  CHECK(flag.unknown_option == "--tga");
  CHECK(flag.app->get_name() == "add");
  CHECK(FollowCommands(t.app, {}).needs_subcommand);
  CHECK(FollowCommands(t.app, {"memory"}).needs_subcommand);
  CHECK_FALSE(FollowCommands(t.app, {"memory", "ls"}).needs_subcommand);
  // A positional is not a typo.
  CHECK(FollowCommands(t.app, {"memory", "add", "A title"}).unknown_command.empty());
}

TEST_CASE("UnitInterval says what is wrong in words") {
  CLI::App app;
  double v = 0;
  app.add_option("--importance", v)->check(UnitInterval());
  CHECK_NOTHROW(app.parse(std::vector<std::string>{"0.25", "--importance"}));
  CHECK(v == doctest::Approx(0.25));
  try {
    app.parse(std::vector<std::string>{"2", "--importance"});
    FAIL("2 was accepted");
  } catch (const CLI::ValidationError& e) {
    CHECK(std::string(e.what()).find("from 0 to 1, not 2") != std::string::npos);
  }
}
