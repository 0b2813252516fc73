// The change log, live: the SSE stream, the polling view, and /metrics.
#include "http/http_server.h"
#include "metrics.h"
#include "routes/params.h"
#include "routes/routes.h"
#include "sync/long_polls.h"
#include "sync/stream_hub.h"

#include "mgteam/clock.h"
#include "mgteam/digest.h"

#include <charconv>

namespace mgteam::server {
namespace {

constexpr int kDefaultEvents = 100;
constexpr int kMaxEvents = 1000;
constexpr int kMaxWaitSeconds = 60;

// Last-Event-ID (what a browser sends on its own reconnect) wins over ?since=.
Result<std::optional<int64_t>> ResumePoint(const Request& r) {
  if (auto h = r.Header("Last-Event-ID"); h && !h->empty()) {
    int64_t v = -1;
    auto [p, ec] = std::from_chars(h->data(), h->data() + h->size(), v);
    if (ec != std::errc() || p != h->data() + h->size() || v < 0)
      return Status::BadRequest("invalid_last_event_id", "Last-Event-ID must be a seq this server sent");
    return std::optional<int64_t>(v);
  }
  return SeqParam(r, "since");
}

Result<Reply> Stream(Request& r) {
  if (!r.server().hub) return Status::Unavailable("no_stream", "streaming is not available");
  MG_ASSIGN_OR_RETURN(auto since, ResumePoint(r));
  MG_ASSIGN_OR_RETURN(std::shared_ptr<void> slot, r.server().hub->Reserve(r.auth().user.id));
  std::unique_ptr<Transport> transport = HttpServer::TakeTransport();
  if (!transport) return Status::Internal("the stream could not take over its connection");
  StreamRequest s;
  s.transport = std::move(transport);
  s.workspace_id = r.workspace().id;
  s.user_id = r.auth().user.id;
  s.token_id = r.auth().token.id;
  if (const auto& until = r.auth().token.expires_at) s.token_expires = ParseRfc3339(*until);
  s.since = since;
  s.epoch = r.Query("epoch");
  s.slot = std::move(slot);
  r.server().hub->Serve(std::move(s));
  return Reply{200, json::object()};  // discarded: the hub wrote the response
}

// What a parked long-poll carries to its resumed pass: when it must answer,
// and its slot against the caps (held until it does).
struct WaitingPoll {
  std::chrono::steady_clock::time_point deadline;
  std::shared_ptr<void> slot;
};

// With ?wait=N and nothing after the cursor, the request parks (LongPolls)
// instead of holding a worker; each resumed pass goes through the router
// again, so a token revoked or a member removed meanwhile gets 401 / 404,
// never the change that woke the poll.
Result<Reply> ListEvents(Request& r) {
  MG_ASSIGN_OR_RETURN(auto since, SeqParam(r, "since"));
  MG_ASSIGN_OR_RETURN(int limit, LimitParam(r, kDefaultEvents, kMaxEvents));
  MG_ASSIGN_OR_RETURN(auto wait, SeqParam(r, "wait"));
  if (wait && *wait > kMaxWaitSeconds)
    return Status::BadRequest("invalid_parameter", "wait is at most 60 seconds").with("parameter", "wait");
  auto epoch = r.Query("epoch");
  const int64_t after = since.value_or(0);
  auto resumed = std::static_pointer_cast<WaitingPoll>(HttpServer::Resumed());
  const auto deadline =
      resumed ? resumed->deadline : std::chrono::steady_clock::now() + std::chrono::seconds(wait.value_or(0));

  json out;
  bool empty = false;
  int64_t head = 0;
  MG_RETURN_IF_ERROR(r.store().Read([&](Tx& tx) -> Status {
    MG_ASSIGN_OR_RETURN(auto ws, tx.FindWorkspace(r.workspace().id));
    if (!ws) return Status::NotFound("the workspace was deleted");
    head = ws->head_seq;
    out = {{"head_seq", ws->head_seq}, {"epoch", ws->epoch}};
    // A cursor from the future or from another epoch cannot be resumed:
    // the client must reload from a snapshot.
    if (after > ws->head_seq || (epoch && *epoch != ws->epoch)) {
      out["reset"] = true;
      out["events"] = json::array();
      return Status::Ok();
    }
    MG_ASSIGN_OR_RETURN(auto rows, tx.ListEventRows(ws->id, after, limit));
    json items = json::array();
    for (const auto& row : rows) items.push_back(json::parse(row.data, nullptr, false));
    empty = items.empty();
    out["events"] = std::move(items);
    return Status::Ok();
  }));
  LongPolls* polls = r.server().polls;
  if (!empty || out.contains("reset") || !polls || polls->stopped() || std::chrono::steady_clock::now() >= deadline)
    return Reply{200, out};

  auto state = std::make_shared<WaitingPoll>(WaitingPoll{deadline, resumed ? resumed->slot : nullptr});
  if (!state->slot) {
    MG_ASSIGN_OR_RETURN(state->slot, polls->Reserve(r.auth().user.id));
    if (r.server().metrics) r.server().metrics->long_polls++;
  }
  // A token that expires before the deadline wakes the poll then, to be
  // refused (token_expired) instead of answered at the deadline.
  auto wake_at = deadline;
  if (const auto& until = r.auth().token.expires_at)
    if (auto expires = ParseRfc3339(*until))
      // (a moment after it, so the resumed pass finds it expired)
      wake_at = std::min(wake_at, std::chrono::steady_clock::now() + std::chrono::milliseconds(100) +
                                      std::chrono::duration_cast<std::chrono::steady_clock::duration>(*expires - Now()));
  LongPolls::Wait w{r.workspace().id, head, r.auth().token.id, wake_at};
  if (!HttpServer::Park(state, [polls, w](std::unique_ptr<ParkedRequest> p) { polls->Park(std::move(p), w); }))
    return Reply{200, out};  // not on a parkable connection: answer what there is
  return Reply{200, json::object()};  // dropped: the resumed request answers
}

// A page of the workspace's live memories or relationships in id order.
// Replicas page through it, then follow the log from the head_seq of the
// first page; applying events by version makes the result exact even when
// writes land between pages.
Result<Reply> Snapshot(Request& r) {
  std::string kind = r.Query("kind").value_or("memories");
  if (kind != "memories" && kind != "relationships" && kind != "conflicts")
    return Status::BadRequest("invalid_parameter", "kind must be memories, relationships or conflicts")
        .with("parameter", "kind");
  MG_ASSIGN_OR_RETURN(int limit, LimitParam(r, 1000, 5000));
  std::string after = r.Query("after").value_or("");
  json out;
  MG_RETURN_IF_ERROR(r.store().Read([&](Tx& tx) -> Status {
    MG_ASSIGN_OR_RETURN(auto ws, tx.FindWorkspace(r.workspace().id));
    if (!ws) return Status::NotFound("the workspace was deleted");
    json items = json::array();
    std::string last;
    if (kind == "memories") {
      MG_ASSIGN_OR_RETURN(auto rows, tx.MemoriesAfter(ws->id, after, limit));
      for (const auto& m : rows) items.push_back(m.ToJson());
      if (!rows.empty()) last = rows.back().id;
    } else if (kind == "conflicts") {
      ConflictQuery q;  // the open ones, in id order
      q.workspace_id = ws->id;
      q.oldest_first = true;
      if (!after.empty()) q.after_id = after;
      q.limit = limit;
      MG_ASSIGN_OR_RETURN(auto rows, tx.ListConflicts(q));
      for (const auto& c : rows) items.push_back(c.ToJson());
      if (!rows.empty()) last = rows.back().id;
    } else {
      MG_ASSIGN_OR_RETURN(auto rows, tx.RelationshipsAfter(ws->id, after, limit));
      for (const auto& rel : rows) items.push_back(rel.ToJson());
      if (!rows.empty()) last = rows.back().id;
    }
    bool full = static_cast<int>(items.size()) == limit;
    out = {{"kind", kind},
           {"items", std::move(items)},
           {"next_after", full ? json(last) : json(nullptr)},
           {"head_seq", ws->head_seq},
           {"epoch", ws->epoch}};
    return Status::Ok();
  }));
  return Reply{200, out};
}

// A fingerprint of the workspace's live rows (mgteam/digest.h has the rule),
// so a replica can check in one request that it holds exactly the server's
// state. Everything is read in one transaction: head_seq and both digests
// describe the same moment, whatever lands meanwhile. Rows are paged inside
// that transaction so a large workspace is not held in memory at once.
Result<Reply> Digest(Request& r) {
  constexpr int kPage = 2000;
  json out;
  MG_RETURN_IF_ERROR(r.store().Read([&](Tx& tx) -> Status {
    MG_ASSIGN_OR_RETURN(auto ws, tx.FindWorkspace(r.workspace().id));
    if (!ws) return Status::NotFound("the workspace was deleted");
    RowDigest memories, relationships;
    for (std::string after;;) {
      MG_ASSIGN_OR_RETURN(auto rows, tx.MemoriesAfter(ws->id, after, kPage));
      for (const auto& m : rows) memories.Add(m);
      if (static_cast<int>(rows.size()) < kPage) break;
      after = rows.back().id;
    }
    for (std::string after;;) {
      MG_ASSIGN_OR_RETURN(auto rows, tx.RelationshipsAfter(ws->id, after, kPage));
      for (const auto& rel : rows) relationships.Add(rel);
      if (static_cast<int>(rows.size()) < kPage) break;
      after = rows.back().id;
    }
    out = {{"workspace_id", ws->id},
           {"head_seq", ws->head_seq},
           {"epoch", ws->epoch},
           {"memories", memories.ToJson()},
           {"relationships", relationships.ToJson()}};
    return Status::Ok();
  }));
  return Reply{200, out};
}

// Every member with whether they have a live stream open on this workspace
// now (an agent, `events --follow`, a browser) and when they last did.
Result<Reply> PresenceRoute(Request& r) {
  json live = r.server().hub ? r.server().hub->presence().Of(r.workspace().id) : json::object();
  MG_ASSIGN_OR_RETURN(auto members, r.store().ReadValue<std::vector<Member>>(
                                        [&](Tx& tx) { return tx.ListMembers(r.workspace().id); }));
  json out = json::array();
  int online = 0;
  for (const auto& m : members) {
    json seen = live.contains(m.user_id) ? live[m.user_id] : json::object();
    bool on = seen.value("online", false);
    online += on;
    out.push_back({{"user_id", m.user_id},
                   {"name", m.name},
                   {"role", m.role},
                   {"online", on},
                   {"streams", seen.value("streams", 0)},
                   {"last_seen", seen.contains("last_seen") ? seen["last_seen"] : json(nullptr)}});
  }
  return Reply{200, {{"presence", out}, {"online", online}}};
}

Result<Reply> MetricsRoute(Request& r) {
  if (!r.server().metrics) return Status::Unavailable("no_metrics", "metrics are not available");
  if (!r.config().metrics_listen.empty())
    return Status(Code::kNotFound, "route_not_found", "metrics are served on --metrics-listen, not here");
  // Reply bodies are JSON; the Prometheus text travels as one string that
  // the router writes verbatim (see Router::Dispatch).
  return Reply{200, json(r.server().metrics->Prometheus()), "text/plain; version=0.0.4"};
}

}  // namespace

void AddSyncRoutes(Router& router) {
  router.Add({"GET", "/api/v1/sync/stream", Access::kWorkspace, Permission::kMemoryRead, "",
              "The live change stream (SSE)", Stream});
  router.Add({"GET", "/api/v1/workspaces/{ws}/events", Access::kWorkspace, Permission::kMemoryRead, "",
              "Change-log events after a seq, long-polling with wait", ListEvents});
  router.Add({"GET", "/api/v1/workspaces/{ws}/snapshot", Access::kWorkspace, Permission::kMemoryRead, "",
              "A page of live memories or relationships in id order (replica sync)", Snapshot});
  router.Add({"GET", "/api/v1/workspaces/{ws}/digest", Access::kWorkspace, Permission::kMemoryRead, "",
              "A fingerprint of the live memories and relationships, to verify a replica", Digest});
  router.Add({"GET", "/api/v1/workspaces/{ws}/presence", Access::kWorkspace, Permission::kTeamRead, "",
              "Who is connected now (open streams), with last-seen times", PresenceRoute});
  router.Add({"GET", "/metrics", Access::kPublic, {}, "", "Prometheus metrics", MetricsRoute});
}

}  // namespace mgteam::server
