// Server-Sent Events: an incremental parser (WHATWG HTML §9.2 "Server-sent
// events", the event stream interpretation) and the frame encoder the server
// uses. Pure functions and a small state machine; no I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mgteam {

struct SseEvent {
  std::string type = "message";  // the `event:` field, "message" when absent
  std::string data;              // `data:` lines joined with '\n'
  std::string last_event_id;     // the stream's last event id when dispatched
  bool has_id = false;           // this event carried an `id:` field
};

// Feed bytes as they arrive, in chunks of any size. Handles LF, CRLF and CR
// line ends (also split across chunks), a leading BOM, multi-line data,
// comments and `retry:`.
class SseParser {
 public:
  using EventFn = std::function<void(const SseEvent&)>;
  using CommentFn = std::function<void(std::string_view)>;
  using RetryFn = std::function<void(int64_t ms)>;

  explicit SseParser(EventFn on_event, CommentFn on_comment = nullptr, RetryFn on_retry = nullptr)
      : on_event_(std::move(on_event)), on_comment_(std::move(on_comment)), on_retry_(std::move(on_retry)) {}

  void Feed(std::string_view chunk);
  // The id to send as Last-Event-ID on reconnect: as in browsers, an `id:`
  // counts only once the blank line ending its event has arrived.
  const std::string& last_event_id() const { return last_event_id_; }
  // For a new connection: forget a half-received event (not the last id).
  void ResetConnection();

 private:
  void Line(std::string_view line);
  void Dispatch();

  EventFn on_event_;
  CommentFn on_comment_;
  RetryFn on_retry_;
  std::string line_;
  bool started_ = false;   // BOM check done
  bool after_cr_ = false;  // the previous chunk ended in CR
  std::string data_;
  bool has_data_ = false;
  std::string event_type_;
  std::string id_buffer_;      // set by `id:` lines
  std::string last_event_id_;  // committed from the buffer at each blank line
  bool id_seen_ = false;
};

// Encoding. `data` must not contain newlines (the server sends one JSON line).
std::string SseFrame(std::optional<int64_t> id, std::string_view data);
std::string SseComment(std::string_view text);  // ": text\n\n"
std::string SseRetry(int64_t ms);               // "retry: ms\n\n"

// Exponential backoff with full jitter: a delay in [0, min(cap, base * 2^attempt)],
// never less than `floor`. `random01` returns a number in [0, 1).
int64_t BackoffDelayMs(int attempt, int64_t base_ms, int64_t cap_ms, int64_t floor_ms,
                       double random01);

}  // namespace mgteam
