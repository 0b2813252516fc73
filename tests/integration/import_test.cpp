// mgteam import / export against a real server: the project's MemoryGraph
// fixture (tests/data: a dangling relationship, duplicates, missing and
// offset timestamps, ids that are not UUIDs, an invalid entry), idempotent
// re-import, export -> import round trips field by field, and the batch
// route they use, attacked directly.
#include "machine.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>

using namespace mgteam;
using namespace mgteam::test;
using nlohmann::json;

namespace {

const std::string kFixture = std::string(MGTEAM_TESTS_DATA_DIR) + "/memorygraph-export.json";

json All(Http& http, const TestUser& u, const std::string& ws, const std::string& kind) {
  json out = json::array();
  std::string cursor;
  do {
    auto page = http.Get("/api/v1/workspaces/" + ws + "/" + kind + "?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor),
                         u.token);
    REQUIRE(page.status == 200);
    for (const auto& x : page.body[kind]) out.push_back(x);
    cursor = page.body["next_cursor"].is_string() ? page.body["next_cursor"].get<std::string>() : "";
  } while (!cursor.empty());
  return out;
}

json ById(const json& items) {
  json out = json::object();
  for (const auto& x : items) out[x["id"].get<std::string>()] = x;
  return out;
}

// What an import can carry over: everything but who wrote it, the version
// and the workspace, which the receiving server assigns.
json Portable(json x) {
  for (const char* key : {"workspace_id", "created_by", "updated_by", "version"}) x.erase(key);
  return x;
}

}  // namespace

