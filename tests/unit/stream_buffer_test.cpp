// StreamBuffer and Backlog over a real socket pair whose send buffer is kept
// small, so the kernel takes only part of what is written, as it does for a
// client that reads slowly.
#include "socket_pair.h"
#include "sync/stream_buffer.h"

#include "mgteam/sse.h"

#include <doctest/doctest.h>

#include <atomic>
#include <set>

using namespace mgteam;
using namespace mgteam::server;
using namespace std::chrono_literals;
using mgteam::test::Scaled;
using mgteam::test::SocketPair;

namespace {

using Clock = std::chrono::steady_clock;

void SmallSendBuffer(int fd) {
  int small = 4096;
  REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
}

// `n` change frames of about 4 KB, appended to `buf`; returns their bytes and
// where each ends.
std::string AppendFrames(StreamBuffer& buf, int n, std::set<size_t>* ends = nullptr) {
  std::string all;
  for (int i = 0; i < n; ++i) {
    std::string frame = SseFrame(i + 1, std::string(4000, static_cast<char>('a' + i % 26)));
    buf.Append(frame, Clock::now(), true);
    all += frame;
    if (ends) ends->insert(all.size());
  }
  return all;
}

// Flushes `buf` and reads the client end until `buf` is empty; returns what
// the client got.
std::string Drain(StreamBuffer& buf, Transport& io, SocketPair& pair, const StreamBuffer::Delivered& delivered) {
  std::string got;
  const auto deadline = Clock::now() + Scaled(10000ms);
  while (buf.Flush(io, delivered) != StreamBuffer::Flushed::kAll) {
    REQUIRE(Clock::now() < deadline);
    REQUIRE(pair.Read(got, deadline));
  }
  // The last flush may have left bytes in the socket.
  while (Clock::now() < deadline) {
    size_t before = got.size();
    REQUIRE(pair.Read(got, Clock::now() + 100ms));
    if (got.size() == before) break;
  }
  return got;
}

}  // namespace

TEST_CASE("a stream buffer sends what the socket takes, counts the rest, and sends it once the client reads") {
  SocketPair pair;
  SmallSendBuffer(pair.server);
  Transport io(pair.server, nullptr);
  std::atomic<uint64_t> gauge{0};
  Backlog backlog(0, &gauge);
  StreamBuffer buf(backlog);
  std::set<size_t> ends;
  const std::string sent = AppendFrames(buf, 64, &ends);
  CHECK(backlog.bytes() == sent.size());
  CHECK(gauge.load() == sent.size());

  int delivered = 0;
  auto count = [&](Clock::duration latency) {
    CHECK(latency >= Clock::duration::zero());
    ++delivered;
  };
  REQUIRE(buf.Flush(io, count) == StreamBuffer::Flushed::kBlocked);
  // A partial write: some went, the rest is still counted.
  const size_t taken = sent.size() - buf.unsent();
  CHECK(taken > 0);
  CHECK(buf.unsent() > 0);
  CHECK(backlog.bytes() == buf.unsent());
  CHECK(gauge.load() == buf.unsent());
  // Only frames whose last byte went out count as delivered.
  CHECK(delivered == static_cast<int>(std::distance(ends.begin(), ends.upper_bound(taken))));

  const std::string got = Drain(buf, io, pair, count);
  CHECK(got == sent);
  CHECK(delivered == 64);
  CHECK(buf.empty());
  CHECK(backlog.bytes() == 0);
  CHECK(gauge.load() == 0);
  CHECK(backlog.released() == sent.size());
}

TEST_CASE("past its limit a stream buffer keeps the frame on the wire whole and drops the frames after it") {
  SocketPair pair;
  SmallSendBuffer(pair.server);
  Transport io(pair.server, nullptr);
  Backlog backlog(0);
  StreamBuffer buf(backlog);
  std::set<size_t> ends;
  const std::string sent = AppendFrames(buf, 64, &ends);
  REQUIRE(buf.Flush(io) == StreamBuffer::Flushed::kBlocked);
  const size_t taken = sent.size() - buf.unsent();
  const size_t limit = 16 << 10;
  REQUIRE(buf.over(limit));

  buf.KeepFrameInFlight();
  CHECK_FALSE(buf.over(limit));
  CHECK(backlog.bytes() == buf.unsent());
  // What stays ends where a frame ends: the client never sees half of one.
  CHECK(ends.count(taken + buf.unsent()) == 1);
  // The closing frame goes after it, as the hub sends one.
  const std::string closed = SseFrame(std::nullopt, R"({"type":"closed","reason":"slow_consumer"})");
  buf.Append(closed, Clock::now(), false);

  const std::string got = Drain(buf, io, pair, nullptr);
  REQUIRE(got.size() > closed.size());
  CHECK(got.substr(got.size() - closed.size()) == closed);
  const std::string frames = got.substr(0, got.size() - closed.size());
  CHECK(ends.count(frames.size()) == 1);
  CHECK(frames == sent.substr(0, frames.size()));
  CHECK(frames.size() < sent.size());
  // And it parses: whole events, in order, then the reason.
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& e) { events.push_back(e); });
  parser.Feed(got);
  const auto whole = static_cast<size_t>(std::distance(ends.begin(), ends.find(frames.size()))) + 1;
  REQUIRE(events.size() == whole + 1);
  CHECK(events[whole - 1].last_event_id == std::to_string(whole));
  CHECK(events.back().data == R"({"type":"closed","reason":"slow_consumer"})");
  CHECK(backlog.bytes() == 0);
}

TEST_CASE("the backlog adds up every stream's unsent bytes against the budget and gets them back when streams go") {
  std::atomic<uint64_t> gauge{0};
  Backlog backlog(1000, &gauge);
  {
    StreamBuffer a(backlog);
    StreamBuffer b(backlog);
    a.Append(std::string(600, 'a'), Clock::now(), true);
    CHECK(backlog.bytes() == 600);
    CHECK_FALSE(backlog.over());
    CHECK(backlog.would_exceed(401));
    CHECK_FALSE(backlog.would_exceed(400));
    b.Append(std::string(500, 'b'), Clock::now(), true);
    CHECK(backlog.bytes() == 1100);
    CHECK(gauge.load() == 1100);
    CHECK(backlog.over());
    CHECK(backlog.shed_target() == 750);
    a.Release();
    CHECK(a.empty());
    CHECK(backlog.bytes() == 500);
    CHECK(backlog.released() == 600);
    CHECK_FALSE(backlog.over());
  }  // b goes with its bytes still unsent
  CHECK(backlog.bytes() == 0);
  CHECK(gauge.load() == 0);
  CHECK(backlog.released() == 1100);
  backlog.ResetReleased();
  CHECK(backlog.released() == 0);

  Backlog unlimited(0);
  StreamBuffer c(unlimited);
  c.Append(std::string(1 << 20, 'c'), Clock::now(), true);
  CHECK_FALSE(unlimited.over());
  CHECK_FALSE(unlimited.would_exceed(1 << 30));
}

TEST_CASE("a stream buffer says so when the client has gone") {
  SocketPair pair;
  Transport io(pair.server, nullptr);
  Backlog backlog(0);
  StreamBuffer buf(backlog);
  pair.CloseClient();
  buf.Append(SseComment("heartbeat"), Clock::now(), false);
  CHECK(buf.Flush(io) == StreamBuffer::Flushed::kClosed);
  buf.Release();
  CHECK(backlog.bytes() == 0);
}
