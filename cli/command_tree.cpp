#include "command_tree.h"

#include "mgteam/model.h"
#include "mgteam/text.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

namespace mgteam::cli {
namespace {

// Hidden commands and options (CLI11's empty group) are never offered.
bool Visible(const CLI::App* a) { return !a->get_name().empty() && !a->get_group().empty(); }
bool Visible(const CLI::Option* o) { return !o->get_group().empty(); }
bool TakesValue(const CLI::Option* o) { return o->get_items_expected_max() > 0; }
bool StartsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// The option `word` ("--name" or "-n") names in `app` or, since options fall
// through to subcommands, in one of its parents.
CLI::Option* FindOption(CLI::App* app, const std::string& word) {
  if (word.size() < 2 || word[0] != '-') return nullptr;
  for (; app; app = app->get_parent())
    for (CLI::Option* o : app->get_options())
      if (!o->get_positional() && o->check_name(word)) return o;
  return nullptr;
}

CLI::App* FindSubcommand(CLI::App* app, const std::string& word) {
  for (CLI::App* sub : app->get_subcommands([](CLI::App* a) { return Visible(a); }))
    if (sub->check_name(word)) return sub;
  return nullptr;
}

bool IsWorkspaceOption(const CLI::Option* o) { return o->check_lname("workspace"); }

// "TEXT:{bash,zsh,fish}" -> bash, zsh, fish: the set of a CLI::IsMember check.
std::vector<std::string> SetMembers(const std::string& type_name) {
  auto open = type_name.find('{');
  auto close = type_name.find('}', open);
  if (open == std::string::npos || close == std::string::npos) return {};
  return SplitList(type_name.substr(open + 1, close - open - 1));
}

Completion Values(const CLI::Option* o, const std::string& prefix, const std::string& workspace,
                  const ValueLookup& lookup) {
  Completion c;
  const std::string type = o->get_type_name();
  const std::string kind = type.substr(0, type.find(':'));
  auto add = [&](std::string_view v) {
    if (StartsWith(std::string(v), prefix)) c.candidates.push_back({std::string(v), ""});
  };
  if (kind == kFileValue) {
    c.files = true;
  } else if (kind == kMemoryTypeValue) {
    for (auto t : MemoryTypes()) add(t);
  } else if (kind == kRelationshipTypeValue) {
    for (auto t : RelationshipTypes()) add(t);
  } else if (kind == kMemoryIdValue || kind == kDeletedMemoryIdValue || kind == kWorkspaceValue) {
    if (lookup) c.candidates = lookup(kind, prefix, workspace);
  } else {
    for (const auto& m : SetMembers(type)) add(m);
  }
  return c;
}

// The positional that the `index`-th bare word of `app` fills, if any; the
// last one takes every word left when it takes several.
const CLI::Option* Positional(CLI::App* app, size_t index) {
  auto list = app->get_options([](const CLI::Option* o) { return o->get_positional(); });
  if (list.empty()) return nullptr;
  if (index < list.size()) return list[index];
  const CLI::Option* last = list.back();
  return last->get_items_expected_max() > 1 ? last : nullptr;
}

// The edits (insert, delete, replace, swap two neighbours) between a and b.
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

std::vector<std::string> SubcommandNames(CLI::App& app) {
  std::vector<std::string> out;
  for (CLI::App* sub : app.get_subcommands([](CLI::App* a) { return Visible(a); })) {
    out.push_back(sub->get_name());
    for (const auto& alias : sub->get_aliases()) out.push_back(alias);
  }
  return out;
}

std::string UpperCase(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

CLI::Validator UnitInterval() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        char* end = nullptr;
        double d = std::strtod(v.c_str(), &end);
        if (v.empty() || *end != '\0' || !(d >= 0.0 && d <= 1.0)) return "must be a number from 0 to 1, not " + v;
        return "";
      },
      "0..1");
}

void AddAliases(CLI::App& root) {
  static const std::vector<std::pair<std::string, std::string>> kAliases = {
      {"list", "ls"},           {"delete", "rm"},        {"conflicts", "conflict"},
      {"member", "members"},    {"workspace", "workspaces"}, {"team", "teams"},
      {"relationship", "relationships"}, {"memory", "memories"}, {"token", "tokens"},
      {"events", "event"}};
  std::vector<std::string> taken = SubcommandNames(root);
  for (CLI::App* sub : root.get_subcommands([](CLI::App* a) { return Visible(a); })) {
    for (const auto& [name, alias] : kAliases)
      if (sub->get_name() == name && std::find(taken.begin(), taken.end(), alias) == taken.end()) {
        sub->alias(alias);
        taken.push_back(alias);
      }
    AddAliases(*sub);
  }
}

std::optional<std::string> ClosestName(const std::string& typed, const std::vector<std::string>& names) {
  if (typed.empty()) return std::nullopt;
  // Short words have few letters to spare: one edit for up to four letters.
  const size_t allowed = typed.size() <= 4 ? 1 : 2;
  std::optional<std::string> best;
  size_t best_distance = allowed + 1;
  bool tie = false;
  for (const auto& n : names) {
    size_t d = EditDistance(typed, n);
    if (d < best_distance) {
      best = n;
      best_distance = d;
      tie = false;
    } else if (d == best_distance && best != n) {
      tie = true;
    }
  }
  if (best && !tie) return best;
  // "mem" for memory: the start of exactly one name.
  std::optional<std::string> only;
  for (const auto& n : names)
    if (typed.size() >= 2 && StartsWith(n, typed)) {
      if (only && *only != n) return std::nullopt;
      only = n;
    }
  return only;
}

