#include "engine.h"

#include "sync.h"
#include "verify.h"

#include "mgteam/clock.h"
#include "mgteam/sse.h"

#include <spdlog/spdlog.h>

#include <random>
#include <unistd.h>

namespace mgteam::agent {

struct SyncEngine::Follower {
  std::string ws;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  std::atomic<bool> connected{false};
  std::mutex mu;
  EventStreamClient* client = nullptr;  // the stream in flight, for Stop()
  std::string state = "starting";       // catching_up | live | offline
  std::string last_error;
};

SyncEngine::SyncEngine(EngineOptions options, Replica& replica) : options_(std::move(options)), replica_(replica) {}

SyncEngine::~SyncEngine() { Stop(); }

std::string SyncEngine::User() {
  std::lock_guard<std::mutex> lock(mu_);
  return user_;
}

ApiClient SyncEngine::Api() const {
  ApiClient api(options_.server);
  api.set_token(options_.token);
  return api;
}

Status SyncEngine::Start() {
  started_at_ = NowRfc3339();
  ApiClient api = Api();
  auto me = api.Get("/api/v1/me");
  if (me.ok()) {
    user_ = StringField(ObjectField(*me, "user"), "id");
    MG_RETURN_IF_ERROR(replica_.Bind(options_.server.ToString(), user_));
  } else if (me.status().code() == Code::kUnavailable) {
    user_ = replica_.user_id();  // offline: carry on with what the replica holds
    spdlog::warn("server not reachable ({}); working offline until it is", me.status().message());
  } else {
    return me.status();
  }
  discovery_ = std::thread([this] { Discovery(); });
  flusher_ = std::thread([this] { FlushLoop(); });
  return Status::Ok();
}

void SyncEngine::Stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ws, f] : followers_) {
      f->stop = true;
      std::lock_guard<std::mutex> fl(f->mu);
      if (f->client) f->client->Stop();
    }
  }
  wake_discovery_.notify_all();
  wake_flush_.notify_all();
  op_changed_.notify_all();
  if (discovery_.joinable()) discovery_.join();
  if (flusher_.joinable()) flusher_.join();
  std::map<std::string, std::unique_ptr<Follower>> followers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    followers.swap(followers_);
  }
  for (auto& [ws, f] : followers)
    if (f->thread.joinable()) f->thread.join();
}

void SyncEngine::NudgeFlush() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    flush_requested_ = true;
  }
  wake_flush_.notify_all();
}

void SyncEngine::NudgeSync() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    sync_requested_ = true;
  }
  wake_discovery_.notify_all();
  NudgeFlush();
}

void SyncEngine::Note(const std::string& ws, const std::string& state, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = followers_.find(ws);
  if (it == followers_.end()) return;
  std::lock_guard<std::mutex> fl(it->second->mu);
  it->second->state = state;
  it->second->last_error = error;
}

void SyncEngine::StartFollower(const std::string& ws) {
  auto f = std::make_unique<Follower>();
  f->ws = ws;
  Follower* raw = f.get();
  followers_[ws] = std::move(f);
  raw->thread = std::thread([this, raw] {
    Follow(raw);
    raw->done = true;
  });
}

