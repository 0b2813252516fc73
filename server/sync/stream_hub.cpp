#include "sync/stream_hub_records.h"

#include "mgteam/clock.h"
#include "mgteam/sse.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mgteam::server {

namespace {

constexpr auto kCloseGrace = std::chrono::seconds(5);

}  // namespace

StreamHub::StreamHub(Store& store, Metrics& metrics, StreamHubOptions options)
    : store_(store),
      metrics_(metrics),
      options_(options),
      streams_slots_(std::make_shared<Slots>(options.max_streams_per_user, options.max_streams)),
      backlog_(options.max_total_backlog_bytes, &metrics.stream_backlog_bytes),
      reader_(store, kReplayPage,
              {[this](LogReader::Rows r) {
                 Command c(Command::Kind::kRows);
                 c.rows = std::make_shared<LogReader::Rows>(std::move(r));
                 Post(std::move(c));
               },
               [this](LogReader::Heads h) {
                 Command c(Command::Kind::kHeads);
                 c.heads = std::make_shared<LogReader::Heads>(std::move(h));
                 Post(std::move(c));
               }}) {}

StreamHub::~StreamHub() {
  Shutdown();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status StreamHub::Start() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return Status::Internal("cannot create the stream hub's epoll set");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  next_head_check_ = Clock::now() + options_.head_check;
  next_heartbeat_scan_ = Clock::now();
  next_presence_retell_ = bus_ ? Clock::now() + options_.presence_retell : Clock::time_point::max();
  reader_.Start();
  thread_ = std::thread([this] { Loop(); });
  // One instance hears every revocation at once (LocalBus); between
  // instances a hint can be lost, so tokens are checked now and then.
  if (bus_) token_checker_ = std::thread([this] { TokenCheckLoop(); });
  return Status::Ok();
}

void StreamHub::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(tokens_mu_);
    tokens_stop_ = true;
  }
  tokens_cv_.notify_all();
  if (token_checker_.joinable()) token_checker_.join();
  Post(Command(Command::Kind::kShutdown));
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  // After the loop: answers still coming are refused by Post().
  reader_.Stop();
}

void StreamHub::Wake() {
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof one);
  (void)n;  // EAGAIN means a wake-up is already pending
}

void StreamHub::Post(Command c) {
  bool posted = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopped_) {
      commands_.push_back(std::move(c));
      posted = true;
    }
  }
  if (posted) Wake();
  else if (c.reply) c.reply->set_value(-1);
}

void StreamHub::OnAdvance(const std::string& ws, int64_t head) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& d = dirty_[ws];
    d = std::max(d, head);
    dirty_since_.emplace(ws, Clock::now());
  }
  Wake();
}

void StreamHub::OnWorkspaceDeleted(const std::string& ws) {
  Post(Command(Command::Kind::kWorkspaceDeleted, nullptr, ws));
}

void StreamHub::OnTokenRevoked(const std::string& token_id) {
  Post(Command(Command::Kind::kTokenRevoked, nullptr, token_id));
}

void StreamHub::OnPresenceElsewhere(const std::string& origin, const std::string& ws, const std::string& user,
                                    int streams, const std::string& last_seen) {
  Command c(Command::Kind::kPresence, nullptr, origin);
  c.presence = std::make_shared<Presence::Count>(Presence::Count{ws, user, streams, last_seen});
  Post(std::move(c));
}

void StreamHub::OnBusReconnected() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    catch_up_ = true;
  }
  Wake();
  {
    std::lock_guard<std::mutex> lock(tokens_mu_);
    tokens_due_ = true;
  }
  tokens_cv_.notify_one();
}

void StreamHub::TokenCheckLoop() {
  std::unique_lock<std::mutex> lock(tokens_mu_);
  for (;;) {
    tokens_cv_.wait_for(lock, options_.token_recheck, [this] { return tokens_due_ || tokens_stop_; });
    if (tokens_stop_) return;
    tokens_due_ = false;
    lock.unlock();
    CheckTokens();
    lock.lock();
  }
}

