// The bus's wire form and the Redis URL: pure code, no peers.
#include "bus/bus_message.h"
#include "bus/redis_link.h"
#include "store/open_store.h"

#include <doctest/doctest.h>

using namespace mgteam::server;

TEST_CASE("bus message: every kind round-trips") {
  for (auto kind : {BusMessage::Kind::kAdvance, BusMessage::Kind::kWorkspaceDeleted, BusMessage::Kind::kTokenRevoked,
                    BusMessage::Kind::kLogin, BusMessage::Kind::kPresence}) {
    const bool login = kind == BusMessage::Kind::kLogin;
    const bool presence = kind == BusMessage::Kind::kPresence;
    BusMessage m{kind, "inst1", "ws-\"quoted\"\n", kind == BusMessage::Kind::kAdvance ? 42 : presence ? 3 : 0,
                 login ? "2001:db8::/64" : presence ? "user-1" : "", login,
                 presence ? "2026-11-30T10:00:00.000Z" : ""};
    auto back = DecodeBusMessage(EncodeBusMessage(m));
    REQUIRE(back);
    CHECK(back->kind == m.kind);
    CHECK(back->origin == m.origin);
    CHECK(back->id == m.id);
    CHECK(back->seq == m.seq);
    CHECK(back->address == m.address);
    CHECK(back->success == m.success);
    CHECK(back->at == m.at);
  }
}

TEST_CASE("bus message: garbage and foreign messages are ignored, not delivered") {
  for (const char* text : {"", "null", "[]", "{}", "not json", R"({"k":"advance","o":"a","id":"w"})",
                           R"({"k":"advance","o":"a","id":"w","seq":-1})", R"({"k":"advance","o":"a","id":"w","seq":"3"})",
                           R"({"k":"advance","o":"a","id":"","seq":3})", R"({"k":"explode","o":"a","id":"w"})",
                           R"({"k":"token_revoked","id":"t"})", R"({"k":"token_revoked","o":1,"id":"t"})",
                           R"({"k":"login","o":"a","id":"h","ok":false})", R"({"k":"login","o":"a","id":"h","addr":"x"})",
                           R"({"k":"login","o":"a","id":"h","addr":"","ok":true})",
                           R"({"k":"presence","o":"a","id":"w","user":"u","n":-1,"at":""})",
                           R"({"k":"presence","o":"a","id":"w","user":"","n":1,"at":""})",
                           R"({"k":"presence","o":"a","id":"w","user":"u","n":1})"})
    CHECK_MESSAGE(!DecodeBusMessage(text), text);
  CHECK(!DecodeBusMessage(R"({"k":"token_revoked","o":"a","id":")" + std::string(5000, 'x') + "\"}"));
}

TEST_CASE("bus: redis URLs") {
  auto a = ParseRedisUrl("redis://127.0.0.1:6380");
  REQUIRE(a.ok());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 6380);
  CHECK(a->password.empty());
  auto b = ParseRedisUrl("redis://:s3cret@cache.internal");
  REQUIRE(b.ok());
  CHECK(b->host == "cache.internal");
  CHECK(b->port == 6379);
  CHECK(b->password == "s3cret");
  auto c = ParseRedisUrl("redis://[::1]:7000/");
  REQUIRE(c.ok());
  CHECK(c->host == "::1");
  CHECK(c->port == 7000);
  for (const char* bad : {"http://x", "redis://", "redis://h:0", "redis://h:99999", "redis://h:12x", "redis://h/2",
                          "redis://[::1"})
    CHECK_MESSAGE(!ParseRedisUrl(bad).ok(), bad);
}

TEST_CASE("database and Redis URLs lose their passwords in logs") {
  CHECK(RedactedDatabaseUrl("postgres://mg:s3cret@db:5432/mgteam") == "postgres://mg:***@db:5432/mgteam");
  CHECK(RedactedDatabaseUrl("postgres://mg@db/mgteam?sslmode=require&password=s3cret") ==
        "postgres://mg@db/mgteam?sslmode=require&password=***");
  CHECK(RedactedDatabaseUrl("redis://:p@ss/word@cache:6379") == "redis://:***@cache:6379");
  CHECK(RedactedDatabaseUrl("postgres://mg@db/mgteam") == "postgres://mg@db/mgteam");
  auto bad = ParseRedisUrl("redis://:s3cret@cache:notaport");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("s3cret") == std::string::npos);
}
