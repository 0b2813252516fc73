#include "mgteam/sse.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace mgteam {

void SseParser::Feed(std::string_view chunk) {
  if (!started_) {
    // A UTF-8 BOM may open the stream; it can itself be split across chunks.
    line_.append(chunk);
    if (line_.size() < 3 && std::string_view("\xEF\xBB\xBF").substr(0, line_.size()) == line_) return;
    started_ = true;
    std::string pending = std::move(line_);
    line_.clear();
    std::string_view rest = pending;
    if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);
    Feed(rest);
    return;
  }
  size_t start = 0;
  for (size_t i = 0; i < chunk.size(); ++i) {
    char c = chunk[i];
    if (c != '\n' && c != '\r') {
      after_cr_ = false;
      continue;
    }
    if (c == '\n' && after_cr_ && i == start && line_.empty()) {
      // The LF of a CRLF whose CR ended the previous piece.
      after_cr_ = false;
      start = i + 1;
      continue;
    }
    line_.append(chunk.substr(start, i - start));
    Line(line_);
    line_.clear();
    after_cr_ = c == '\r';
    start = i + 1;
    if (c == '\r' && i + 1 < chunk.size() && chunk[i + 1] == '\n') {
      ++i;
      start = i + 1;
      after_cr_ = false;
    }
  }
  line_.append(chunk.substr(start));
}

void SseParser::ResetConnection() {
  line_.clear();
  data_.clear();
  has_data_ = false;
  event_type_.clear();
  id_buffer_ = last_event_id_;
  id_seen_ = false;
  started_ = false;
  after_cr_ = false;
}

void SseParser::Line(std::string_view line) {
  if (line.empty()) {
    Dispatch();
    return;
  }
  if (line.front() == ':') {
    if (on_comment_) {
      std::string_view text = line.substr(1);
      if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
      on_comment_(text);
    }
    return;
  }
  auto colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_type_ = std::string(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      id_buffer_ = std::string(value);
      id_seen_ = true;
    }
  } else if (field == "retry") {
    // Only ASCII digits count (the spec): from_chars alone would take "-5".
    int64_t ms = 0;
    bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (digits && ec == std::errc() && p == value.data() + value.size() && on_retry_) on_retry_(ms);
  }
  // Other fields are ignored, as the spec says.
}

void SseParser::Dispatch() {
  last_event_id_ = id_buffer_;
  bool carried_id = id_seen_;
  id_seen_ = false;
  if (!has_data_) {
    event_type_.clear();
    return;
  }
  SseEvent e;
  e.type = event_type_.empty() ? "message" : event_type_;
  e.data = std::move(data_);
  e.last_event_id = last_event_id_;
  e.has_id = carried_id;
  data_.clear();
  has_data_ = false;
  event_type_.clear();
  on_event_(e);
}

std::string SseFrame(std::optional<int64_t> id, std::string_view data) {
  std::string out;
  out.reserve(data.size() + 32);
  if (id) {
    out += "id: ";
    out += std::to_string(*id);
    out += '\n';
  }
  out += "data: ";
  out.append(data);
  out += "\n\n";
  return out;
}

std::string SseComment(std::string_view text) { return ": " + std::string(text) + "\n\n"; }
std::string SseRetry(int64_t ms) { return "retry: " + std::to_string(ms) + "\n\n"; }

int64_t BackoffDelayMs(int attempt, int64_t base_ms, int64_t cap_ms, int64_t floor_ms, double random01) {
  double ceiling = static_cast<double>(base_ms) * std::pow(2.0, std::min(attempt, 30));
  ceiling = std::min(ceiling, static_cast<double>(cap_ms));
  auto d = static_cast<int64_t>(ceiling * std::clamp(random01, 0.0, 1.0));
  return std::max(d, floor_ms);
}

}  // namespace mgteam