void StreamHub::CheckTokens() {
  std::map<std::string, std::vector<std::string>> by_user;  // user -> live token ids
  {
    std::lock_guard<std::mutex> lock(tokens_mu_);
    for (const auto& [token, held] : live_tokens_) by_user[held.first].push_back(token);
  }
  const std::string now = NowRfc3339();
  for (const auto& [user, tokens] : by_user) {
    auto listed = store_.ReadValue<std::vector<TokenRecord>>([&](Tx& tx) { return tx.ListTokens(user); });
    if (!listed.ok()) {
      // The next round tries again; a token's expiry ends its streams on time anyway.
      spdlog::warn("stream hub: checking live streams' tokens failed: {}", listed.status().ToString());
      continue;
    }
    for (const auto& id : tokens) {
      auto it = std::find_if(listed->begin(), listed->end(), [&](const TokenRecord& t) { return t.id == id; });
      if (it == listed->end() || it->revoked_at || it->expired(now)) OnTokenRevoked(id);
    }
  }
}

// ---- hub thread ---------------------------------------------------------------

void StreamHub::Loop() {
  std::vector<epoll_event> events(512);
  while (true) {
    auto now = Clock::now();
    auto next = std::min({next_head_check_, next_heartbeat_scan_, next_presence_retell_});
    int timeout = next <= now ? 0
                              : static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(next - now)
                                                     .count()) + 1;
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t drained;
        while (::read(wake_fd_, &drained, sizeof drained) > 0) {
        }
        continue;
      }
      auto it = streams_.find(fd);
      if (it == streams_.end()) continue;
      auto s = it->second;
      uint32_t ev = events[i].events;
      if (ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        Remove(*s);
        continue;
      }
      if (ev & EPOLLIN) {
        // Clients send nothing after the request; EOF means they left.
        char scratch[512];
        if (s->io->Read(scratch, sizeof scratch).wait == Transport::Wait::kClosed) {
          Remove(*s);
          continue;
        }
      }
      if (ev & EPOLLOUT) Flush(*s);
    }
    to_close_.clear();
    if (n == static_cast<int>(events.size())) events.resize(events.size() * 2);

    RunCommands();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) break;
    }
    now = Clock::now();
    if (now >= next_presence_retell_) {
      RetellPresence(now);
      next_presence_retell_ = now + options_.presence_retell;
    }
    if (now >= next_heartbeat_scan_) {
      Heartbeats(now);
      auto step = std::max<Clock::duration>(options_.heartbeat / 4, std::chrono::milliseconds(50));
      next_heartbeat_scan_ = now + step;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (catch_up_ && !heads_asked_) {
        catch_up_ = false;
        next_head_check_ = now;
      }
    }
    if (now >= next_head_check_) {
      // Asked of the reader; its answer comes back as a command. One check
      // in flight at a time: a database slower than the interval is not
      // asked more often.
      if (!heads_asked_ && !workspaces_.empty()) {
        std::vector<std::string> list;
        for (const auto& [ws, state] : workspaces_) list.push_back(ws);
        heads_asked_ = true;
        reader_.WantHeads(std::move(list));
      }
      next_head_check_ = Clock::now() + options_.head_check;
    }
    to_close_.clear();
    std::erase_if(workspaces_, [](const auto& w) { return w.second->streams.empty(); });
  }
  to_close_.clear();
}

