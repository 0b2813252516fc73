#include "sync/stream_buffer.h"

namespace mgteam::server {

void Backlog::Change(size_t from, size_t to) {
  if (to < from) released_ += from - to;
  bytes_ = bytes_ - from + to;
  if (gauge_) gauge_->store(bytes_, std::memory_order_relaxed);
}

void StreamBuffer::Append(std::string_view frame, Clock::time_point noticed, bool change) {
  out_.append(frame);
  marks_.push_back({out_.size(), noticed, change});
  Account();
}

StreamBuffer::Flushed StreamBuffer::Flush(Transport& io, const Delivered& delivered) {
  while (off_ < out_.size()) {
    Transport::Io r = io.Write(out_.data() + off_, out_.size() - off_);
    off_ += r.n;
    if (r.wait == Transport::Wait::kNone) continue;
    if (r.wait == Transport::Wait::kClosed) {
      Account();
      return Flushed::kClosed;
    }
    break;
  }
  Account();
  const auto now = Clock::now();
  while (!marks_.empty() && marks_.front().end <= off_) {
    if (marks_.front().change && delivered) delivered(now - marks_.front().noticed);
    marks_.pop_front();
  }
  if (off_ < out_.size()) return Flushed::kBlocked;
  out_.clear();
  off_ = 0;
  // One burst must not pin its peak size for the stream's whole life.
  if (out_.capacity() > (64u << 10)) out_.shrink_to_fit();
  last_drained_ = now;
  return Flushed::kAll;
}

void StreamBuffer::KeepFrameInFlight() {
  size_t cut = off_;
  for (const auto& m : marks_)
    if (m.end > off_) {
      cut = m.end;
      break;
    }
  out_.resize(cut);
  while (!marks_.empty() && marks_.back().end > cut) marks_.pop_back();
  Account();
}

void StreamBuffer::Release() {
  out_.clear();
  out_.shrink_to_fit();
  off_ = 0;
  marks_.clear();
  Account();
}

void StreamBuffer::Account() {
  const size_t now = unsent();
  if (now != accounted_) backlog_.Change(accounted_, now);
  accounted_ = now;
}

}  // namespace mgteam::server
