// mgteam events: a workspace's change log.
#include "render.h"
#include "session.h"

#include <iostream>

namespace mgteam::cli {
namespace {

using nlohmann::json;

// "alice created memory "Fixed Redis timeout"".
std::string Describe(const json& e) {
  std::string type = e.value("type", "");
  std::string who = e.value("actor_name", e.value("actor", "someone"));
  std::string what;
  if (e.contains("memory")) what = "\"" + e["memory"].value("title", "") + "\"";
  else if (e.contains("relationship"))
    what = e["relationship"].value("from_memory_id", "") + " " + e["relationship"].value("type", "") +
           " " + e["relationship"].value("to_memory_id", "");
  else if (e.contains("member")) what = e["member"].value("name", "") + " (" + e["member"].value("role", "") + ")";
  else if (e.contains("workspace")) what = "\"" + e["workspace"].value("name", "") + "\"";
  return who + " " + type + " " + what;
}

}  // namespace

void AddEventCommands(CLI::App& app, Cli& cli) {
  struct Opts {
    int64_t since = 0;
    int limit = 100;
  };
  auto o = std::make_shared<Opts>();
  auto* events = app.add_subcommand("events", "Print the current workspace's change log");
  events->add_option("--since", o->since, "Only events after this seq")->check(CLI::NonNegativeNumber);
  events->add_option("--limit,-n", o->limit, "At most this many (default 100)")->check(CLI::Range(1, 1000000));
  events->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef ws, s.Workspace(api));
      int64_t since = o->since;
      int printed = 0;
      while (printed < o->limit) {
        int page = std::min(1000, o->limit - printed);
        MG_ASSIGN_OR_RETURN(json r, api.Get("/api/v1/workspaces/" + ws.id + "/events?since=" +
                                            std::to_string(since) + "&limit=" + std::to_string(page)));
        if (r.value("reset", false))
          return Status::Invalid("cursor_ahead", "--since " + std::to_string(o->since) +
                                                     " is beyond the newest event (" +
                                                     std::to_string(r.value("head_seq", 0)) + ")");
        const auto& items = r["events"];
        for (const auto& e : items) {
          // JSON Lines: one event per line, so `--json` output streams into jq.
          if (s.json()) std::cout << e.dump() << "\n";
          else Say("#" + std::to_string(e.value("seq", 0)) + "  " + Describe(e) + "  " + Dim(Ago(e.value("at", ""))));
          since = e.value("seq", since);
          ++printed;
        }
        if (items.empty() || static_cast<int>(items.size()) < page) break;
      }
      return Status::Ok();
    };
  });
}

}  // namespace mgteam::cli
