#include "mgteam/sse.h"

#include <doctest/doctest.h>

#include <vector>

using namespace mgteam;

namespace {

struct Collected {
  std::vector<SseEvent> events;
  std::vector<std::string> comments;
  std::vector<int64_t> retries;
  SseParser parser{[this](const SseEvent& e) { events.push_back(e); },
                   [this](std::string_view c) { comments.emplace_back(c); },
                   [this](int64_t ms) { retries.push_back(ms); }};
};

const char kStream[] =
    "retry: 1500\n\n"
    ": heartbeat\n\n"
    "data: {\"type\":\"connected\"}\n\n"
    "id: 41\ndata: first line\ndata: second line\n\n"
    "event: custom\nid: 42\ndata:no space\n\n";

void CheckStandardStream(const Collected& c) {
  REQUIRE(c.events.size() == 3);
  CHECK(c.events[0].data == "{\"type\":\"connected\"}");
  CHECK_FALSE(c.events[0].has_id);
  CHECK(c.events[0].last_event_id.empty());
  CHECK(c.events[1].data == "first line\nsecond line");
  CHECK(c.events[1].last_event_id == "41");
  CHECK(c.events[1].type == "message");
  CHECK(c.events[2].type == "custom");
  CHECK(c.events[2].data == "no space");
  CHECK(c.events[2].last_event_id == "42");
  CHECK(c.comments == std::vector<std::string>{"heartbeat"});
  CHECK(c.retries == std::vector<int64_t>{1500});
}

// Feeds `s` split at every possible point; each split must parse the same.
void CheckEverySplit(const std::string& s) {
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    Collected c;
    c.parser.Feed(std::string_view(s).substr(0, cut));
    c.parser.Feed(std::string_view(s).substr(cut));
    CAPTURE(cut);
    CheckStandardStream(c);
  }
}

}  // namespace

TEST_CASE("SSE parser: a whole stream in one chunk") {
  Collected c;
  c.parser.Feed(kStream);
  CheckStandardStream(c);
  CHECK(c.parser.last_event_id() == "42");
}

TEST_CASE("SSE parser: any split of the stream gives the same events") {
  std::string s = kStream;
  CheckEverySplit(s);
  Collected bytewise;
  for (char ch : s) bytewise.parser.Feed(std::string_view(&ch, 1));
  CheckStandardStream(bytewise);
}

TEST_CASE("SSE parser: CRLF and lone CR line ends, also split between chunks") {
  for (const std::string& eol : {std::string("\r\n"), std::string("\r")}) {
    std::string s;
    for (char ch : std::string(kStream)) {
      if (ch == '\n') s += eol;
      else s.push_back(ch);
    }
    CheckEverySplit(s);
  }
}

TEST_CASE("SSE parser: a leading BOM is dropped, empty data is not dispatched, bad retry is ignored") {
  Collected c;
  c.parser.Feed("\xEF\xBB");
  c.parser.Feed("\xBF" "data: x\n\n");
  c.parser.Feed("event: nothing\n\n");         // no data: no event
  c.parser.Feed("retry: soon\n\nretry: -5\n\nretry: +5\n\nretry: 12\n\n");  // digits only
  c.parser.Feed("data\n\n");                   // field without colon: empty data line
  c.parser.Feed("data: y\nunknown: z\n\n");
  REQUIRE(c.events.size() == 3);
  CHECK(c.events[0].data == "x");
  CHECK(c.events[1].data == "");
  CHECK(c.events[2].data == "y");
  CHECK(c.retries == std::vector<int64_t>{12});
}

TEST_CASE("SSE parser: the last event id survives a reconnect, a half event does not") {
  Collected c;
  c.parser.Feed("id: 7\ndata: a\n\nid: 8\ndata: half");
  c.parser.ResetConnection();
  c.parser.Feed("data: b\n\n");
  REQUIRE(c.events.size() == 2);
  CHECK(c.events[1].data == "b");
  CHECK(c.parser.last_event_id() == "7");  // id 8's event never completed
  CHECK(c.events[1].last_event_id == "7");
  CHECK_FALSE(c.events[1].has_id);
}

TEST_CASE("SSE encoding round-trips through the parser") {
  Collected c;
  c.parser.Feed(SseRetry(1000) + SseComment("heartbeat") + SseFrame(std::nullopt, "{\"type\":\"connected\"}") +
                SseFrame(99, "{\"seq\":99}"));
  REQUIRE(c.events.size() == 2);
  CHECK(c.events[1].data == "{\"seq\":99}");
  CHECK(c.events[1].last_event_id == "99");
  CHECK(c.retries == std::vector<int64_t>{1000});
}

TEST_CASE("backoff grows exponentially, is capped, jittered, and respects the floor") {
  CHECK(BackoffDelayMs(0, 250, 30000, 0, 0.999) < 250);
  CHECK(BackoffDelayMs(3, 250, 30000, 0, 0.999) == 1998);
  CHECK(BackoffDelayMs(20, 250, 30000, 0, 0.999) == 29970);  // capped
  CHECK(BackoffDelayMs(20, 250, 30000, 0, 0.0) == 0);        // full jitter
  CHECK(BackoffDelayMs(20, 250, 30000, 1000, 0.0) == 1000);  // the server's retry hint
  CHECK(BackoffDelayMs(1000, 250, 30000, 0, 0.5) == 15000);  // no overflow
}