void StreamHub::RunCommands() {
  std::vector<Command> commands;
  std::map<std::string, int64_t> dirty;
  std::map<std::string, Clock::time_point> since;
  {
    std::lock_guard<std::mutex> lock(mu_);
    commands.swap(commands_);
    dirty.swap(dirty_);
    since.swap(dirty_since_);
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    Command& c = commands[i];
    switch (c.kind) {
      case Command::Kind::kSubscribe: {
        auto& w = workspaces_[c.stream->ws];
        if (!w) {
          // Start fanning out from the head the request thread read before
          // subscribing: anything at or below it is the replay's job.
          w = std::make_unique<WorkspaceState>();
          w->cursor = w->wanted = c.seq;
        }
        w->streams.push_back(c.stream);
        streams_[c.stream->fd] = c.stream;
        metrics_.streams_open++;
        metrics_.streams_opened++;
        c.reply->set_value(0);
        break;
      }
      case Command::Kind::kActivate: {
        bool need_more = false;
        if (c.stream->abandoned) {
          c.reply->set_value(-1);
          break;
        }
        Activate(c.stream, c.seq, need_more);
        c.reply->set_value(need_more ? 1 : 0);
        break;
      }
      case Command::Kind::kDrop:
        if (c.stream->state == Stream::State::kReplaying) {
          c.stream->state = Stream::State::kClosing;
          Remove(*c.stream);
        }
        c.reply->set_value(0);
        break;
      case Command::Kind::kWorkspaceDeleted:
        CloseWorkspace(c.key, "workspace_deleted");
        break;
      case Command::Kind::kTokenRevoked:
        for (auto& [fd, s] : std::map<int, std::shared_ptr<Stream>>(streams_))
          if (s->token_id == c.key) Close(*s, "token_revoked");
        break;
      case Command::Kind::kRows:
        OnRows(*c.rows);
        break;
      case Command::Kind::kHeads:
        OnHeads(*c.heads);
        break;
      case Command::Kind::kPresence:
        if (auto frame = presence_.NoteElsewhere(c.key, *c.presence, Clock::now()))
          Announce(c.presence->ws, c.presence->user, *frame);
        break;
      case Command::Kind::kShutdown: {
        // Close() makes one non-blocking attempt to deliver the closing
        // frame; whatever is still unsent is dropped with the socket.
        for (auto& [fd, s] : std::map<int, std::shared_ptr<Stream>>(streams_)) {
          Close(*s, "server_shutdown");
          if (s->state == Stream::State::kClosing && streams_.count(fd)) Remove(*s);
        }
        for (size_t j = i + 1; j < commands.size(); ++j)
          if (commands[j].reply) commands[j].reply->set_value(-1);
        std::lock_guard<std::mutex> lock(mu_);
        stopped_ = true;
        for (auto& pending : commands_)
          if (pending.reply) pending.reply->set_value(-1);
        commands_.clear();
        return;
      }
    }
  }
  for (const auto& [ws, head] : dirty) Announce(ws, head, since.count(ws) ? since[ws] : Clock::now());
  FlushDirty();
}

void StreamHub::Announce(const std::string& ws, int64_t head, Clock::time_point noticed) {
  auto it = workspaces_.find(ws);
  if (it == workspaces_.end()) return;  // nobody listens there
  WorkspaceState& w = *it->second;
  if (head <= w.cursor) return;
  w.wanted = std::max(w.wanted, head);
  if (!w.noticed) w.noticed = noticed;
  ReadMore(ws, w);
}

void StreamHub::ReadMore(const std::string& ws, WorkspaceState& w) {
  if (w.ticket != 0 || w.cursor >= w.wanted) return;  // one read in flight per workspace
  w.ticket = ++last_ticket_;
  reader_.WantRows(ws, w.cursor, w.ticket);
}

void StreamHub::OnRows(LogReader::Rows& r) {
  auto it = workspaces_.find(r.workspace);
  // Asked for by a workspace state since pruned, or superseded: stale.
  if (it == workspaces_.end() || it->second->ticket != r.ticket) return;
  WorkspaceState& w = *it->second;
  w.ticket = 0;
  if (!r.status.ok()) {
    // Not asked again at once (a failing database would spin): the next
    // doorbell or head check retries.
    spdlog::error("fan-out of {}: {} (will retry)", r.workspace, r.status.ToString());
    w.noticed.reset();
    return;
  }
  if (r.rows.empty()) {
    w.noticed.reset();
    return;
  }
  FanOut(w, r.rows);
  if (static_cast<int>(r.rows.size()) == kReplayPage || w.cursor < w.wanted) ReadMore(r.workspace, w);
  if (w.ticket == 0) w.noticed.reset();
  FlushDirty();
}

