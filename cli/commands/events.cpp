// mgteam events: a workspace's change log.
#include "mgteam/stream_client.h"
#include "render.h"
#include "session.h"
#include "titles.h"

#include <csignal>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace mgteam::cli {
namespace {

using nlohmann::json;

// "alice created memory "Fixed Redis timeout"".
std::string Describe(const json& e, MemoryTitles& titles) {
  std::string type = e.value("type", "");
  std::string who = e.value("actor_name", e.value("actor", "someone"));
  std::string what;
  if (e.contains("memory")) what = "\"" + e["memory"].value("title", "") + "\"";
  else if (e.contains("relationship"))
    what = titles.Of(e["relationship"].value("from_memory_id", "")) + " " + e["relationship"].value("type", "") +
           " " + titles.Of(e["relationship"].value("to_memory_id", ""));
  else if (e.contains("member")) what = e["member"].value("name", "") + " (" + e["member"].value("role", "") + ")";
  else if (e.contains("workspace")) what = "\"" + e["workspace"].value("name", "") + "\"";
  else if (e.contains("conflict")) {
    const json& c = e["conflict"];
    std::string field = c.value("field", "");
    what = (field.empty() ? c.value("kind", "") : field) + " of \"" + c.value("title", "") + "\"";
  }
  std::string line = who + " " + type + " " + what;
  if (auto c = e.find("conflicts"); c != e.end() && c->is_array() && !c->empty())
    line += " (merged; " + std::to_string(c->size()) + " conflicting value" + (c->size() == 1 ? "" : "s") + " kept)";
  else if (e.contains("merge"))
    line += " (merged)";
  return line;
}

void PrintEvent(const json& e, bool as_json, MemoryTitles& titles) {
  // JSON Lines: one event per line, flushed, so `--json` output streams into jq.
  if (as_json) std::cout << e.dump() << std::endl;
  else
    std::cout << "#" << e.value("seq", 0) << "  " << Describe(e, titles) << "  " << Dim(Ago(e.value("at", "")))
              << std::endl;
}

}  // namespace

// Follows the stream until Ctrl-C (exit 0) or a permanent refusal.
Status Follow(Session& s, ApiClient& api, const WorkspaceRef& ws, std::optional<int64_t> since,
              const std::function<void(const json&)>& print, int64_t backlog) {
  if (!since) {
    MG_ASSIGN_OR_RETURN(json w, api.Get("/api/v1/workspaces/" + ws.id));
    since = std::max<int64_t>(0, w.value("head_seq", int64_t{0}) - backlog);
  }
  StreamClientOptions opts;
  opts.server = api.url();
  MG_ASSIGN_OR_RETURN(opts.token, s.Token(api.url()));
  opts.path = "/api/v1/sync/stream?workspace_id=" + ws.id;
  opts.last_event_id = std::to_string(*since);
  EventStreamClient client(opts);

  // Ctrl-C stops the client from an ordinary thread (signal handlers cannot
  // take locks); the waiter is released the same way once Run() returns.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    client.Stop();
  });

  Status ended;
  bool announced = false;
  std::string closed_because;  // the server's stated reason, if it closed the stream
  Status run = client.Run(
      [&](const SseEvent& ev) {
        json e = json::parse(ev.data, nullptr, false);
        if (!e.is_object()) return;
        std::string type = e.value("type", "");
        if (type == "connected") {
          if (!announced) Note("Following " + ws.name + " (Ctrl-C to stop)");
          else Note("Reconnected; resuming after #" + client.last_event_id());
          announced = true;
        } else if (type == "reset") {
          Note("The server's log was reset (restored or rebuilt); following from its head.");
          client.set_last_event_id(std::to_string(e.value("head_seq", int64_t{0})));
        } else if (type == "closed") {
          std::string reason = e.value("reason", "");
          if (reason == "membership_revoked" || reason == "token_revoked" || reason == "workspace_deleted") {
            ended = Status(Code::kPermissionDenied, reason,
                           "the stream was closed: " + reason + " (" + ws.name + ")");
            client.Stop();
          }
          closed_because = reason;
        } else if (e.contains("seq")) {
          print(e);
        }
      },
      [&](EventStreamClient::State state, const Status& why) {
        if (state != EventStreamClient::State::kDisconnected) return;
        if (closed_because == "server_shutdown") Note("The server is restarting; reconnecting...");
        else if (!closed_because.empty()) Note("The server closed the stream (" + closed_because + "); reconnecting...");
        else Note("Connection lost (" + why.message() + "); reconnecting...");
        closed_because.clear();
      });
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!ended.ok()) return ended;
  return run;
}

void AddEventCommands(CLI::App& app, Cli& cli) {
  struct Opts {
    std::optional<int64_t> since;
    int limit = 100;
    bool follow = false;
  };
  auto o = std::make_shared<Opts>();
  auto* events = app.add_subcommand("events", "Print the current workspace's change log");
  events->add_option("--since", o->since, "Only events after this seq (oldest first from there)")
      ->check(CLI::NonNegativeNumber);
  auto* limit = events->add_option("--limit,-n", o->limit,
                                   "How many: the newest this many (default 100), or the first after --since")
                    ->check(CLI::Range(1, 1000000));
  events->add_flag("--follow,-f", o->follow,
                   "Keep printing new events as they happen (starts with the last 10, or -n, unless --since)");
  events->callback([&cli, o, limit] {
    bool limited = limit->count() > 0;
    cli.action = [o, limited](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
      MG_ASSIGN_OR_RETURN(WorkspaceRef ws, s.Workspace(api));
      MemoryTitles titles(s, ws.id);
      auto print = [&](const json& e) { PrintEvent(e, s.json(), titles); };
      if (o->follow) return Follow(s, api, ws, o->since, print, limited ? o->limit : 10);
      // Without --since, the newest -n, printed oldest first like `tail`.
      int64_t since = o->since.value_or(0);
      if (!o->since) {
        MG_ASSIGN_OR_RETURN(json w, api.Get("/api/v1/workspaces/" + ws.id));
        since = std::max<int64_t>(0, w.value("head_seq", int64_t{0}) - o->limit);
      }
      int printed = 0;
      while (printed < o->limit) {
        int page = std::min(1000, o->limit - printed);
        MG_ASSIGN_OR_RETURN(json r, api.Get("/api/v1/workspaces/" + ws.id + "/events?since=" +
                                            std::to_string(since) + "&limit=" + std::to_string(page)));
        if (r.value("reset", false))
          return Status::Invalid("cursor_ahead", "--since " + std::to_string(since) +
                                                     " is beyond the newest event (" +
                                                     std::to_string(r.value("head_seq", 0)) + ")");
        const auto& items = r["events"];
        for (const auto& e : items) {
          print(e);
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