namespace {

// Where the first `count` words lead: the command reached, how many bare
// words it was given, and what else the line said on the way.
struct Walk {
  CLI::App* app;
  size_t positional = 0;                 // bare words given to `app` so far
  std::string workspace;                 // the value of --workspace/-w
  const CLI::Option* pending = nullptr;  // the option whose value comes next
  bool after_dashes = false;             // past "--": only positionals follow
  std::string unknown_command;           // a word that named no subcommand
  std::string unknown_option;            // a "-x" no command on the way has

  Walk(CLI::App& root, const std::vector<std::string>& words, size_t count) : app(&root) {
    for (size_t i = 0; i < count && i < words.size(); ++i) Step(words[i]);
  }

  void Step(const std::string& w) {
    if (pending) {
      if (IsWorkspaceOption(pending)) workspace = w;
      pending = nullptr;
      return;
    }
    if (!after_dashes && w == "--") {
      after_dashes = true;
      return;
    }
    if (!after_dashes && w.size() > 2 && w[0] == '-' && w[1] != '-') {
      // "-n5", "-wplatform": a short option with its value attached.
      if (CLI::Option* o = FindOption(app, w.substr(0, 2)); o && TakesValue(o)) {
        if (IsWorkspaceOption(o)) workspace = w.substr(2);
        return;
      }
    }
    if (!after_dashes && w.size() > 1 && w[0] == '-') {
      size_t eq = StartsWith(w, "--") ? w.find('=') : std::string::npos;
      CLI::Option* o = FindOption(app, w.substr(0, eq));
      if (!o && unknown_option.empty()) unknown_option = w.substr(0, eq);
      if (o && TakesValue(o) && eq == std::string::npos) pending = o;
      if (o && eq != std::string::npos && IsWorkspaceOption(o)) workspace = w.substr(eq + 1);
      return;
    }
    if (!after_dashes && positional == 0 && unknown_command.empty()) {
      if (CLI::App* sub = FindSubcommand(app, w)) {
        app = sub;
        return;
      }
      if (!Positional(app, 0) && !SubcommandNames(*app).empty()) unknown_command = w;
    }
    ++positional;
  }
};

}  // namespace

CommandStop FollowCommands(CLI::App& root, const std::vector<std::string>& words) {
  Walk w(root, words, words.size());
  CommandStop stop{w.app, w.unknown_command, w.unknown_option, false};
  stop.needs_subcommand = w.unknown_command.empty() && w.positional == 0 && w.app->get_require_subcommand_min() > 0;
  return stop;
}

Completion Complete(CLI::App& root, const std::vector<std::string>& words, const ValueLookup& lookup) {
  Walk w(root, words, words.empty() ? 0 : words.size() - 1);
  CLI::App* app = w.app;
  const size_t positional = w.positional;
  const std::string& workspace = w.workspace;
  const bool after_dashes = w.after_dashes;
  const std::string cur = words.empty() ? std::string() : words.back();
  if (w.pending) return Values(w.pending, cur, workspace, lookup);
  if (!after_dashes && StartsWith(cur, "--") && cur.find('=') != std::string::npos) {
    // --workspace=pla<TAB>: the values, each after "--workspace=".
    size_t eq = cur.find('=');
    const CLI::Option* o = FindOption(app, cur.substr(0, eq));
    if (!o || !TakesValue(o)) return {};
    Completion c = Values(o, cur.substr(eq + 1), workspace, lookup);
    for (auto& cand : c.candidates) cand.value = cur.substr(0, eq + 1) + cand.value;
    return c;
  }

  Completion c;
  if (!after_dashes && StartsWith(cur, "-")) {
    std::set<std::string> seen;
    for (CLI::App* a = app; a; a = a->get_parent())
      for (const CLI::Option* o : a->get_options()) {
        if (o->get_positional() || !Visible(o)) continue;
        std::vector<std::string> names;
        for (const auto& l : o->get_lnames()) names.push_back("--" + l);
        // Short names only once a single dash is all there is: "--" lists long ones.
        if (!StartsWith(cur, "--"))
          for (const auto& sn : o->get_snames()) names.push_back("-" + sn);
        for (const auto& n : names)
          if (StartsWith(n, cur) && seen.insert(n).second) c.candidates.push_back({n, o->get_description()});
      }
    return c;
  }
  if (!after_dashes && positional == 0) {
    for (CLI::App* sub : app->get_subcommands([](CLI::App* a) { return Visible(a); }))
      if (StartsWith(sub->get_name(), cur)) c.candidates.push_back({sub->get_name(), sub->get_description()});
  }
  if (const CLI::Option* p = Positional(app, positional)) {
    Completion v = Values(p, cur, workspace, lookup);
    c.files = v.files;
    for (auto& cand : v.candidates) c.candidates.push_back(std::move(cand));
  }
  return c;
}

}  // namespace mgteam::cli
