#include "sync/presence.h"

#include "mgteam/clock.h"
#include "mgteam/sse.h"

#include <algorithm>
#include <set>

namespace mgteam::server {

Presence::Presence(std::function<std::string()> now)
    : now_(now ? std::move(now) : std::function<std::string()>([] { return NowRfc3339(); })) {}

Presence::Seen Presence::Total(const std::string& ws, const std::string& user) const {
  Seen total;
  if (auto w = seen_.find(ws); w != seen_.end())
    if (auto u = w->second.find(user); u != w->second.end()) total = u->second;
  if (auto w = elsewhere_.find(ws); w != elsewhere_.end())
    if (auto u = w->second.find(user); u != w->second.end())
      for (const auto& [origin, e] : u->second) {
        total.streams += e.seen.streams;
        total.last_seen = std::max(total.last_seen, e.seen.last_seen);
      }
  return total;
}

std::optional<std::string> Presence::Note(const std::string& ws, const std::string& user, int delta) {
  const std::string when = now_();
  std::lock_guard<std::mutex> lock(mu_);
  const bool was_online = Total(ws, user).streams > 0;
  Seen& seen = seen_[ws][user];
  seen.streams = std::max(0, seen.streams + delta);
  seen.last_seen = when;
  const Seen total = Total(ws, user);
  if ((total.streams > 0) == was_online) return std::nullopt;
  return ChangedFrame(ws, user, total.streams > 0, total.last_seen);
}

Presence::Count Presence::Local(const std::string& ws, const std::string& user) const {
  std::lock_guard<std::mutex> lock(mu_);
  Count c{ws, user, 0, ""};
  if (auto w = seen_.find(ws); w != seen_.end())
    if (auto u = w->second.find(user); u != w->second.end()) {
      c.streams = u->second.streams;
      c.last_seen = u->second.last_seen;
    }
  return c;
}

std::vector<Presence::Count> Presence::LocalOnline() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Count> out;
  for (const auto& [ws, users] : seen_)
    for (const auto& [user, seen] : users)
      if (seen.streams > 0) out.push_back(Count{ws, user, seen.streams, seen.last_seen});
  return out;
}

std::optional<std::string> Presence::NoteElsewhere(const std::string& origin, const Count& c, Steady heard) {
  std::lock_guard<std::mutex> lock(mu_);
  const bool was_online = Total(c.ws, c.user).streams > 0;
  Elsewhere& e = elsewhere_[c.ws][c.user][origin];
  e.seen.streams = std::max(0, c.streams);
  e.seen.last_seen = std::max(e.seen.last_seen, c.last_seen);
  e.heard = heard;
  const Seen total = Total(c.ws, c.user);
  if ((total.streams > 0) == was_online) return std::nullopt;
  return ChangedFrame(c.ws, c.user, total.streams > 0, total.last_seen);
}

std::vector<std::pair<std::string, std::string>> Presence::ForgetSilent(Steady before) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, std::string>> frames;
  for (auto& [ws, users] : elsewhere_)
    for (auto& [user, origins] : users) {
      const bool was_online = Total(ws, user).streams > 0;
      // What a silent instance told is its last word on when the user was
      // seen: kept as this instance's last_seen, so the user does not look
      // never seen.
      for (auto it = origins.begin(); it != origins.end();) {
        if (it->second.heard >= before) {
          ++it;
          continue;
        }
        Seen& here = seen_[ws][user];
        here.last_seen = std::max(here.last_seen, it->second.seen.last_seen);
        it = origins.erase(it);
      }
      const Seen total = Total(ws, user);
      if (was_online && total.streams == 0) frames.emplace_back(ws, ChangedFrame(ws, user, false, total.last_seen));
    }
  return frames;
}

json Presence::Of(const std::string& ws) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::string> users;
  if (auto w = seen_.find(ws); w != seen_.end())
    for (const auto& [user, seen] : w->second) users.insert(user);
  if (auto w = elsewhere_.find(ws); w != elsewhere_.end())
    for (const auto& [user, origins] : w->second) users.insert(user);
  json out = json::object();
  for (const auto& user : users) {
    const Seen total = Total(ws, user);
    out[user] = {{"online", total.streams > 0}, {"streams", total.streams}, {"last_seen", total.last_seen}};
  }
  return out;
}

std::string Presence::ChangedFrame(const std::string& ws, const std::string& user, bool online,
                                   const std::string& last_seen) {
  return SseFrame(std::nullopt, json{{"type", "presence_changed"},
                                     {"workspace_id", ws},
                                     {"user_id", user},
                                     {"online", online},
                                     {"last_seen", last_seen}}
                                    .dump());
}

}  // namespace mgteam::server