void StreamHub::OnHeads(LogReader::Heads& h) {
  heads_asked_ = false;
  if (!h.status.ok()) {
    spdlog::warn("stream hub head check: {}", h.status.ToString());
    return;
  }
  const auto now = Clock::now();
  for (const auto& [ws, head] : h.heads) {
    if (!head) CloseWorkspace(ws, "workspace_deleted");
    else Announce(ws, *head, now);
  }
}

void StreamHub::CloseWorkspace(const std::string& ws, const std::string& reason) {
  for (auto& [fd, s] : std::map<int, std::shared_ptr<Stream>>(streams_))
    if (s->ws == ws) Close(*s, reason);
}

void StreamHub::Activate(const std::shared_ptr<Stream>& s, int64_t last_sent, bool& need_more) {
  if (s->overflowed) {
    // More arrived during the replay than we keep: the log has it all, so the
    // request thread reads on from `last_sent` and asks again.
    s->pending.clear();
    s->pending_bytes = 0;
    s->overflowed = false;
    need_more = true;
    return;
  }
  s->state = Stream::State::kLive;
  s->last_sent = last_sent;
  for (const auto& f : s->pending)
    if (f->seq > s->last_sent) Queue(s, f);
  s->pending.clear();
  s->pending_bytes = 0;
  // A fixed kernel send buffer (no autotuning to megabytes) keeps a stalled
  // client's backlog in our bounded queue, where it is noticed and capped.
  int sndbuf = static_cast<int>(options_.socket_send_buffer);
  ::setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.fd = s->fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s->fd, &ev);
  s->out.set_last_drained(Clock::now());  // its queued frames go out in RunCommands' FlushDirty()
  s->counted = true;
  NotePresence(*s, +1);
}

// Told to the workspace's other live streams, not to the user's own: they
// know, and a client reading its own frames (a test, a script) should not
// see itself arrive.
void StreamHub::NotePresence(Stream& s, int delta) {
  {
    std::lock_guard<std::mutex> lock(tokens_mu_);
    auto& held = live_tokens_[s.token_id];
    held.first = s.user_id;
    held.second += delta;
    if (held.second <= 0) live_tokens_.erase(s.token_id);
  }
  auto frame = presence_.Note(s.ws, s.user_id, delta);
  if (bus_) {
    const Presence::Count here = presence_.Local(s.ws, s.user_id);
    bus_->PublishPresence(here.ws, here.user, here.streams, here.last_seen);
  }
  if (frame) Announce(s.ws, s.user_id, *frame);
}

void StreamHub::Announce(const std::string& ws, const std::string& user, const std::string& frame) {
  auto it = workspaces_.find(ws);
  if (it == workspaces_.end()) return;
  for (const auto& other : it->second->streams) {
    if (other->state != Stream::State::kLive || other->user_id == user) continue;
    Append(other, frame, Clock::now(), false);
  }
}

void StreamHub::RetellPresence(Clock::time_point now) {
  if (!bus_) return;
  for (const auto& c : presence_.LocalOnline()) bus_->PublishPresence(c.ws, c.user, c.streams, c.last_seen);
  for (const auto& [ws, frame] : presence_.ForgetSilent(now - options_.presence_forget)) {
    // The user is gone from every instance: frames carry the user in their
    // JSON; Announce only needs to skip nobody's own stream here.
    Announce(ws, std::string(), frame);
  }
}

