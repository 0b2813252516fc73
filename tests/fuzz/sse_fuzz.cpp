// SseParser against the WHATWG event-stream rules: a straightforward
// whole-input reading of the spec is the oracle, and the incremental parser
// must agree with it however the bytes are split into chunks. Also: frames
// made by SseFrame/SseComment/SseRetry parse back to what was encoded.
#include "fuzz_support.h"
#include "mgteam/sse.h"

#include <optional>
#include <vector>

namespace {

using mgteam::SseEvent;
using mgteam::SseParser;
using mgteam::fuzz::AsText;

// Everything a parser reports, in order.
struct Transcript {
  std::vector<std::string> items;  // "event <type> <has_id> <id> <data>", "comment ...", "retry ..."
  std::string last_event_id;

  bool operator==(const Transcript&) const = default;
};

std::string Describe(const SseEvent& e) {
  return "event " + e.type + " " + (e.has_id ? "1 " : "0 ") + e.last_event_id + "\x1f" + e.data;
}

Transcript Parse(std::string_view stream, const std::vector<size_t>& cuts) {
  Transcript t;
  SseParser parser([&](const SseEvent& e) { t.items.push_back(Describe(e)); },
                   [&](std::string_view c) { t.items.push_back("comment " + std::string(c)); },
                   [&](int64_t ms) { t.items.push_back("retry " + std::to_string(ms)); });
  size_t at = 0;
  for (size_t cut : cuts) {
    cut = std::min(cut, stream.size());
    if (cut < at) continue;
    parser.Feed(stream.substr(at, cut - at));
    at = cut;
  }
  parser.Feed(stream.substr(at));
  t.last_event_id = parser.last_event_id();
  return t;
}

// The spec's "event stream interpretation", read over the whole stream at
// once. Lines end at CRLF, LF or CR; a last line without an end is pending
// and not interpreted.
Transcript Reference(std::string_view stream) {
  Transcript t;
  if (stream.substr(0, 3) == "\xEF\xBB\xBF") stream.remove_prefix(3);
  std::string data, type, id_buffer;
  bool has_data = false, id_seen = false;
  auto dispatch = [&] {
    t.last_event_id = id_buffer;
    bool carried_id = id_seen;
    id_seen = false;
    if (has_data) {
      SseEvent e;
      e.type = type.empty() ? "message" : type;
      e.data = data;
      e.last_event_id = id_buffer;
      e.has_id = carried_id;
      t.items.push_back(Describe(e));
    }
    data.clear();
    has_data = false;
    type.clear();
  };
  size_t pos = 0;
  while (true) {
    size_t end = stream.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) break;
    std::string_view line = stream.substr(pos, end - pos);
    pos = end + (stream.substr(end, 2) == "\r\n" ? 2 : 1);
    if (line.empty()) {
      dispatch();
      continue;
    }
    if (line.front() == ':') {
      std::string_view text = line.substr(1);
      if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
      t.items.push_back("comment " + std::string(text));
      continue;
    }
    size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "event") {
      type = value;
    } else if (field == "data") {
      if (has_data) data += '\n';
      data += value;
      has_data = true;
    } else if (field == "id") {
      if (value.find('\0') == std::string_view::npos) {
        id_buffer = value;
        id_seen = true;
      }
    } else if (field == "retry") {
      // "If the field value consists of only ASCII digits": no sign, no
      // spaces. Values past int64 are ignored.
      bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos;
      if (digits) {
        std::string_view number = value.substr(std::min(value.find_first_not_of('0'), value.size() - 1));
        if (number.size() < 19 || (number.size() == 19 && number <= "9223372036854775807"))
          t.items.push_back("retry " + std::string(number));
      }
    }
  }
  return t;
}

void CheckSplits(std::string_view stream) {
  const Transcript expected = Reference(stream);
  FUZZ_REQUIRE(Parse(stream, {}) == expected);
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < stream.size(); ++i) every_byte.push_back(i);
  FUZZ_REQUIRE(Parse(stream, every_byte) == expected);
  if (!stream.empty()) {
    // Chunks of a size chosen by the input, and cuts at every CR (where a
    // CRLF is most easily split in two).
    size_t step = 1 + static_cast<unsigned char>(stream.front()) % 7;
    std::vector<size_t> chunks, at_cr;
    for (size_t i = step; i < stream.size(); i += step) chunks.push_back(i);
    for (size_t i = 0; i < stream.size(); ++i)
      if (stream[i] == '\r') at_cr.push_back(i + 1);
    FUZZ_REQUIRE(Parse(stream, chunks) == expected);
    FUZZ_REQUIRE(Parse(stream, at_cr) == expected);
  }
}

// Frames from the encoder: each input line becomes a comment, a retry hint or
// an event (with or without an id), and must come back as it went in.
void CheckEncoding(std::string_view input) {
  std::string stream;
  std::vector<std::string> expected;
  std::optional<int64_t> last_id;
  int64_t next_id = 0;
  size_t pos = 0;
  while (pos <= input.size()) {
    size_t end = std::min(input.find('\n', pos), input.size());
    std::string text;
    for (char c : input.substr(pos, end - pos))
      if (c != '\r' && c != '\n') text += c;
    pos = end + 1;
    switch (text.size() % 4) {
      case 0:
        stream += mgteam::SseComment(text);
        expected.push_back("comment " + text);
        break;
      case 1: {
        int64_t ms = static_cast<int64_t>(text.size()) * 1000;
        stream += mgteam::SseRetry(ms);
        expected.push_back("retry " + std::to_string(ms));
        break;
      }
      case 2:
        stream += mgteam::SseFrame(std::nullopt, text);
        expected.push_back(Describe({"message", text, last_id ? std::to_string(*last_id) : "", false}));
        break;
      default:
        last_id = next_id;
        next_id += 1 + static_cast<int64_t>(text.size()) * 7919;
        stream += mgteam::SseFrame(last_id, text);
        expected.push_back(Describe({"message", text, std::to_string(*last_id), true}));
    }
  }
  FUZZ_REQUIRE(Parse(stream, {}).items == expected);
  FUZZ_REQUIRE(Reference(stream).items == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = AsText(data, size);
  CheckSplits(input);
  CheckEncoding(input);
  return 0;
}
