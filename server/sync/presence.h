// Presence: who has a live stream open on each workspace, and when the
// others were last connected (since this server started).
//
// A user is online while at least one of their streams on a workspace is
// live, so a second tab opening or closing is no news; only the first
// stream in and the last one out change anything, and only then is there a
// `presence_changed` frame for the workspace's other members. The frame has
// no id: it is not a log event, and must not move a client's Last-Event-ID.
//
// With several instances on one database (docs/deploy.md) each counts its
// own streams and tells the others its count per (workspace, user) over the
// bus, on every change and again every few seconds. A user is online if any
// instance counts a stream. An instance that stops telling (it crashed) is
// forgotten after a while, so its users do not stay online forever.
//
// Kept in memory only: presence describes connections, which a restart
// ends anyway.
//
// Thread-safety: any thread (the hub notes changes, GET /presence reads).
#pragma once

#include "mgteam/model.h"

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace mgteam::server {

class Presence {
 public:
  using Steady = std::chrono::steady_clock::time_point;

  // `now` gives RFC 3339 timestamps (tests pass a fixed clock).
  explicit Presence(std::function<std::string()> now = nullptr);

  // One more (`delta` +1) or one fewer (-1) live stream of `user` on `ws`
  // here. Returns the SSE frame announcing the change when the user went
  // online or offline (counting every instance), else nullopt.
  std::optional<std::string> Note(const std::string& ws, const std::string& user, int delta);

  // What this instance counts for (ws, user) now, as other instances are
  // told it.
  struct Count {
    std::string ws, user;
    int streams = 0;
    std::string last_seen;
  };
  Count Local(const std::string& ws, const std::string& user) const;
  // Every (ws, user) with a stream here, for the periodic retelling.
  std::vector<Count> LocalOnline() const;

  // Another instance's count, heard at `heard`: the frame announcing the
  // change when it moved the user online or offline, else nullopt.
  std::optional<std::string> NoteElsewhere(const std::string& origin, const Count& c, Steady heard);
  // Forgets other instances' counts not heard again since `before`; the
  // (workspace, frame) of each user that thereby went offline.
  std::vector<std::pair<std::string, std::string>> ForgetSilent(Steady before);

  // {user_id: {online, streams, last_seen}} for everyone seen on `ws`, on
  // any instance.
  json Of(const std::string& ws) const;

  static std::string ChangedFrame(const std::string& ws, const std::string& user, bool online,
                                  const std::string& last_seen);

 private:
  struct Seen {
    int streams = 0;
    std::string last_seen;  // when the count last changed
  };
  struct Elsewhere {
    Seen seen;
    Steady heard{};
  };
  // Streams on every instance, and the latest last_seen; mu_ held.
  Seen Total(const std::string& ws, const std::string& user) const;

  const std::function<std::string()> now_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, Seen>> seen_;  // workspace -> user -> here
  // workspace -> user -> instance -> what it last told
  std::map<std::string, std::map<std::string, std::map<std::string, Elsewhere>>> elsewhere_;
};

}  // namespace mgteam::server