// Rows in seq order, starting just after w.cursor (the reader was asked for
// exactly that, and stale answers never get here).
void StreamHub::FanOut(WorkspaceState& w, std::vector<EventRow>& rows) {
  const Clock::time_point noticed = w.noticed.value_or(Clock::now());
  for (auto& row : rows) {
    if (row.seq <= w.cursor) continue;
    w.cursor = row.seq;
    auto frame = std::make_shared<Frame>();
    frame->seq = row.seq;
    frame->type = std::move(row.type);
    frame->entity_id = std::move(row.entity_id);
    frame->bytes = SseFrame(row.seq, row.data);
    frame->noticed = noticed;
    bool removal = frame->type == "member_removed";
    std::vector<std::shared_ptr<Stream>> revoked, over_budget;
    for (auto& s : w.streams) {
      if (s->state == Stream::State::kReplaying) {
        if (s->overflowed) continue;
        s->pending.push_back(frame);
        s->pending_bytes += frame->bytes.size();
        if (s->pending_bytes > options_.max_backlog_bytes) {
          s->pending.clear();
          s->pending_bytes = 0;
          s->overflowed = true;
        }
      } else if (s->state == Stream::State::kLive && frame->seq > s->last_sent) {
        // Over the server's budget, a stream already behind (its socket
        // full) gets no more: it is dropped (below) instead of growing
        // the total further.
        if (backlog_.would_exceed(frame->bytes.size()) && s->want_write) over_budget.push_back(s);
        else Queue(s, frame);
      }
      if (removal && s->user_id == frame->entity_id) revoked.push_back(s);
    }
    // After the loop: closing a stream edits w.streams.
    for (auto& s : revoked) Close(*s, "membership_revoked");
    for (auto& s : over_budget) Drop(*s, "the server's backlog budget");
    // Over budget in the middle of a page: send what is queued now (the
    // streams that read drain; the others show their sockets are full)
    // and drop the furthest behind, rather than queue the whole page.
    if (backlog_.over()) FlushDirty();
  }
}

void StreamHub::FlushDirty() {
  std::vector<std::shared_ptr<Stream>> batch;
  batch.swap(to_flush_);
  for (auto& s : batch) {
    s->dirty = false;
    if (!streams_.count(s->fd) || streams_[s->fd] != s) continue;  // removed meanwhile
    // One send for everything queued in this batch; a stream already waiting
    // for EPOLLOUT only gets its backlog checked.
    if (s->want_write) CheckBacklog(*s);
    else Flush(*s);
  }
  ShedBacklog();
}

void StreamHub::Heartbeats(Clock::time_point now) {
  static const std::string kBeat = SseComment("heartbeat");
  // Cut-off and closed streams leave freed buffers in the allocator's
  // arenas; give a large amount back to the system.
  if (backlog_.released() > (16u << 20)) {
    ::malloc_trim(0);
    backlog_.ResetReleased();
  }
  const auto wall = std::chrono::system_clock::now();
  for (auto& [fd, s] : std::map<int, std::shared_ptr<Stream>>(streams_)) {
    if (s->token_expires && wall >= *s->token_expires && s->state != Stream::State::kClosing) {
      Close(*s, "token_expired");
      continue;
    }
    if (s->state == Stream::State::kClosing && !s->abandoned && now > s->close_deadline) {
      Remove(*s);
    } else if (s->state == Stream::State::kLive && s->out.empty() &&
               now - s->out.last_drained() >= options_.heartbeat) {
      s->out.Append(kBeat, now, false);
      Flush(*s);
    }
  }
}

void StreamHub::Queue(const std::shared_ptr<Stream>& s, const std::shared_ptr<const Frame>& f) {
  Append(s, f->bytes, f->noticed, true);
  s->last_sent = f->seq;
}

// Queues bytes for the next FlushDirty(); `change` frames count in delivery
// latency, control frames (presence) do not.
void StreamHub::Append(const std::shared_ptr<Stream>& s, const std::string& bytes, Clock::time_point noticed,
                       bool change) {
  s->out.Append(bytes, noticed, change);
  if (!s->dirty) {
    s->dirty = true;
    to_flush_.push_back(s);
  }
}

void StreamHub::Close(Stream& s, const std::string& reason) {
  if (s.state == Stream::State::kClosing || s.abandoned) return;
  if (s.state == Stream::State::kReplaying) {
    // Its request thread is writing; it will send the closing frame itself.
    s.abandoned = true;
    s.close_reason = reason;
    auto it = workspaces_.find(s.ws);
    if (it != workspaces_.end()) std::erase_if(it->second->streams, [&](auto& p) { return p.get() == &s; });
    return;
  }
  s.state = Stream::State::kClosing;
  s.close_reason = reason;
  s.close_deadline = Clock::now() + kCloseGrace;
  s.out.Append(ClosedFrame(reason), Clock::now(), false);
  Flush(s);  // removes the stream once the frame is out
}