TEST_CASE("importing the MemoryGraph fixture keeps ids, times and properties, and reports what it skipped") {
  TeamServer ts("Import Team");
  Machine alice(ts.url(), ts.alice);
  auto dry = alice.CliJson({"-w", "Import Team", "import", kFixture, "--dry-run"});
  CHECK(dry["dry_run"] == true);
  CHECK(dry["memories_in_file"] == 5);
  CHECK(All(*ts.http, ts.alice, ts.team, "memories").empty());  // a dry run sends nothing

  auto r = alice.Cli({"-w", "Import Team", "import", kFixture, "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  json summary = json::parse(r.out);
  CHECK(summary["format"] == "memorygraph");
  CHECK(summary["memories"]["created"] == 5);
  CHECK(summary["relationships"]["created"] == 4);
  CHECK(summary["mapped_ids"] == 3);
  std::map<std::string, std::string> skipped;
  for (const auto& s : summary["skipped"]) skipped[s["kind"].get<std::string>() + " " + s["id"].get<std::string>()] = s["reason"];
  REQUIRE(skipped.size() == 4);
  CHECK(skipped["memory 7d3c1a90-5b2e-4f61-8a4d-0c9e2f1b3a02"].find("duplicate") != std::string::npos);
  CHECK(skipped["memory 7d3c1a90-5b2e-4f61-8a4d-0c9e2f1b3a05"].find("title") != std::string::npos);
  CHECK(skipped["relationship 4e8f0b12-9c3d-4a7e-b1f2-6d5c4b3a2905"].find("dangling") != std::string::npos);
  CHECK(skipped["relationship 4e8f0b12-9c3d-4a7e-b1f2-6d5c4b3a2901"].find("duplicate") != std::string::npos);

  json memories = ById(All(*ts.http, ts.alice, ts.team, "memories"));
  REQUIRE(memories.size() == 5);
  const json& oom = memories["7d3c1a90-5b2e-4f61-8a4d-0c9e2f1b3a01"];
  CHECK(oom["created_at"] == "2026-11-10T08:15:30.250Z");
  CHECK(oom["updated_at"] == "2026-11-12T16:45:00.000Z");  // +01:00 in the file
  CHECK(oom["tags"] == json({"celery", "csv", "memory"}));
  CHECK(oom["importance"] == 0.85);
  CHECK(oom["context"]["files_involved"] == json({"tasks/import.py"}));
  // Ids that are not UUIDs: mapped, the original kept.
  int mapped = 0;
  for (const auto& [id, m] : memories.items())
    if (m["context"].contains("original_id")) {
      ++mapped;
      if (m["context"]["original_id"] == "note-42") {
        CHECK(m["type"] == "general");  // "decision" is not a memory type here
        CHECK(m["context"]["original_type"] == "decision");
        CHECK(m["context"]["original_context"] == "billing retention");
        CHECK(m["title"] == "Löschen: keine Rohdaten länger als 30 Tage ☂");
      }
    }
  CHECK(mapped == 2);
  json rels = All(*ts.http, ts.alice, ts.team, "relationships");
  REQUIRE(rels.size() == 4);
  json by_type;
  for (const auto& rel : rels) by_type[rel["type"].get<std::string>()] = rel;
  CHECK(by_type["SOLVES"]["id"] == "4e8f0b12-9c3d-4a7e-b1f2-6d5c4b3a2901");
  CHECK(by_type["SOLVES"]["evidence_count"] == 4);
  CHECK(by_type["SOLVES"]["strength"] == 0.95);
  CHECK(by_type["SOLVES"]["context"] == "verified on the 2 GB file");
  CHECK(by_type["SOLVES"]["created_at"] == "2026-11-11T10:05:00.000Z");
  CHECK(by_type["APPLIES_TO"]["context"] == R"({"scope":"full"})");
  CHECK(by_type.contains("OCCURS_IN"));  // no id in the file: one derived from what it links
  CHECK(by_type.contains("BUILDS_ON"));

  // The local copy picks the import up like any change.
  CHECK(alice.CliJson({"-w", "Import Team", "memory", "list"}).size() == 5);

  // Again: nothing changes, not even the change log.
  int64_t head = ts.Head();
  auto again = alice.CliJson({"-w", "Import Team", "import", kFixture});
  CHECK(again["memories"]["created"] == 0);
  CHECK(again["memories"]["existing"] == 5);
  CHECK(again["relationships"]["existing"] == 4);
  CHECK(ts.Head() == head);
}

TEST_CASE("export -> import round trips field by field, and the MemoryGraph export has MemoryGraph's keys") {
  TeamServer ts("Source");
  Machine alice(ts.url(), ts.alice);
  REQUIRE(alice.Cli({"-w", "Source", "import", kFixture}).exit_code == 0);
  TempDir out;
  const std::string lossless = out.path() + "/team.mgteam.json", mg = out.path() + "/team.memorygraph.json";
  auto e1 = alice.Cli({"-w", "Source", "export", "--format", "mgteam", "-o", lossless});
  REQUIRE_MESSAGE(e1.exit_code == 0, e1.err);
  CHECK((std::filesystem::status(lossless).permissions() & std::filesystem::perms::others_read) ==
        std::filesystem::perms::none);
  REQUIRE(alice.Cli({"-w", "Source", "export", "-o", mg}).exit_code == 0);

  json file = json::parse(std::ifstream(mg));
  CHECK(file["format_version"] == "2.0");
  CHECK(file["memory_count"] == 5);
  for (const auto& m : file["memories"])
    for (const char* key : {"id", "type", "title", "content", "summary", "tags", "importance", "confidence",
                            "created_at", "updated_at", "context"})
      CHECK_MESSAGE(m.contains(key), key);
  for (const auto& r : file["relationships"]) {
    for (const char* key : {"id", "from_memory_id", "to_memory_id", "type", "properties"}) CHECK(r.contains(key));
    for (const char* key : {"strength", "confidence", "context", "evidence_count"}) CHECK(r["properties"].contains(key));
  }

  // Into another workspace, from each format: the same records.
  const std::string target = CreateTeam(*ts.http, ts.alice, "Target"), target2 = CreateTeam(*ts.http, ts.alice, "Target Two");
  REQUIRE(alice.Cli({"-w", "Target", "import", lossless}).exit_code == 0);
  REQUIRE(alice.Cli({"-w", "Target Two", "import", mg}).exit_code == 0);
  for (const std::string& ws : {target, target2}) {
    for (const char* kind : {"memories", "relationships"}) {
      json before = ById(All(*ts.http, ts.alice, ts.team, kind)), after = ById(All(*ts.http, ts.alice, ws, kind));
      REQUIRE(before.size() == after.size());
      for (const auto& [id, x] : before.items()) {
        INFO(kind, " ", id);
        REQUIRE(after.contains(id));
        CHECK(Portable(after[id]) == Portable(x));
      }
    }
  }
}

TEST_CASE("the batch route: limits, per-item refusals, roles, replays and future times") {
  TeamServer ts("Batch Team", "viewer");
  auto post = [&](const json& items, const std::string& token, std::map<std::string, std::string> headers = {}) {
    return ts.http->Post("/api/v1/workspaces/" + ts.team + "/batch", {{"items", items}}, token, headers);
  };
  json too_many = json::array();
  for (int i = 0; i < 1001; ++i) too_many.push_back({{"op", "create_memory"}, {"memory", {{"title", "x"}}}});
  CHECK(post(too_many, ts.alice.token).status == 422);
  CHECK(post(json::array({{{"op", "create_memory"}, {"memory", {{"title", "x"}}}}}), ts.bob.token).status == 403);
  CHECK(ts.http->Post("/api/v1/workspaces/" + ts.team + "/batch", {{"things", 1}}, ts.alice.token).status == 422);

  const std::string id = "01a2124c-a21f-739f-0000-00000000b001";
  json items = json::array({
      {{"op", "create_memory"}, {"memory", {{"id", id}, {"title", "kept"}, {"created_at", "2099-01-01T00:00:00Z"},
                                             {"updated_at", "2020-01-01T00:00:00Z"}}}},
      {{"op", "create_memory"}, {"memory", {{"title", ""}}}},
      {{"op", "drop_table"}},
      {{"op", "create_relationship"}, {"relationship", {{"from_memory_id", id},
                                                        {"to_memory_id", "01a2124c-a21f-739f-0000-00000000b0ff"},
                                                        {"type", "SOLVES"}}}},
      {{"op", "create_memory"}, {"memory", {{"id", id}, {"title", "again"}}}},
  });
  auto first = post(items, ts.alice.token, {{"Idempotency-Key", "batch-1"}});
  REQUIRE(first.status == 200);
  const json& res = first.body["results"];
  REQUIRE(res.size() == 5);
  CHECK(res[0]["status"] == 201);
  CHECK(res[1]["status"] == 422);
  CHECK(res[2]["status"] == 422);
  CHECK(res[3]["error"]["code"] == "memory_not_found");
  CHECK(res[4]["error"]["code"] == "already_exists");
  CHECK(first.body["created"] == 1);
  CHECK(first.body["existing"] == 1);
  CHECK(first.body["failed"] == 3);
  auto m = ts.http->Get("/api/v1/workspaces/" + ts.team + "/memories/" + id, ts.alice.token);
  // A creation time in the future is clamped to now; a last change before
  // the creation is moved up to it.
  CHECK(m.body["created_at"].get<std::string>() < "2099");
  CHECK(m.body["updated_at"] == m.body["created_at"]);
  // The same link again under another id: already there, not a failure.
  json rels = json::array({{{"op", "create_memory"}, {"memory", {{"id", "01a2124c-a21f-739f-0000-00000000b002"}, {"title", "two"}}}},
                           {{"op", "create_relationship"}, {"relationship", {{"from_memory_id", "01a2124c-a21f-739f-0000-00000000b002"},
                                                                           {"to_memory_id", id}, {"type", "SOLVES"}}}},
                           {{"op", "create_relationship"}, {"relationship", {{"from_memory_id", "01a2124c-a21f-739f-0000-00000000b002"},
                                                                           {"to_memory_id", id}, {"type", "SOLVES"}}}}});
  auto linked = post(rels, ts.alice.token);
  REQUIRE(linked.status == 200);
  CHECK(linked.body["created"] == 2);
  CHECK(linked.body["existing"] == 1);
  CHECK(linked.body["results"][2]["error"]["code"] == "relationship_exists");

  // A replay of the first batch answers as before and writes nothing.
  int64_t head = ts.Head();
  auto replay = post(items, ts.alice.token, {{"Idempotency-Key", "batch-1"}});
  CHECK(replay.status == 200);
  CHECK(replay.body == first.body);
  CHECK(ts.Head() == head);
}
