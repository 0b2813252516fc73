// The command tree as data: what may come next on a command line (shell
// completion) and which command a mistyped word was meant to be. Both read
// the CLI11 tree the commands registered, so a new command or flag completes
// and is suggested the moment it exists; there is no hand-kept list to go
// stale (docs/cli.md, "Completion"). Pure: no I/O, unit-tested
// (tests/unit/command_tree_test.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mgteam::cli {

// Type names that tell completion where an option's values come from; set
// them with ->type_name(). Enumerations need none: a CLI::IsMember check's
// set is completed as it is.
inline constexpr const char* kMemoryIdValue = "MEMORY_ID";
inline constexpr const char* kDeletedMemoryIdValue = "DELETED_MEMORY_ID";  // memory restore
inline constexpr const char* kWorkspaceValue = "WORKSPACE";
inline constexpr const char* kMemoryTypeValue = "MEMORY_TYPE";
inline constexpr const char* kRelationshipTypeValue = "RELATIONSHIP_TYPE";
inline constexpr const char* kFileValue = "FILE";

// A check for values from 0 to 1 (importance, confidence, strength) that
// says so in words: "must be a number from 0 to 1, not 2".
CLI::Validator UnitInterval();

// Relationship types are stored upper case; people type them any way
// (`--type solves`): a CLI11 transform.
std::string UpperCase(std::string s);

struct Candidate {
  std::string value;
  std::string description;
};

// Values of a dynamic kind (memory ids, workspaces) that begin with
// `prefix`; `workspace` is what the line chose with --workspace/-w ("" for
// the configured one).
using ValueLookup = std::function<std::vector<Candidate>(const std::string& kind, const std::string& prefix,
                                                         const std::string& workspace)>;

struct Completion {
  std::vector<Candidate> candidates;
  bool files = false;  // the value is a file name: let the shell complete it
};

// What can replace the last of `words` (the words after the program name;
// the last is the one being typed, "" at a fresh word).
Completion Complete(CLI::App& root, const std::vector<std::string>& words, const ValueLookup& lookup);

// The name among `names` closest to `typed` when it is close enough to be a
// typo (a few edits, or a prefix of only one): "memroy" -> "memory".
std::optional<std::string> ClosestName(const std::string& typed, const std::vector<std::string>& names);

// Where a command line leaves the tree: the deepest command it reached, the
// word that named none of that command's subcommands (a typo), an option no
// command on the way has, and whether it stopped where a subcommand must follow.
struct CommandStop {
  CLI::App* app;
  std::string unknown_command;
  std::string unknown_option;
  bool needs_subcommand;
};
CommandStop FollowCommands(CLI::App& root, const std::vector<std::string>& words);

// The other names people type for a command, given to every command of the
// tree that has the name: ls for list, rm for delete, and the plural or
// singular of a noun ("conflict", "members"). A name a sibling already has is
// left alone.
void AddAliases(CLI::App& root);

// The names and aliases of `app`'s visible subcommands.
std::vector<std::string> SubcommandNames(CLI::App& app);

}  // namespace mgteam::cli