void StreamHub::Flush(Stream& s) {
  auto flushed = s.out.Flush(*s.io, [this](Clock::duration latency) {
    metrics_.frames_delivered++;
    metrics_.append_to_write.Observe(std::chrono::duration<double>(latency).count());
  });
  switch (flushed) {
    case StreamBuffer::Flushed::kClosed:
      Remove(s);  // the client is gone
      return;
    case StreamBuffer::Flushed::kAll:
      if (s.want_write) Watch(s, false);
      if (s.state == Stream::State::kClosing) Remove(s);
      return;
    case StreamBuffer::Flushed::kBlocked:
      if (!s.want_write) Watch(s, true);  // EPOLLOUT tells when to go on
      CheckBacklog(s);
      return;
  }
}

void StreamHub::Watch(Stream& s, bool writable) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (writable ? EPOLLOUT : 0u);
  ev.data.fd = s.fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, s.fd, &ev);
  s.want_write = writable;
}

void StreamHub::CheckBacklog(Stream& s) {
  if (s.state == Stream::State::kLive && s.out.over(options_.max_backlog_bytes)) CutOff(s, "its own backlog limit");
}

// Too slow to keep up: keep the frame on the wire, drop the rest (the client
// resumes by Last-Event-ID), say why, and let the socket drain.
void StreamHub::CutOff(Stream& s, const char* why) {
  s.out.KeepFrameInFlight();
  metrics_.slow_consumer_disconnects++;
  spdlog::info("stream of user {} on {} cut off: slow consumer ({})", s.user_id, s.ws, why);
  Close(s, "slow_consumer");
}

// Over the server's budget: drop the streams furthest behind until a quarter
// of the budget is free again. Dropped at once, not closed gracefully like a
// single slow consumer: a graceful close keeps the frame in flight, and that
// times thousands of streams is the memory the budget is there to bound. The
// client sees the connection end and resumes by Last-Event-ID.
void StreamHub::ShedBacklog() {
  if (!backlog_.over()) return;
  std::vector<std::shared_ptr<Stream>> behind;
  for (const auto& [fd, s] : streams_)
    // Behind: its socket is full. Bytes just queued for a stream that reads
    // are on their way out and do not make it a candidate.
    if (s->state == Stream::State::kLive && s->want_write && !s->out.empty()) behind.push_back(s);
  std::sort(behind.begin(), behind.end(),
            [](const auto& a, const auto& b) { return a->out.unsent() > b->out.unsent(); });
  for (auto& s : behind) {
    if (backlog_.bytes() <= backlog_.shed_target()) break;
    if (s->state == Stream::State::kLive && streams_.count(s->fd)) Drop(*s, "the server's backlog budget");
  }
}

void StreamHub::Drop(Stream& s, const char* why) {
  if (s.state == Stream::State::kReplaying) return;
  metrics_.slow_consumer_disconnects++;
  spdlog::info("stream of user {} on {} dropped: slow consumer ({})", s.user_id, s.ws, why);
  Remove(s);
}

void StreamHub::Remove(Stream& s) {
  auto keep = streams_.find(s.fd);
  if (keep == streams_.end() || keep->second.get() != &s) return;
  std::shared_ptr<Stream> hold = keep->second;
  if (s.state != Stream::State::kReplaying) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.fd, nullptr);
  // An emptied workspace state is pruned between loop iterations, not here:
  // callers up the stack (FanOut) may still be using it.
  auto it = workspaces_.find(s.ws);
  if (it != workspaces_.end()) std::erase_if(it->second->streams, [&](auto& p) { return p.get() == &s; });
  if (s.counted) {
    s.counted = false;
    NotePresence(s, -1);
  }
  s.out.Release();
  streams_.erase(keep);
  to_close_.push_back(std::move(s.io));
  metrics_.streams_open--;
}

}  // namespace mgteam::server