void SyncEngine::Discovery() {
  while (!stopping_) {
    ApiClient api = Api();
    std::string user = User();
    if (user.empty()) {
      auto me = api.Get("/api/v1/me");
      if (me.ok()) {
        user = StringField(ObjectField(*me, "user"), "id");
        // Unbound, the replica may still hold another account's rows: stay
        // without a user (offline) and try again at the next round.
        if (Status bound = replica_.Bind(options_.server.ToString(), user); !bound.ok()) {
          spdlog::error("could not bind the replica to {}: {}", options_.server.ToString(), bound.ToString());
          user.clear();
        } else {
          std::lock_guard<std::mutex> lock(mu_);
          user_ = user;
        }
      }
    }
    auto found = user.empty() ? Result<std::vector<ReplicaWorkspace>>(Status::Unavailable("offline", "waiting"))
                               : DiscoverWorkspaces(api, replica_);
    if (!found.ok() && found.status().code() == Code::kUnauthenticated) {
      std::lock_guard<std::mutex> lock(mu_);
      auth_error_ = found.status().message();
    }
    // Workspaces known locally are followed even offline (reads, writes).
    auto known = found.ok() ? std::move(found).value() : replica_.Workspaces().value_or({});
    std::vector<std::unique_ptr<Follower>> gone;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (found.ok()) auth_error_.clear();
      for (const auto& w : known)
        if (!followers_.count(w.id)) {
          spdlog::info("following workspace {} ({})", w.name, w.id);
          StartFollower(w.id);
        }
      for (auto it = followers_.begin(); it != followers_.end();) {
        bool listed = std::any_of(known.begin(), known.end(), [&](const auto& w) { return w.id == it->first; });
        if (it->second->done || (found.ok() && !listed)) {
          it->second->stop = true;
          std::lock_guard<std::mutex> fl(it->second->mu);
          if (it->second->client) it->second->client->Stop();
          gone.push_back(std::move(it->second));
          it = followers_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& f : gone) {
      if (f->thread.joinable()) f->thread.join();
      spdlog::info("stopped following {}", f->ws);
    }
    std::unique_lock<std::mutex> lock(mu_);
    wake_discovery_.wait_for(lock, options_.discover_interval, [&] { return stopping_ || sync_requested_; });
    sync_requested_ = false;
  }
}

void SyncEngine::Follow(Follower* f) {
  std::mt19937_64 rng(std::random_device{}());
  int attempt = 0;
  const std::string& ws = f->ws;
  while (!f->stop && !stopping_) {
    ApiClient api = Api();
    Note(ws, "catching_up", "");
    Status caught = CatchUp(api, replica_, ws, [&](const std::string&, int64_t n) {
      if (n % 10000 < 2000) spdlog::info("initial sync of {}: {} memories", ws, n);
    });
    if (caught.reason() == "removed") {
      spdlog::info("no longer a member of {}: its replica was removed", ws);
      op_changed_.notify_all();
      return;
    }
    if (!caught.ok()) {
      Note(ws, "offline", caught.message());
      int64_t delay = BackoffDelayMs(attempt++, 500, 30000, 250, std::uniform_real_distribution<>(0, 1)(rng));
      std::unique_lock<std::mutex> lock(mu_);
      wake_discovery_.wait_for(lock, std::chrono::milliseconds(delay), [&] { return f->stop || stopping_.load(); });
      continue;
    }
    attempt = 0;
    // After every (re)connect: does the replica hold what the server holds?
    // It should always; drift found here is a bug, repaired and logged.
    if (auto checked = Verify(api, replica_, ws, /*repair=*/true); !checked.ok()) {
      spdlog::info("could not verify {} against the server: {}", ws, checked.status().ToString());
    } else if (!checked->drift.empty()) {
      for (const auto& d : checked->drift)
        spdlog::warn("drift in {}: {} {} {} differed from the server; repaired", ws, d.entity, d.id,
                     d.field.empty() ? "(row missing on one side)" : "field '" + d.field + "'");
    }
    auto w = replica_.FindWorkspace(ws);
    if (!w.ok()) spdlog::error("stopped following {}: reading its replica failed: {}", ws, w.status().ToString());
    if (!w.ok() || !*w) return;

    StreamClientOptions so;
    so.server = options_.server;
    so.token = options_.token;
    so.path = "/api/v1/sync/stream?workspace_id=" + ws + "&epoch=" + (*w)->epoch;
    so.last_event_id = std::to_string((*w)->cursor);
    so.heartbeat_timeout = options_.heartbeat_timeout;
    EventStreamClient client(so);
    {
      std::lock_guard<std::mutex> lock(f->mu);
      if (f->stop) return;
      f->client = &client;
    }
    bool resync = false, purge = false;
    Status run = client.Run(
        [&](const SseEvent& sse) {
          json j = json::parse(sse.data, nullptr, false);
          if (!j.is_object()) return;
          std::string type = StringField(j, "type");
          if (type == "connected") {
            f->connected = true;
            Note(ws, "live", "");
            NudgeFlush();  // back online: send what waited
          } else if (type == "reset") {
            resync = true;
            client.Stop();
          } else if (type == "closed") {
            std::string reason = StringField(j, "reason");
            if (reason == "membership_revoked" || reason == "workspace_deleted") {
              purge = true;
              client.Stop();
            } else if (reason == "token_revoked") {
              std::lock_guard<std::mutex> lock(mu_);
              auth_error_ = "the token was revoked; run `mgteam login`";
              client.Stop();
            }
          } else if (auto ev = Event::FromJson(j)) {
            auto applied = replica_.ApplyEvents(ws, {*ev});
            if (!applied.ok()) {
              // Resume from what is durably applied, by polling.
              spdlog::warn("could not apply event {} of {}: {}", ev->seq, ws, applied.status().ToString());
              client.Stop();
              return;
            }
            if (applied->removed_from_workspace) {
              purge = true;
              client.Stop();
            }
            op_changed_.notify_all();
          }
        },
        [&](EventStreamClient::State state, const Status& why) {
          if (state == EventStreamClient::State::kDisconnected) {
            f->connected = false;
            Note(ws, "offline", why.message());
          }
        });
    {
      std::lock_guard<std::mutex> lock(f->mu);
      f->client = nullptr;
    }
    f->connected = false;
    if (purge) {
      if (Status forgot = replica_.ForgetWorkspace(ws); !forgot.ok())
        spdlog::error("no longer a member of {}, but removing its replica failed: {}", ws, forgot.ToString());
      else
        spdlog::info("no longer a member of {}: its replica was removed", ws);
      op_changed_.notify_all();
      NudgeSync();
      return;
    }
    if (resync) {
      spdlog::info("the server reset {}; reloading it (pending writes are kept)", ws);
      // On failure the replica keeps its old cursor and epoch: the catch-up
      // at the top of the loop meets the same reset and reloads.
      if (Status began = replica_.BeginSnapshot(ws); !began.ok())
        spdlog::warn("could not start reloading {}: {}", ws, began.ToString());
      continue;
    }
    if (!run.ok()) {
      // 401/403/404: stop following; discovery decides what comes next.
      Note(ws, "offline", run.message());
      if (run.code() == Code::kNotFound) NudgeSync();
      std::unique_lock<std::mutex> lock(mu_);
      wake_discovery_.wait_for(lock, std::chrono::seconds(5), [&] { return f->stop || stopping_.load(); });
    }
  }
}

void SyncEngine::FlushLoop() {
  while (!stopping_) {
    bool nudged;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_flush_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_ || flush_requested_; });
      nudged = flush_requested_;
      flush_requested_ = false;
    }
    if (stopping_) break;
    auto workspaces = replica_.Workspaces();
    if (!workspaces.ok()) continue;
    ApiClient api = Api();
    std::string error;
    for (const auto& w : *workspaces) {
      FlushResult r = Flush(api, replica_, w.id, /*honour_backoff=*/!nudged);
      if (r.sent || r.failed) spdlog::info("sent {} write(s) to {}{}", r.sent, w.name,
                                           r.failed ? ", " + std::to_string(r.failed) + " refused" : "");
      if (!r.blocked.ok()) error = r.blocked.message();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      flush_error_ = error;
    }
    op_changed_.notify_all();
  }
}

