// Presence: who is online per workspace, last_seen, and the frames that
// announce a change, with a clock the test sets.
#include "sync/presence.h"

#include "mgteam/sse.h"

#include <doctest/doctest.h>

using namespace mgteam;
using namespace mgteam::server;

namespace {

// The one event in `frame`, which must carry no id.
json Parse(const std::string& frame) {
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& e) { events.push_back(e); });
  parser.Feed(frame);
  REQUIRE(events.size() == 1);
  CHECK_FALSE(events[0].has_id);
  return json::parse(events[0].data);
}

}  // namespace

TEST_CASE("presence: the first stream in and the last one out are announced, the others are not") {
  std::string now = "2026-11-30T10:00:00.000Z";
  Presence presence([&] { return now; });

  auto joined = presence.Note("ws1", "alice", +1);
  REQUIRE(joined);
  json j = Parse(*joined);
  CHECK(j["type"] == "presence_changed");
  CHECK(j["workspace_id"] == "ws1");
  CHECK(j["user_id"] == "alice");
  CHECK(j["online"] == true);
  CHECK(j["last_seen"] == "2026-11-30T10:00:00.000Z");

  now = "2026-11-30T10:01:00.000Z";
  CHECK_FALSE(presence.Note("ws1", "alice", +1));  // a second tab: no news
  json of = presence.Of("ws1");
  CHECK(of["alice"]["online"] == true);
  CHECK(of["alice"]["streams"] == 2);
  CHECK(of["alice"]["last_seen"] == "2026-11-30T10:01:00.000Z");

  now = "2026-11-30T10:02:00.000Z";
  CHECK_FALSE(presence.Note("ws1", "alice", -1));
  now = "2026-11-30T10:03:00.000Z";
  auto left = presence.Note("ws1", "alice", -1);
  REQUIRE(left);
  json l = Parse(*left);
  CHECK(l["online"] == false);
  CHECK(l["last_seen"] == "2026-11-30T10:03:00.000Z");
  of = presence.Of("ws1");
  CHECK(of["alice"]["online"] == false);
  CHECK(of["alice"]["streams"] == 0);
  CHECK(of["alice"]["last_seen"] == "2026-11-30T10:03:00.000Z");
}

TEST_CASE("presence is per workspace and per user, and never counts below zero") {
  Presence presence;
  REQUIRE(presence.Note("ws1", "alice", +1));
  REQUIRE(presence.Note("ws2", "bob", +1));
  REQUIRE(presence.Note("ws1", "bob", +1));

  json ws1 = presence.Of("ws1");
  CHECK(ws1.size() == 2);
  CHECK(ws1["alice"]["online"] == true);
  CHECK(ws1["bob"]["online"] == true);
  json ws2 = presence.Of("ws2");
  CHECK(ws2.size() == 1);
  CHECK(ws2.contains("bob"));
  CHECK(presence.Of("nobody-here").empty());

  REQUIRE(presence.Note("ws2", "bob", -1));
  CHECK(presence.Of("ws1")["bob"]["online"] == true);  // still on ws1
  // One more leave than joins (a stream that never counted): no frame, no
  // negative count.
  CHECK_FALSE(presence.Note("ws2", "bob", -1));
  CHECK(presence.Of("ws2")["bob"]["streams"] == 0);
  // Real RFC 3339 from the default clock.
  CHECK(presence.Of("ws2")["bob"]["last_seen"].get<std::string>().size() == 24);
}

TEST_CASE("presence across instances: a user is online while any instance counts a stream, and a silent instance is forgotten") {
  std::string now = "2026-11-30T10:00:00.000Z";
  Presence presence([&] { return now; });
  using Steady = Presence::Steady;
  const Steady t0{std::chrono::hours(1)};

  // Bob's first stream is on instance B: announced here.
  auto on_b = presence.NoteElsewhere("B", {"ws1", "bob", 1, "2026-11-30T09:59:00.000Z"}, t0);
  REQUIRE(on_b);
  CHECK(Parse(*on_b)["online"] == true);
  // A second stream here, and B retelling its count: no news.
  CHECK_FALSE(presence.Note("ws1", "bob", +1));
  CHECK_FALSE(presence.NoteElsewhere("B", {"ws1", "bob", 1, "2026-11-30T09:59:00.000Z"}, t0 + std::chrono::seconds(5)));
  json of = presence.Of("ws1");
  CHECK(of["bob"]["online"] == true);
  CHECK(of["bob"]["streams"] == 2);
  CHECK(presence.Local("ws1", "bob").streams == 1);
  REQUIRE(presence.LocalOnline().size() == 1);
  CHECK(presence.LocalOnline()[0].user == "bob");

  // The stream here ends: B still counts one, so bob stays online.
  CHECK_FALSE(presence.Note("ws1", "bob", -1));
  CHECK(presence.Of("ws1")["bob"]["online"] == true);
  CHECK(presence.LocalOnline().empty());

  // B falls silent (it crashed): not forgotten while recently heard, then
  // forgotten, which takes bob offline, with B's last word as last_seen.
  CHECK(presence.ForgetSilent(t0).empty());
  auto gone = presence.ForgetSilent(t0 + std::chrono::seconds(6));
  REQUIRE(gone.size() == 1);
  CHECK(gone[0].first == "ws1");
  CHECK(Parse(gone[0].second)["online"] == false);
  of = presence.Of("ws1");
  CHECK(of["bob"]["online"] == false);
  CHECK(of["bob"]["last_seen"] == "2026-11-30T10:00:00.000Z");  // the stream here ended later

  // Carol on instance C: leaving is news once.
  CHECK(presence.NoteElsewhere("C", {"ws1", "carol", 2, "2026-11-30T10:05:00.000Z"}, t0));
  auto left = presence.NoteElsewhere("C", {"ws1", "carol", 0, "2026-11-30T10:06:00.000Z"}, t0);
  REQUIRE(left);
  CHECK(Parse(*left)["online"] == false);
  CHECK(Parse(*left)["last_seen"] == "2026-11-30T10:06:00.000Z");
  CHECK_FALSE(presence.NoteElsewhere("C", {"ws1", "carol", 0, "2026-11-30T10:06:00.000Z"}, t0));
}
