// StreamBuffer: the bytes one stream owes its client, and Backlog: what all
// streams owe together.
//
// The hub never waits for a socket: a frame is appended here and flushed
// with non-blocking writes, and what the kernel does not take stays here
// until the socket is writable again. That makes a stalled client cost
// memory instead of a thread, so the memory is what is counted and capped:
//   * unsent() against a per-stream limit: past it the client is a slow
//     consumer (the hub keeps the frame on the wire, drops the rest and says
//     so; the client resumes by Last-Event-ID);
//   * Backlog::bytes() against a budget for all streams together, so many
//     slow readers cannot add up to gigabytes; which streams to shed is the
//     hub's choice, made from these numbers.
//
// Frame boundaries are remembered (marks) for two reasons: a cut-off must
// not leave half a frame for the client to misparse, and the delivery
// latency of a change is measured when its last byte reaches the kernel.
//
// Thread-safety: a StreamBuffer and its Backlog belong to one thread (the
// hub's epoll thread).
#pragma once

#include "http/transport.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>

namespace mgteam::server {

class Backlog {
 public:
  // `budget` 0: no budget. `gauge`, if given, mirrors bytes() (/metrics).
  explicit Backlog(size_t budget, std::atomic<uint64_t>* gauge = nullptr) : budget_(budget), gauge_(gauge) {}
  Backlog(const Backlog&) = delete;
  Backlog& operator=(const Backlog&) = delete;

  size_t bytes() const { return bytes_; }
  size_t budget() const { return budget_; }
  bool over() const { return budget_ > 0 && bytes_ > budget_; }
  bool would_exceed(size_t more) const { return budget_ > 0 && bytes_ + more > budget_; }
  // Shedding stops here: a quarter of the budget free again, so one more
  // frame does not start the next round at once.
  size_t shed_target() const { return budget_ / 4 * 3; }

  // Bytes given back since ResetReleased(): freed buffers linger in the
  // allocator's arenas, and past some amount the hub returns them.
  size_t released() const { return released_; }
  void ResetReleased() { released_ = 0; }

 private:
  friend class StreamBuffer;
  void Change(size_t from, size_t to);

  const size_t budget_;
  std::atomic<uint64_t>* const gauge_;
  size_t bytes_ = 0;
  size_t released_ = 0;
};

class StreamBuffer {
 public:
  using Clock = std::chrono::steady_clock;
  // Called once per change frame whose last byte the socket took, with how
  // long that took since its event was noticed.
  using Delivered = std::function<void(Clock::duration latency)>;
  enum class Flushed {
    kAll,      // nothing left to send
    kBlocked,  // the socket is full: go on when it is writable
    kClosed,   // the peer is gone
  };

  explicit StreamBuffer(Backlog& backlog) : backlog_(backlog) {}
  ~StreamBuffer() { Release(); }
  StreamBuffer(const StreamBuffer&) = delete;
  StreamBuffer& operator=(const StreamBuffer&) = delete;

  // `change` frames are log events (they count as delivered); the others are
  // control frames and comments.
  void Append(std::string_view frame, Clock::time_point noticed, bool change);
  // Writes as much as `io` takes now, without waiting.
  Flushed Flush(Transport& io, const Delivered& delivered = nullptr);

  size_t unsent() const { return out_.size() - off_; }
  bool empty() const { return unsent() == 0; }
  // Past `limit` unsent bytes the client is not keeping up.
  bool over(size_t limit) const { return unsent() > limit; }
  // When the buffer last emptied (or was made): silence is measured from here.
  Clock::time_point last_drained() const { return last_drained_; }
  void set_last_drained(Clock::time_point t) { last_drained_ = t; }

  // Keeps the frame partly on the wire, so the client sees it whole, and
  // drops every frame after it.
  void KeepFrameInFlight();
  // Drops everything and gives its bytes back to the Backlog.
  void Release();

 private:
  struct Mark {
    size_t end;  // offset in out_ just past the frame
    Clock::time_point noticed;
    bool change;
  };
  void Account();

  Backlog& backlog_;
  std::string out_;
  size_t off_ = 0;  // out_[0, off_) is sent
  std::deque<Mark> marks_;
  size_t accounted_ = 0;  // unsent() as last told to backlog_
  Clock::time_point last_drained_ = Clock::now();
};

}  // namespace mgteam::server