bool SyncEngine::WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    lock.unlock();
    bool held = done();
    lock.lock();
    if (held) return true;
    if (stopping_ || std::chrono::steady_clock::now() >= deadline) return false;
    // A bounded wait: changes made by other processes (a CLI) ring no bell here.
    op_changed_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(200)));
  }
}

std::string SyncEngine::WaitOp(const std::string& op_id, std::chrono::milliseconds timeout) {
  auto state = [&]() -> std::string {
    auto op = replica_.FindOp(op_id);
    if (!op.ok()) return "pending";
    if (!*op) return "done";
    return (*op)->state == OpState::kFailed ? "failed" : "pending";
  };
  WaitFor([&] { return state() != "pending"; }, timeout);
  return state();
}

json SyncEngine::StatusJson() {
  json out = {{"pid", ::getpid()},
              {"started_at", started_at_},
              {"server", options_.server.ToString()},
              {"user_id", User()}};
  std::map<std::string, std::pair<int, int>> counts;  // pending, failed
  std::map<std::string, std::string> op_errors;
  if (auto ops = replica_.Ops(); ops.ok())
    for (const auto& op : *ops) {
      auto& c = counts[op.workspace_id];
      (op.state == OpState::kFailed ? c.second : c.first)++;
      if (!op.last_error.empty()) op_errors[op.workspace_id] = op.last_error;
    }
  json list = json::array();
  auto workspaces = replica_.Workspaces();
  std::lock_guard<std::mutex> lock(mu_);
  out["auth_error"] = auth_error_;
  out["flush_error"] = flush_error_;
  for (const auto& w : workspaces.value_or({})) {
    json j = w.ToJson();
    j["pending"] = counts[w.id].first;
    j["failed"] = counts[w.id].second;
    j["last_op_error"] = op_errors[w.id];
    auto it = followers_.find(w.id);
    if (it != followers_.end()) {
      std::lock_guard<std::mutex> fl(it->second->mu);
      j["connected"] = it->second->connected.load();
      j["state"] = it->second->state;
      if (j["last_error"].get<std::string>().empty()) j["last_error"] = it->second->last_error;
    } else {
      j["connected"] = false;
      j["state"] = "stopped";
    }
    list.push_back(std::move(j));
  }
  out["workspaces"] = std::move(list);
  return out;
}

}  // namespace mgteam::agent
