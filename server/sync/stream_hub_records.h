// The records StreamHub keeps of its streams and commands, shared by the two
// halves of its implementation: stream_hub.cpp (the hub thread: epoll loop,
// fan-out, closing) and stream_replay.cpp (the request thread: the checks,
// the replay, the hand-over). Private to those two files.
#pragma once

#include "sync/stream_hub.h"

#include "mgteam/sse.h"

#include <nlohmann/json.hpp>

#include <future>

namespace mgteam::server {

using Clock = std::chrono::steady_clock;

// Rows per read of the log, for the replay and for the hub's reader alike.
constexpr int kReplayPage = 1000;

inline std::string ClosedFrame(const std::string& reason) {
  return SseFrame(std::nullopt, nlohmann::json{{"type", "closed"}, {"reason", reason}}.dump());
}

struct StreamHub::Frame {
  int64_t seq = 0;
  std::string type;
  std::string entity_id;
  std::string bytes;
  Clock::time_point noticed;
};

struct StreamHub::Stream {
  enum class State { kReplaying, kLive, kClosing };

  explicit Stream(Backlog& backlog) : out(backlog) {}

  std::unique_ptr<Transport> io;  // null once handed to to_close_
  int fd = -1;                    // io's descriptor: the key in streams_ and epoll
  std::string ws, user_id, token_id;
  std::optional<std::chrono::system_clock::time_point> token_expires;
  State state = State::kReplaying;
  bool abandoned = false;  // closed by the hub while its request thread was replaying
  std::string close_reason;
  int64_t last_sent = 0;
  // While replaying: live frames seen meanwhile, bounded.
  std::vector<std::shared_ptr<const Frame>> pending;
  size_t pending_bytes = 0;
  bool overflowed = false;
  // While live: what the socket has not taken yet. Touched by the hub
  // thread only, even though the request thread makes the Stream.
  StreamBuffer out;
  bool want_write = false;  // epoll waits for EPOLLOUT: the socket is full
  bool counted = false;     // in the workspace's presence (live at some point)
  bool dirty = false;       // queued output since the last FlushDirty()
  std::shared_ptr<void> slot;  // counts against the caps while this lives
  Clock::time_point close_deadline;
};

struct StreamHub::WorkspaceState {
  int64_t cursor = 0;   // last seq fanned out
  int64_t wanted = 0;   // newest head announced
  uint64_t ticket = 0;  // of the read in flight; 0: none
  std::optional<Clock::time_point> noticed;  // when the oldest undelivered announcement came
  std::vector<std::shared_ptr<Stream>> streams;
};

struct StreamHub::Command {
  enum class Kind { kSubscribe, kActivate, kDrop, kWorkspaceDeleted, kTokenRevoked, kRows, kHeads, kPresence, kShutdown };
  explicit Command(Kind k, std::shared_ptr<Stream> s = nullptr, std::string k2 = "", int64_t n = 0,
                   std::shared_ptr<std::promise<int>> r = nullptr)
      : kind(k), stream(std::move(s)), key(std::move(k2)), seq(n), reply(std::move(r)) {}
  Kind kind;
  std::shared_ptr<Stream> stream;
  std::string key;
  int64_t seq = 0;
  std::shared_ptr<std::promise<int>> reply;
  std::shared_ptr<LogReader::Rows> rows;    // kRows
  std::shared_ptr<LogReader::Heads> heads;  // kHeads
  std::shared_ptr<Presence::Count> presence;  // kPresence (key: the instance)
};

}  // namespace mgteam::server
