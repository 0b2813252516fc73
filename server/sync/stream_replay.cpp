// StreamHub's request-thread half: a new stream's caps and checks, its
// replay from the change log, and the hand-over to the hub thread
// (stream_hub.h, steps 1 to 3). This side may block — on the database, on a
// slow client, with bounded waits — because it holds only its own request's
// thread; the hub thread, which holds every stream, must never.
#include "sync/stream_hub_records.h"

#include "mgteam/clock.h"

#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace mgteam::server {

namespace {

const char kResponseHead[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream; charset=utf-8\r\n"
    "Cache-Control: no-cache, no-transform\r\n"
    "X-Accel-Buffering: no\r\n"
    "Connection: close\r\n"
    "\r\n";

// What a stream asked for while the hub stops gets. The length is counted,
// not typed: a typed one promised two bytes more than the body had, so
// clients saw the answer as cut short.
std::string UnavailableResponse() {
  std::string body =
      nlohmann::json{{"error", {{"code", "shutting_down"}, {"message", "the server is shutting down; retry"}}}}
          .dump();
  body.push_back('\n');
  std::string out = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n";
  out.append("Content-Length: ");
  out.append(std::to_string(body.size()));
  out.append("\r\n\r\n");
  out.append(body);
  return out;
}

}  // namespace

Result<std::shared_ptr<void>> StreamHub::Reserve(const std::string& user_id) {
  Slots::Refusal why;
  auto slot = streams_slots_->Reserve(user_id, &why);
  if (why == Slots::Refusal::kPerKey)
    return Status(Code::kTooManyRequests, "too_many_streams",
                  "you already have " + std::to_string(streams_slots_->held(user_id)) +
                      " streams open (the limit per account is " + std::to_string(streams_slots_->per_key_cap()) +
                      "); close some first")
        .with("limit", streams_slots_->per_key_cap());
  if (why == Slots::Refusal::kTotal)
    return Status::Unavailable("stream_capacity", "this server holds as many streams as it can; retry later")
        .with("limit", streams_slots_->total_cap());
  return slot;
}

void StreamHub::Serve(StreamRequest r) {
  auto s = std::make_shared<Stream>(backlog_);
  s->slot = std::move(r.slot);
  s->io = std::move(r.transport);
  s->fd = s->io->fd();
  s->ws = r.workspace_id;
  s->user_id = r.user_id;
  s->token_id = r.token_id;
  s->token_expires = r.token_expires;
  int one = 1;
  ::setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Until the hub owns it, this thread writes with bounded waits.
  const int write_ms = static_cast<int>(options_.replay_write_timeout.count() * 1000);
  auto write_all = [&](const std::string& data) { return s->io->WriteAll(data, write_ms); };

  // Ask the hub thread; -1 means it has stopped or dropped the stream.
  auto ask = [&](Command::Kind kind, int64_t seq) {
    auto reply = std::make_shared<std::promise<int>>();
    auto answer = reply->get_future();
    Post(Command(kind, s, "", seq, reply));
    return answer.get();
  };
  // Ends the stream from here: the hub closes the socket if it still runs.
  auto finish = [&](const std::string& last_words) {
    if (!last_words.empty()) write_all(last_words);
    auto reply = std::make_shared<std::promise<int>>();
    auto answer = reply->get_future();
    Post(Command(Command::Kind::kDrop, s, "", 0, reply));
    if (answer.get() < 0) s->io.reset();  // the hub has stopped; the socket is ours to close
  };

  // Where the hub starts fanning out should this be the workspace's first
  // stream: read here, before subscribing, because anything at or below it
  // is then the replay's job (the replay reads after subscribing), and the
  // hub's thread must not wait for a read.
  auto start = store_.ReadValue<std::optional<Workspace>>(
      [&](Tx& tx) { return tx.FindWorkspace(r.workspace_id); });
  const int64_t start_seq = start.ok() && *start ? (*start)->head_seq : 0;
  // Subscribe before reading the log: from now on the hub queues every new
  // frame for this stream, so nothing between the replay and live is missed.
  if (ask(Command::Kind::kSubscribe, start_seq) < 0) {
    write_all(UnavailableResponse());
    s->io.reset();
    return;
  }
  // The router checked the token and the membership before this stream
  // subscribed; a revocation or removal announced in between found no
  // stream to close. Checked again now that announcements reach us, so
  // none slips through that gap.
  std::optional<Workspace> ws;
  bool token_live = false, member = false;
  Status read = store_.Read([&](Tx& tx) -> Status {
    MG_ASSIGN_OR_RETURN(ws, tx.FindWorkspace(r.workspace_id));
    MG_ASSIGN_OR_RETURN(auto tokens, tx.ListTokens(r.user_id));
    const std::string now = NowRfc3339();
    for (const auto& t : tokens) token_live = token_live || (t.id == r.token_id && !t.revoked_at && !t.expired(now));
    MG_ASSIGN_OR_RETURN(auto m, tx.FindMember(r.workspace_id, r.user_id));
    member = m.has_value();
    return Status::Ok();
  });
  std::string head = std::string(kResponseHead) + SseRetry(options_.retry_ms);
  if (!read.ok() || !ws || !token_live || !member) {
    finish(head + ClosedFrame(!read.ok()   ? "server_error"
                              : !ws        ? "workspace_deleted"
                              : !token_live ? "token_revoked"
                                            : "membership_revoked"));
    return;
  }
  nlohmann::json connected = {{"type", "connected"},
                              {"workspace_id", ws->id},
                              {"head_seq", ws->head_seq},
                              {"epoch", ws->epoch}};
  head += SseFrame(std::nullopt, connected.dump());
  // A cursor from the future or from another epoch cannot be resumed: the
  // client must reload from a snapshot. The server closes after `reset`.
  if ((r.since && *r.since > ws->head_seq) || (r.epoch && *r.epoch != ws->epoch)) {
    nlohmann::json reset = {{"type", "reset"}, {"head_seq", ws->head_seq}, {"epoch", ws->epoch}};
    finish(head + SseFrame(std::nullopt, reset.dump()));
    return;
  }
  if (!write_all(head)) {
    finish("");
    return;
  }
  int64_t last = r.since.value_or(ws->head_seq);
  if (r.since) metrics_.replays++;
  while (true) {
    // Replay the backlog in pages, one write per page.
    while (true) {
      auto rows = store_.ReadValue<std::vector<EventRow>>(
          [&](Tx& tx) { return tx.ListEventRows(r.workspace_id, last, kReplayPage); });
      if (!rows.ok()) {
        spdlog::error("stream replay of {}: {}", r.workspace_id, rows.status().ToString());
        finish(ClosedFrame("server_error"));
        return;
      }
      if (rows->empty()) break;
      std::string batch;
      for (const auto& row : *rows) batch += SseFrame(row.seq, row.data);
      if (!write_all(batch)) {
        finish("");
        return;
      }
      last = rows->back().seq;
      metrics_.replayed_events += rows->size();
      if (static_cast<int>(rows->size()) < kReplayPage) break;
    }
    int handed = ask(Command::Kind::kActivate, last);
    if (handed == 0) return;  // the hub owns the stream now
    if (handed == 1) continue;  // too much arrived during the replay: read on from the log
    // Closed while replaying (revoked, deleted, shutting down).
    std::string reason = s->close_reason.empty() ? "server_shutdown" : s->close_reason;
    finish(ClosedFrame(reason));
    return;
  }
}

}  // namespace mgteam::server
