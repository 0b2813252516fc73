// Presence: who has a live stream open on each workspace, and when the
// others were last connected (since this server started).
//
// A user is online while at least one of their streams on a workspace is
// live, so a second tab opening or closing is no news; only the first
// stream in and the last one out change anything, and only then is there a
// `presence_changed` frame for the workspace's other members. The frame has
// no id: it is not a log event, and must not move a client's Last-Event-ID.
//
// Kept in memory only: presence describes this process's connections, which
// a restart ends anyway.
//
// Thread-safety: any thread (the hub notes changes, GET /presence reads).
#pragma once

#include "mgteam/model.h"

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace mgteam::server {

class Presence {
 public:
  // `now` gives RFC 3339 timestamps (tests pass a fixed clock).
  explicit Presence(std::function<std::string()> now = nullptr);

  // One more (`delta` +1) or one fewer (-1) live stream of `user` on `ws`.
  // Returns the SSE frame announcing the change when the user went online or
  // offline, else nullopt.
  std::optional<std::string> Note(const std::string& ws, const std::string& user, int delta);

  // {user_id: {online, streams, last_seen}} for everyone seen on `ws`.
  json Of(const std::string& ws) const;

  static std::string ChangedFrame(const std::string& ws, const std::string& user, bool online,
                                  const std::string& last_seen);

 private:
  struct Seen {
    int streams = 0;
    std::string last_seen;  // when the count last changed
  };
  const std::function<std::string()> now_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, Seen>> seen_;  // workspace -> user -> seen
};

}  // namespace mgteam::server
