// The view rule as a pure function: server state + pending ops, in order.
#include "view.h"

#include <doctest/doctest.h>

using namespace mgteam;
using namespace mgteam::agent;

namespace {

OutboxOp Op(OpKind kind, json payload, const std::string& at = "2026-11-29T10:00:00.000Z") {
  OutboxOp op;
  op.kind = kind;
  op.payload = std::move(payload);
  op.created_at = at;
  return op;
}

Memory Server() {
  Memory m;
  m.id = "m1";
  m.workspace_id = "ws";
  m.title = "server title";
  m.tags = {"a"};
  m.version = 3;
  m.created_by = m.updated_by = "bob";
  return m;
}

}  // namespace

TEST_CASE("with nothing pending the view is the server's state, field for field") {
  auto v = MemoryView("ws", Server(), {}, "me");
  REQUIRE(v);
  CHECK(v->ToJson() == Server().ToJson());
  CHECK_FALSE(MemoryView("ws", std::nullopt, {}, "me"));
}

TEST_CASE("pending ops replay in order on the server's state") {
  std::vector<OutboxOp> ops = {Op(OpKind::kMemoryUpdate, {{"title", "mine"}, {"tags", {"a", "b"}}}),
                               Op(OpKind::kMemoryUpdate, {{"tags", {"b"}}}, "2026-11-29T10:00:01.000Z")};
  auto v = MemoryView("ws", Server(), ops, "me");
  REQUIRE(v);
  CHECK(v->title == "mine");
  CHECK(v->tags == std::vector<std::string>{"b"});
  CHECK(v->updated_by == "me");
  CHECK(v->updated_at == "2026-11-29T10:00:01.000Z");
  CHECK(v->version == 3);  // the server's until it answers
  ops.push_back(Op(OpKind::kMemoryDelete, json::object()));
  CHECK(MemoryView("ws", Server(), ops, "me")->deleted);
}

TEST_CASE("a create shows only while there is no server state, an update without a base shows nothing") {
  auto create = Op(OpKind::kMemoryCreate, {{"id", "01a2124c-a21f-739f-0000-0000000000e5"}, {"title", "new"}, {"type", "general"}});
  auto v = MemoryView("ws", std::nullopt, std::vector<OutboxOp>{create}, "me");
  REQUIRE(v);
  CHECK(v->title == "new");
  CHECK(v->created_by == "me");
  CHECK(v->version == 0);
  CHECK_FALSE(MemoryView("ws", std::nullopt, std::vector<OutboxOp>{Op(OpKind::kMemoryUpdate, {{"title", "x"}})}, "me"));
}

TEST_CASE("relationships: a pending delete hides, a create shows") {
  Relationship r;
  r.id = "r1";
  // Moved in, not assigned from the literal: there GCC 12 at -O3 reports a
  // read of uninitialised bytes of r (a false -Wmaybe-uninitialized).
  r.workspace_id = std::string("ws");
  r.type = "SOLVES";
  r.version = 1;
  CHECK(RelationshipView("ws", r, {}, "me")->ToJson() == r.ToJson());
  CHECK(RelationshipView("ws", r, std::vector<OutboxOp>{Op(OpKind::kRelationshipDelete, json::object())}, "me")->deleted);
  auto create = Op(OpKind::kRelationshipCreate, {{"id", "01a2124c-a21f-739f-0000-0000000000e2"},
                                                 {"from_memory_id", "01a2124c-a21f-739f-0000-0000000000e3"},
                                                 {"to_memory_id", "01a2124c-a21f-739f-0000-0000000000e4"},
                                                 {"type", "SOLVES"}});
  auto v = RelationshipView("ws", std::nullopt, std::vector<OutboxOp>{create}, "me");
  REQUIRE(v);
  CHECK(v->from_memory_id == "01a2124c-a21f-739f-0000-0000000000e3");
}

TEST_CASE("FirstDifference names the first differing field") {
  json a = {{"title", "x"}, {"tags", {"a"}}};
  json b = {{"title", "x"}, {"tags", {"a", "b"}}};
  CHECK(FirstDifference(a, a) == "");
  CHECK(FirstDifference(a, b) == "tags");
  CHECK(FirstDifference(a, {{"title", "x"}}) == "tags");
}
