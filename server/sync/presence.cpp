#include "sync/presence.h"

#include "mgteam/clock.h"
#include "mgteam/sse.h"

#include <algorithm>

namespace mgteam::server {

Presence::Presence(std::function<std::string()> now)
    : now_(now ? std::move(now) : std::function<std::string()>([] { return NowRfc3339(); })) {}

std::optional<std::string> Presence::Note(const std::string& ws, const std::string& user, int delta) {
  const std::string when = now_();
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Seen& seen = seen_[ws][user];
    const int before = seen.streams;
    seen.streams = std::max(0, seen.streams + delta);
    seen.last_seen = when;
    changed = (before == 0) != (seen.streams == 0);
  }
  if (!changed) return std::nullopt;
  return ChangedFrame(ws, user, delta > 0, when);
}

json Presence::Of(const std::string& ws) const {
  std::lock_guard<std::mutex> lock(mu_);
  json out = json::object();
  if (auto it = seen_.find(ws); it != seen_.end())
    for (const auto& [user, seen] : it->second)
      out[user] = {{"online", seen.streams > 0}, {"streams", seen.streams}, {"last_seen", seen.last_seen}};
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
