// The REST API, driven over real HTTP against a real mgteam-server.
#include "http.h"
#include "sse_client.h"
#include "mgteam/digest.h"
#include "mgteam/sqlite.h"
#include "process.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <csignal>
#include <filesystem>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <set>
#include <fstream>

using namespace mgteam::test;

namespace {

struct World {
  std::unique_ptr<ServerProcess> server = ServerProcess::Start();
  Http http{server->port()};
  TestUser alice = SignUp(http, "alice");

  std::string Mem(const std::string& ws) { return "/api/v1/workspaces/" + ws + "/memories"; }
  std::string Rel(const std::string& ws) { return "/api/v1/workspaces/" + ws + "/relationships"; }
  int64_t Head(const std::string& ws, const std::string& token) {
    return http.Get("/api/v1/workspaces/" + ws, token).body["head_seq"].get<int64_t>();
  }
  json Events(const std::string& ws, const std::string& token) {
    return http.Get("/api/v1/workspaces/" + ws + "/events?limit=1000", token).body["events"];
  }
};

// Every byte of the server's data directory, to prove secrets are not in it.
std::string DataDirBytes(const std::string& dir) {
  std::string all;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    all += std::string(std::istreambuf_iterator<char>(in), {});
  }
  return all;
}

}  // namespace

TEST_CASE("operations routes answer without a token") {
  World w;
  CHECK(w.http.Get("/healthz").status == 200);
  CHECK(w.http.Get("/readyz").body["status"] == "ready");
  auto doc = w.http.Get("/api/v1/openapi.json");
  CHECK(doc.status == 200);
  CHECK(doc.body["openapi"].get<std::string>().rfind("3.", 0) == 0);
  CHECK(doc.body["servers"][0]["url"] == w.server->url());
}

TEST_CASE("sign-up: the first user always, later ones only with open sign-up or an invitation") {
  ServerProcess::Options closed;
  closed.open_signup = false;
  auto server = ServerProcess::Start(closed);
  Http http(server->port());
  auto first = http.Post("/api/v1/auth/signup", {{"email", "Owner@Example.com"}, {"password", "12345678"}});
  REQUIRE(first.status == 201);
  CHECK(first.body["user"]["name"] == "Owner");
  CHECK(first.body["token"].get<std::string>().rfind("mg_", 0) == 0);
  auto second = http.Post("/api/v1/auth/signup", {{"email", "bob@example.com"}, {"password", "12345678"}});
  CHECK(second.status == 403);
  CHECK(second.error_code() == "signup_closed");

  std::string owner = first.body["token"];
  std::string team = http.Post("/api/v1/teams", {{"name", "Core"}}, owner).body["id"];
  auto inv = http.Post("/api/v1/teams/" + team + "/invite", {{"email", "bob@example.com"}}, owner);
  REQUIRE(inv.status == 201);
  CHECK(inv.body["accept_url"].get<std::string>().find("/join/") != std::string::npos);
  auto wrong = http.Post("/api/v1/auth/signup", {{"email", "eve@example.com"}, {"password", "12345678"},
                                                 {"invitation_token", inv.body["token"]}});
  CHECK(wrong.status == 403);
  CHECK(wrong.error_code() == "invitation_email_mismatch");
  CHECK(wrong.raw.find("bob@") == std::string::npos);
  CHECK(wrong.raw.find("Core") == std::string::npos);
  auto bob = http.Post("/api/v1/auth/signup", {{"email", "bob@example.com"}, {"password", "12345678"},
                                               {"invitation_token", inv.body["token"]}});
  REQUIRE(bob.status == 201);
  CHECK(bob.body["membership"]["role"] == "member");
  auto again = http.Post("/api/v1/auth/signup", {{"email", "BOB@example.com"}, {"password", "12345678"}});
  CHECK(again.status == 403);  // closed, and the invitation is used
}

TEST_CASE("login, tokens, logout and revocation") {
  World w;
  auto bad = w.http.Post("/api/v1/auth/login", {{"email", w.alice.email}, {"password", "nope-nope"}});
  CHECK(bad.status == 401);
  CHECK(bad.error_code() == "invalid_credentials");
  auto unknown = w.http.Post("/api/v1/auth/login", {{"email", "ghost@example.com"}, {"password", "whatever1"}});
  CHECK(unknown.status == 401);
  CHECK(unknown.raw == bad.raw);  // no hint whether the account exists

  auto login = w.http.Post("/api/v1/auth/login",
                           {{"email", w.alice.email}, {"password", "password-alice"}, {"token_name", "laptop"}});
  REQUIRE(login.status == 200);
  std::string token = login.body["token"];
  CHECK(w.http.Get("/api/v1/me", token).body["token"]["name"] == "laptop");

  auto ci = w.http.Post("/api/v1/tokens", {{"name", "ci-deploy"}}, token);
  REQUIRE(ci.status == 201);
  std::string ci_token = ci.body["token"];
  auto list = w.http.Get("/api/v1/tokens", token).body["tokens"];
  CHECK(list.size() == 3);  // signup, login, ci
  for (const auto& t : list) CHECK_FALSE(t.contains("token"));

  // Only hashes are stored: no token secret appears anywhere on disk.
  std::string bytes = DataDirBytes(w.server->data_dir());
  CHECK(bytes.find(token) == std::string::npos);
  CHECK(bytes.find(ci_token) == std::string::npos);
  CHECK(bytes.find(w.alice.token) == std::string::npos);

  CHECK(w.http.Delete("/api/v1/tokens/" + ci.body["id"].get<std::string>(), token).status == 200);
  CHECK(w.http.Get("/api/v1/me", ci_token).status == 401);
  CHECK(w.http.Post("/api/v1/auth/logout", json::object(), token).status == 200);
  CHECK(w.http.Get("/api/v1/me", token).status == 401);
  CHECK(w.http.Get("/api/v1/me", w.alice.token).status == 200);  // other tokens live on

  CHECK(w.http.Get("/api/v1/me").status == 401);
  CHECK(w.http.Get("/api/v1/me", "mg_0000").status == 401);
  CHECK(w.http.Get("/api/v1/me", "not-a-token").error_code() == "unauthorized");
}

TEST_CASE("team lifecycle: create, list, show, rename, slug rules, delete") {
  World w;
  auto t = w.http.Post("/api/v1/teams", {{"name", "Platform Team"}}, w.alice.token);
  REQUIRE(t.status == 201);
  CHECK(t.body["slug"] == "platform-team");
  CHECK(t.body["type"] == "team");
  CHECK(t.body["role"] == "owner");
  std::string id = t.body["id"];
  auto dup = w.http.Post("/api/v1/teams", {{"name", "Platform Team"}}, w.alice.token);
  CHECK(dup.status == 201);
  CHECK(dup.body["slug"] != "platform-team");  // derived slugs get a suffix
  auto taken = w.http.Post("/api/v1/teams", {{"name", "X"}, {"slug", "platform-team"}}, w.alice.token);
  CHECK(taken.status == 409);
  CHECK(taken.error_code() == "slug_taken");
  CHECK(w.http.Post("/api/v1/teams", {{"name", "X"}, {"slug", "Bad Slug"}}, w.alice.token).error_code() ==
        "invalid_slug");

  auto list = w.http.Get("/api/v1/workspaces", w.alice.token).body["workspaces"];
  CHECK(list.size() == 3);
  auto shown = w.http.Get("/api/v1/teams/" + id, w.alice.token);
  CHECK(shown.body["member_count"] == 1);
  auto renamed = w.http.Patch("/api/v1/teams/" + id, {{"name", "Platform"}, {"slug", "platform"}}, w.alice.token);
  CHECK(renamed.status == 200);
  CHECK(renamed.body["name"] == "Platform");
  CHECK(w.http.Get("/api/v1/teams/" + id, w.alice.token).body["slug"] == "platform");
  // A personal workspace is not a team.
  CHECK(w.http.Get("/api/v1/teams/" + w.alice.personal_ws, w.alice.token).status == 404);
  CHECK(w.http.Delete("/api/v1/teams/" + w.alice.personal_ws, w.alice.token).status == 404);

  CHECK(w.http.Delete("/api/v1/teams/" + id, w.alice.token).status == 200);
  CHECK(w.http.Get("/api/v1/teams/" + id, w.alice.token).status == 404);
  CHECK(w.http.Get(w.Mem(id), w.alice.token).status == 404);
  CHECK(w.http.Get("/api/v1/workspaces", w.alice.token).body["workspaces"].size() == 2);
}

TEST_CASE("memory CRUD with versions, tombstones and pagination") {
  World w;
  std::string ws = w.alice.personal_ws;
  auto created = w.http.Post(w.Mem(ws), {{"title", "Fixed Redis timeout"},
                                         {"type", "solution"},
                                         {"content", "Retry connect for 5 s"},
                                         {"tags", {"Redis", "timeout"}},
                                         {"context", {{"project_path", "/srv/shop"}}}},
                             w.alice.token);
  REQUIRE(created.status == 201);
  const json& m = created.body;
  CHECK(m["version"] == 1);
  CHECK(m["tags"] == json{"redis", "timeout"});
  CHECK(m["created_by"] == w.alice.id);
  std::string id = m["id"];
  CHECK(id[14] == '7');  // server-minted ids are UUIDv7

  auto got = w.http.Get(w.Mem(ws) + "/" + id, w.alice.token);
  CHECK(got.body == m);

  auto client_id = w.http.Post(w.Mem(ws), {{"title", "Imported"}, {"id", "5B0F6D0E-3A51-4D6E-9A0C-1F3E2B7C9D01"},
                                           {"created_at", "2026-01-02T03:04:05Z"}},
                               w.alice.token);
  REQUIRE(client_id.status == 201);
  CHECK(client_id.body["id"] == "5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9d01");
  CHECK(client_id.body["created_at"] == "2026-01-02T03:04:05.000Z");
  auto future = w.http.Post(w.Mem(ws), {{"title", "From the future"}, {"created_at", "2100-01-01T00:00:00Z"}},
                            w.alice.token);
  CHECK(future.body["created_at"].get<std::string>() < "2100");
  auto same_id = w.http.Post(w.Mem(ws), {{"title", "Again"}, {"id", "5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9d01"}},
                             w.alice.token);
  CHECK(same_id.status == 409);
  CHECK(same_id.error_code() == "already_exists");

  auto upd = w.http.Patch(w.Mem(ws) + "/" + id, {{"base_version", 1}, {"summary", "retry"}, {"importance", 0.9}},
                          w.alice.token);
  REQUIRE(upd.status == 200);
  CHECK(upd.body["version"] == 2);
  CHECK(upd.body["summary"] == "retry");
  CHECK(upd.body["title"] == "Fixed Redis timeout");
  // Based on version 1, changing another field: merged, not refused.
  auto stale = w.http.Patch(w.Mem(ws) + "/" + id, {{"base_version", 1}, {"title", "x"}}, w.alice.token);
  CHECK(stale.status == 200);
  CHECK(stale.body["version"] == 3);
  CHECK(stale.body["title"] == "x");
  CHECK(stale.body["summary"] == "retry");
  CHECK_FALSE(stale.body.contains("conflicts"));
  auto ahead = w.http.Patch(w.Mem(ws) + "/" + id, {{"base_version", 9}, {"title", "y"}}, w.alice.token);
  CHECK(ahead.status == 409);
  CHECK(ahead.error_code() == "version_conflict");
  CHECK(ahead.body["error"]["current_version"] == 3);

  auto del = w.http.Delete(w.Mem(ws) + "/" + id, w.alice.token);
  CHECK(del.status == 200);
  CHECK(del.body["deleted"] == true);
  CHECK(del.body["version"] == 4);
  CHECK(w.http.Get(w.Mem(ws) + "/" + id, w.alice.token).status == 404);
  auto tomb = w.http.Get(w.Mem(ws) + "/" + id + "?include_deleted=true", w.alice.token);
  CHECK(tomb.status == 200);
  CHECK(tomb.body["deleted"] == true);
  auto after_delete = w.http.Patch(w.Mem(ws) + "/" + id, {{"title", "back"}}, w.alice.token);
  CHECK(after_delete.status == 409);
  CHECK(after_delete.error_code() == "memory_deleted");
  CHECK(after_delete.body["error"]["conflict_id"].is_string());  // the update is kept
  CHECK(w.http.Delete(w.Mem(ws) + "/" + id, w.alice.token).status == 404);

  // Pagination walks every live memory exactly once, newest first.
  for (int i = 0; i < 7; ++i) AddMemory(w.http, w.alice, ws, "page " + std::to_string(i));
  std::vector<std::string> seen;
  std::string cursor;
  do {
    auto page = w.http.Get(w.Mem(ws) + "?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor), w.alice.token);
    REQUIRE(page.status == 200);
    for (const auto& x : page.body["memories"]) seen.push_back(x["title"]);
    cursor = page.body["next_cursor"].is_string() ? page.body["next_cursor"].get<std::string>() : "";
  } while (!cursor.empty());
  CHECK(seen.size() == 9);  // 7 pages + imported + future (the deleted one is hidden)
  CHECK(seen.front() == "page 6");
  auto with_deleted = w.http.Get(w.Mem(ws) + "?limit=500&include_deleted=true", w.alice.token);
  CHECK(with_deleted.body["memories"].size() == 10);
  auto by_tag = w.http.Get(w.Mem(ws) + "?type=solution", w.alice.token);
  CHECK(by_tag.body["memories"].size() == 7);
}

TEST_CASE("relationships: CRUD, endpoint checks, duplicates, cascade on memory delete") {
  World w;
  std::string ws = w.alice.personal_ws;
  std::string a = AddMemory(w.http, w.alice, ws, "problem")["id"];
  std::string b = AddMemory(w.http, w.alice, ws, "fix")["id"];
  auto r = w.http.Post(w.Rel(ws), {{"from_memory_id", b}, {"to_memory_id", a}, {"type", "SOLVES"},
                                   {"context", "fixed in prod"}},
                       w.alice.token);
  REQUIRE(r.status == 201);
  CHECK(r.body["strength"] == 0.5);
  std::string rid = r.body["id"];
  auto dup = w.http.Post(w.Rel(ws), {{"from_memory_id", b}, {"to_memory_id", a}, {"type", "SOLVES"}}, w.alice.token);
  CHECK(dup.status == 409);
  CHECK(dup.body["error"]["id"] == rid);
  auto ghost = w.http.Post(w.Rel(ws), {{"from_memory_id", b}, {"to_memory_id", "5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9dff"},
                                       {"type", "SOLVES"}},
                           w.alice.token);
  CHECK(ghost.status == 422);
  CHECK(ghost.error_code() == "memory_not_found");
  CHECK(ghost.body["error"]["field"] == "to_memory_id");

  auto upd = w.http.Patch(w.Rel(ws) + "/" + rid, {{"strength", 0.9}, {"base_version", 1}}, w.alice.token);
  CHECK(upd.body["version"] == 2);
  CHECK(w.http.Get(w.Rel(ws) + "?memory_id=" + a, w.alice.token).body["relationships"].size() == 1);
  CHECK(w.http.Get(w.Rel(ws) + "?type=CAUSES", w.alice.token).body["relationships"].empty());

  std::string c = AddMemory(w.http, w.alice, ws, "other")["id"];
  auto r2 = w.http.Post(w.Rel(ws), {{"from_memory_id", c}, {"to_memory_id", a}, {"type", "RELATED_TO"}}, w.alice.token);
  CHECK(w.http.Delete(w.Rel(ws) + "/" + r2.body["id"].get<std::string>(), w.alice.token).status == 200);
  CHECK(w.http.Get(w.Rel(ws) + "/" + r2.body["id"].get<std::string>(), w.alice.token).status == 404);

  CHECK(w.http.Delete(w.Mem(ws) + "/" + a, w.alice.token).status == 200);
  auto cascaded = w.http.Get(w.Rel(ws) + "/" + rid + "?include_deleted=true", w.alice.token);
  CHECK(cascaded.body["deleted"] == true);
  CHECK(w.http.Get(w.Rel(ws), w.alice.token).body["relationships"].empty());
}

TEST_CASE("Idempotency-Key: a replay returns the first answer and applies nothing twice") {
  World w;
  std::string ws = w.alice.personal_ws;
  int64_t head = w.Head(ws, w.alice.token);
  json body = {{"title", "once"}};
  auto first = w.http.Post(w.Mem(ws), body, w.alice.token, {{"Idempotency-Key", "op-1"}});
  REQUIRE(first.status == 201);
  auto second = w.http.Post(w.Mem(ws), body, w.alice.token, {{"Idempotency-Key", "op-1"}});
  CHECK(second.status == 201);
  CHECK(second.body == first.body);
  CHECK(second.headers.count("Idempotent-Replayed") == 1);
  CHECK(w.Head(ws, w.alice.token) == head + 1);
  CHECK(w.http.Get(w.Mem(ws), w.alice.token).body["memories"].size() == 1);

  auto reused = w.http.Post(w.Mem(ws), {{"title", "different"}}, w.alice.token, {{"Idempotency-Key", "op-1"}});
  CHECK(reused.status == 422);
  CHECK(reused.error_code() == "idempotency_key_reused");

  // Keys are per user: Bob's "op-1" is his own.
  TestUser bob = SignUp(w.http, "bob");
  auto bobs = w.http.Post(w.Mem(bob.personal_ws), body, bob.token, {{"Idempotency-Key", "op-1"}});
  CHECK(bobs.status == 201);
  CHECK(bobs.body["id"] != first.body["id"]);

  // Deletes and updates replay too.
  std::string id = first.body["id"];
  auto d1 = w.http.Send("DELETE", w.Mem(ws) + "/" + id, "", w.alice.token, {{"Idempotency-Key", "del-1"}});
  auto d2 = w.http.Send("DELETE", w.Mem(ws) + "/" + id, "", w.alice.token, {{"Idempotency-Key", "del-1"}});
  CHECK(d1.status == 200);
  CHECK(d2.status == 200);
  CHECK(d2.body == d1.body);

  // A replayed token creation returns the same secret, yet no secret is stored in clear.
  auto t1 = w.http.Post("/api/v1/tokens", {{"name", "ci"}}, w.alice.token, {{"Idempotency-Key", "tok-1"}});
  auto t2 = w.http.Post("/api/v1/tokens", {{"name", "ci"}}, w.alice.token, {{"Idempotency-Key", "tok-1"}});
  CHECK(t1.body["token"] == t2.body["token"]);
  CHECK(DataDirBytes(w.server->data_dir()).find(t1.body["token"].get<std::string>()) == std::string::npos);
  CHECK(w.http.Get("/api/v1/tokens", w.alice.token).body["tokens"].size() == 2);

  CHECK(w.http.Post(w.Mem(ws), body, w.alice.token, {{"Idempotency-Key", std::string(300, 'k')}}).status == 400);
}

TEST_CASE("bad input gets a clear 4xx and changes nothing") {
  World w;
  std::string ws = w.alice.personal_ws;
  std::string id = AddMemory(w.http, w.alice, ws, "keep me")["id"];
  auto before_list = w.http.Get(w.Mem(ws) + "?include_deleted=true", w.alice.token).body;
  int64_t before_head = w.Head(ws, w.alice.token);

  struct Case {
    std::string method, path, body;
    int status;
    std::string code;
  };
  std::string mem = w.Mem(ws);
  std::vector<Case> cases = {
      {"POST", mem, "{\"title\": ", 400, "malformed_json"},
      {"POST", mem, "{\"title\": \"caf\xC3\"}", 400, "invalid_utf8"},
      {"POST", mem, "{\"title\": \"ok\", \"content\": \"\xFF\xFE\"}", 400, "invalid_utf8"},
      {"POST", mem, "[1,2,3]", 422, "wrong_type"},
      {"POST", mem, "\"title\"", 422, "wrong_type"},
      {"POST", mem, "{}", 422, "missing_field"},
      {"POST", mem, "{\"title\": 42}", 422, "wrong_type"},
      {"POST", mem, "{\"title\": \"x\", \"type\": \"opinion\"}", 422, "invalid_enum"},
      {"POST", mem, "{\"title\": \"x\", \"colour\": \"red\"}", 422, "unknown_field"},
      {"POST", mem, "{\"title\": \"x\", \"importance\": 7}", 422, "out_of_range"},
      {"POST", mem, "{\"title\": \"x\", \"tags\": \"redis\"}", 422, "wrong_type"},
      {"POST", mem, "{\"title\": \"x\", \"context\": []}", 422, "invalid_context"},
      {"POST", mem, "{\"title\": \"x\", \"id\": \"not-a-uuid\"}", 422, "invalid_id"},
      {"POST", mem, "{\"title\": \"" + std::string(201, 'a') + "\"}", 422, "too_long"},
      {"POST", mem, "{\"title\": \"x\", \"content\": \"" + std::string(2 * 1024 * 1024, 'a') + "\"}", 413,
       "payload_too_large"},
      {"POST", mem, std::string(500000, '[') + std::string(500000, ']'), 422, "wrong_type"},
      {"PATCH", mem + "/" + id, "{}", 422, "empty_update"},
      {"PATCH", mem + "/" + id, "{\"title\": null}", 422, "missing_field"},
      {"PATCH", mem + "/" + id, "{\"base_version\": -1, \"title\": \"y\"}", 422, "out_of_range"},
      {"PATCH", mem + "/not-a-uuid", "{\"title\": \"y\"}", 404, "not_found"},
      {"DELETE", mem + "/5b0f6d0e-3a51-4d6e-9a0c-1f3e2b7c9dff", "", 404, "not_found"},
      {"GET", mem + "?limit=0", "", 400, "invalid_parameter"},
      {"GET", mem + "?limit=abc", "", 400, "invalid_parameter"},
      {"GET", mem + "?cursor=garbage", "", 400, "invalid_parameter"},
      {"GET", mem + "?type=opinion", "", 400, "invalid_parameter"},
      {"GET", mem + "?tag=%FF", "", 400, "invalid_utf8"},
      {"GET", mem + "?include_deleted=maybe", "", 400, "invalid_parameter"},
      {"POST", w.Rel(ws), "{\"from_memory_id\": \"" + id + "\", \"to_memory_id\": \"" + id + "\", \"type\": \"SOLVES\"}",
       422, "self_relationship"},
      {"POST", "/api/v1/teams", "{\"name\": \"\"}", 422, "too_short"},
      {"POST", "/api/v1/auth/signup", "{\"email\": \"nope\", \"password\": \"12345678\"}", 422, "invalid_email"},
      {"POST", "/api/v1/auth/signup", "{\"email\": \"a@b.co\", \"password\": \"short\"}", 422, "weak_password"},
      {"GET", "/api/v1/nothing-here", "", 404, "route_not_found"},
      {"DELETE", "/api/v1/workspaces", "", 405, "method_not_allowed"},
  };
  for (const auto& c : cases) {
    auto r = w.http.Send(c.method, c.path, c.body, w.alice.token);
    CHECK_MESSAGE(r.status == c.status, c.method, " ", c.path.substr(0, 80), " ", c.body.substr(0, 60), " -> ", r.raw.substr(0, 200));
    CHECK_MESSAGE(r.error_code() == c.code, c.body.substr(0, 60), " -> ", r.raw.substr(0, 200));
    CHECK(r.body["error"]["message"].is_string());
  }
  CHECK(w.http.Get("/healthz").status == 200);  // still alive
  CHECK(w.Head(ws, w.alice.token) == before_head);
  CHECK(w.http.Get(w.Mem(ws) + "?include_deleted=true", w.alice.token).body == before_list);
}

TEST_CASE("the change log is dense and each event carries the entity's state after the change") {
  World w;
  std::string team = CreateTeam(w.http, w.alice, "Log");
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(AddMemory(w.http, w.alice, team, fmt::format("m{}", i))["id"]);
  w.http.Patch(w.Mem(team) + "/" + ids[0], {{"title", "m0 edited"}}, w.alice.token);
  w.http.Post(w.Rel(team), {{"from_memory_id", ids[1]}, {"to_memory_id", ids[2]}, {"type", "CAUSES"}}, w.alice.token);
  w.http.Delete(w.Mem(team) + "/" + ids[2], w.alice.token);  // cascades the relationship
  w.http.Patch("/api/v1/teams/" + team, {{"name", "Log 2"}}, w.alice.token);
  // Rejected and no-op requests append nothing.
  w.http.Post(w.Mem(team), {{"title", ""}}, w.alice.token);
  w.http.Patch(w.Mem(team) + "/" + ids[3], {{"title", "m3"}}, w.alice.token);

  json events = w.Events(team, w.alice.token);
  std::vector<std::string> types;
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i]["seq"] == i + 1);
    CHECK(events[i]["workspace_id"] == team);
    CHECK(events[i]["actor"] == w.alice.id);
    types.push_back(events[i]["type"]);
  }
  CHECK(types == std::vector<std::string>{"workspace_created", "member_joined", "memory_created", "memory_created",
                                          "memory_created", "memory_created", "memory_created", "memory_created",
                                          "memory_updated", "relationship_created", "memory_deleted",
                                          "relationship_deleted", "workspace_updated"});
  CHECK(w.Head(team, w.alice.token) == static_cast<int64_t>(events.size()));
  CHECK(events[8]["memory"] == w.http.Get(w.Mem(team) + "/" + ids[0], w.alice.token).body);
  CHECK(events[8]["changed"] == json{"title"});

  auto page = w.http.Get("/api/v1/workspaces/" + team + "/events?since=10&limit=2", w.alice.token).body;
  CHECK(page["events"].size() == 2);
  CHECK(page["events"][0]["seq"] == 11);
  CHECK(page["head_seq"] == events.size());
  auto ahead = w.http.Get("/api/v1/workspaces/" + team + "/events?since=999", w.alice.token).body;
  CHECK(ahead["reset"] == true);
  auto other_epoch = w.http.Get("/api/v1/workspaces/" + team + "/events?since=1&epoch=deadbeef", w.alice.token).body;
  CHECK(other_epoch["reset"] == true);
  auto same_epoch = w.http.Get("/api/v1/workspaces/" + team + "/events?since=1&epoch=" +
                                   page["epoch"].get<std::string>(), w.alice.token).body;
  CHECK_FALSE(same_epoch.contains("reset"));
}

TEST_CASE("members: list, role changes, removal and leaving follow the rules") {
  World w;
  std::string team = CreateTeam(w.http, w.alice, "Crew");
  TestUser bob = SignUp(w.http, "bob"), carol = SignUp(w.http, "carol");
  AddToTeam(w.http, w.alice, team, bob, "admin");
  AddToTeam(w.http, w.alice, team, carol, "viewer");
  std::string members = "/api/v1/teams/" + team + "/members";
  CHECK(w.http.Get(members, carol.token).body["members"].size() == 3);

  // The last owner cannot step down or leave.
  CHECK(w.http.Patch(members + "/" + w.alice.id, {{"role", "admin"}}, w.alice.token).error_code() == "last_owner");
  CHECK(w.http.Delete(members + "/" + w.alice.id, w.alice.token).error_code() == "last_owner");
  // An admin cannot touch the owner, nor change roles.
  CHECK(w.http.Delete(members + "/" + w.alice.id, bob.token).error_code() == "owner_protected");
  auto admin_change = w.http.Patch(members + "/" + carol.id, {{"role", "member"}}, bob.token);
  CHECK(admin_change.status == 403);
  CHECK(admin_change.body["error"]["permission"] == "member.change_role");
  auto admin_invite_owner = w.http.Post("/api/v1/teams/" + team + "/invite",
                                        {{"email", "x@example.com"}, {"role", "owner"}}, bob.token);
  CHECK(admin_invite_owner.error_code() == "owner_protected");
  // The owner promotes; the change applies to the very next request.
  CHECK(w.http.Post(w.Mem(team), {{"title", "viewer write"}}, carol.token).status == 403);
  CHECK(w.http.Patch(members + "/" + carol.id, {{"role", "member"}}, w.alice.token).status == 200);
  CHECK(w.http.Post(w.Mem(team), {{"title", "member write"}}, carol.token).status == 201);
  // A viewer or member may leave on their own; afterwards the team is invisible.
  CHECK(w.http.Delete(members + "/" + carol.id, carol.token).status == 200);
  CHECK(w.http.Get(w.Mem(team), carol.token).status == 404);
  // Transfer makes bob owner and alice admin; then alice may leave.
  CHECK(w.http.Post("/api/v1/teams/" + team + "/transfer", {{"user_id", bob.id}}, w.alice.token).status == 200);
  auto roles = w.http.Get(members, bob.token).body["members"];
  for (const auto& m : roles) CHECK(m["role"] == (m["user_id"] == bob.id ? "owner" : "admin"));
  CHECK(w.http.Delete(members + "/" + w.alice.id, w.alice.token).status == 200);
  auto log = w.Events(team, bob.token);
  std::vector<std::string> member_events;
  for (const auto& e : log)
    if (e["type"].get<std::string>().rfind("member_", 0) == 0) member_events.push_back(e["type"]);
  CHECK(member_events == std::vector<std::string>{"member_joined", "member_joined", "member_joined",
                                                  "member_role_changed", "member_removed",
                                                  "member_role_changed", "member_role_changed", "member_removed"});
}

TEST_CASE("invitations: list, revoke, reuse and expiry give distinct errors") {
  World w;
  std::string team = CreateTeam(w.http, w.alice, "Inv");
  TestUser bob = SignUp(w.http, "bob");
  std::string base = "/api/v1/teams/" + team;
  auto inv = w.http.Post(base + "/invite", {{"email", bob.email}, {"role", "viewer"}}, w.alice.token);
  REQUIRE(inv.status == 201);
  CHECK(w.http.Get(base + "/invitations", w.alice.token).body["invitations"].size() == 1);
  std::string token = inv.body["token"];
  CHECK(w.http.Post("/api/v1/invitations/" + token + "/accept", json::object(), w.alice.token).error_code() ==
        "invitation_email_mismatch");
  CHECK(w.http.Post("/api/v1/invitations/" + token + "/accept", json::object(), bob.token).status == 200);
  CHECK(w.http.Post("/api/v1/invitations/" + token + "/accept", json::object(), bob.token).error_code() ==
        "invitation_used");
  CHECK(w.http.Post("/api/v1/invitations/mgi_nope/accept", json::object(), bob.token).error_code() ==
        "invitation_not_found");

  TestUser carol = SignUp(w.http, "carol");
  auto second = w.http.Post(base + "/invite", {{"email", carol.email}}, w.alice.token);
  CHECK(w.http.Delete(base + "/invitations/" + second.body["invitation_id"].get<std::string>(), w.alice.token).status == 200);
  CHECK(w.http.Get(base + "/invitations", w.alice.token).body["invitations"].empty());
  CHECK(w.http.Post("/api/v1/invitations/" + second.body["token"].get<std::string>() + "/accept", json::object(),
                    carol.token).error_code() == "invitation_revoked");

  auto brief = w.http.Post(base + "/invite", {{"email", "d@example.com"}, {"expires_in", 60}}, w.alice.token);
  CHECK(brief.body["invitation"]["expires_at"] > brief.body["invitation"]["created_at"]);
  // Expiry, without waiting a minute: move this invitation's expiry into the
  // past in the server's own database file (WAL allows a second writer).
  TestUser dave = SignUp(w.http, "d");
  {
    auto db = mgteam::sql::Db::Open(w.server->data_dir() + "/mgteam.db", false, 5000);
    REQUIRE(db.ok());
    REQUIRE(db->Run("UPDATE invitations SET expires_at = '2020-01-01T00:00:00.000Z' WHERE id = ?",
                    brief.body["invitation_id"].get<std::string>()).ok());
  }
  auto expired = w.http.Post("/api/v1/invitations/" + brief.body["token"].get<std::string>() + "/accept",
                             json::object(), dave.token);
  CHECK(expired.error_code() == "invitation_expired");
  CHECK(w.http.Get(base + "/invitations", w.alice.token).body["invitations"].empty());  // no longer pending
  CHECK(w.http.Post(base + "/invite", {{"email", "d@example.com"}, {"expires_in", 5}}, w.alice.token).status == 422);
}

TEST_CASE("the OpenAPI document describes exactly the routes the server serves") {
  auto table = Run({ServerBinary(), "routes", "--json"});
  REQUIRE(table.exit_code == 0);
  World w;
  json doc = w.http.Get("/api/v1/openapi.json").body;
  std::set<std::string> documented, served;
  for (const auto& [path, ops] : doc["paths"].items())
    for (const auto& [method, op] : ops.items()) {
      std::string m = method;
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(m + " " + path);
      CHECK_MESSAGE(op.contains("summary"), path);
      CHECK_MESSAGE(op.contains("responses"), path);
    }
  for (const auto& r : json::parse(table.out)) {
    std::string key = r["method"].get<std::string>() + " " + r["path"].get<std::string>();
    served.insert(key);
    std::string method = r["method"];
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const json& op = doc["paths"][r["path"].get<std::string>()][method];
    INFO(key);
    CHECK(op.value("x-access", "") == r["access"]);
    CHECK(op.value("x-permission", json(nullptr)) == r["permission"]);
  }
  CHECK(documented == served);
}

TEST_CASE("activity feed: newest first, cursor pagination, and each filter") {
  World w;
  TestUser bob = SignUp(w.http, "bob");
  std::string team = CreateTeam(w.http, w.alice, "Feed");
  AddToTeam(w.http, w.alice, team, bob, "member");
  std::string a = AddMemory(w.http, w.alice, team, "Fixed Redis timeout")["id"];
  std::string b = AddMemory(w.http, bob, team, "Bob's note")["id"];
  REQUIRE(w.http.Patch(w.Mem(team) + "/" + a, {{"base_version", 1}, {"title", "Fixed Redis timeout (5 s)"}},
                       w.alice.token).status == 200);
  std::string middle = w.http.Get("/api/v1/workspaces/" + team + "/events?limit=1000", w.alice.token)
                           .body["events"].back()["at"];
  auto inv = w.http.Post("/api/v1/teams/" + team + "/invite", {{"email", "carol@example.com"}}, w.alice.token);
  REQUIRE(inv.status == 201);
  REQUIRE(w.http.Delete(w.Mem(team) + "/" + b, w.alice.token).status == 200);
  const std::string feed = "/api/v1/workspaces/" + team + "/activity";
  int64_t head = w.Head(team, w.alice.token);

  auto all = w.http.Get(feed + "?limit=500", bob.token);  // any member may read it
  REQUIRE(all.status == 200);
  const json& items = all.body["activity"];
  REQUIRE(static_cast<int64_t>(items.size()) == head);
  for (size_t i = 1; i < items.size(); ++i) CHECK(items[i - 1]["seq"] > items[i]["seq"]);
  CHECK(items[0]["type"] == "memory_deleted");
  CHECK(items[0]["action"] == "deleted");
  CHECK(items[0]["title"] == "Bob's note");
  CHECK(items[0]["actor_name"] == "alice");

  // Pages of 2 walk every entry exactly once.
  std::vector<int64_t> seen;
  std::string cursor;
  do {
    auto page = w.http.Get(feed + "?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), w.alice.token);
    REQUIRE(page.status == 200);
    for (const auto& e : page.body["activity"]) seen.push_back(e["seq"]);
    cursor = page.body["next_cursor"].is_string() ? page.body["next_cursor"].get<std::string>() : "";
  } while (!cursor.empty());
  CHECK(static_cast<int64_t>(seen.size()) == head);
  CHECK(std::set<int64_t>(seen.begin(), seen.end()).size() == seen.size());

  auto by_bob = w.http.Get(feed + "?actor=" + bob.id, w.alice.token).body["activity"];
  REQUIRE(by_bob.size() == 2);  // joined, and added a memory
  for (const auto& e : by_bob) CHECK(e["actor"] == bob.id);
  auto created = w.http.Get(feed + "?action=created", w.alice.token).body["activity"];
  CHECK(created.size() == 5);  // the team, two invitations (bob's, carol's), two memories
  for (const auto& e : created) CHECK(e["type"].get<std::string>().ends_with("_created"));
  auto memories = w.http.Get(feed + "?entity_type=memory&action=updated", w.alice.token).body["activity"];
  REQUIRE(memories.size() == 1);
  CHECK(memories[0]["detail"]["changed"] == json{"title"});
  auto invites = w.http.Get(feed + "?entity_type=invitation", bob.token).body["activity"];
  REQUIRE(invites.size() == 2);
  CHECK(invites[0]["title"] == "c***@example.com");  // not the full address
  CHECK(invites[0]["detail"]["role"] == "member");
  CHECK(all.raw.find("carol@example.com") == std::string::npos);
  auto since = w.http.Get(feed + "?since=" + middle, w.alice.token).body["activity"];
  for (const auto& e : since) CHECK(e["at"] >= middle);
  CHECK(since.size() >= 3);
  auto until = w.http.Get(feed + "?until=" + middle, w.alice.token).body["activity"];
  for (const auto& e : until) CHECK(e["at"] <= middle);
  CHECK(since.size() + until.size() >= static_cast<size_t>(head));
  // Bad filters are 400s that name the parameter.
  for (const char* bad : {"?action=exploded", "?entity_type=planet", "?since=yesterday", "?actor=bob", "?cursor=-1"}) {
    auto r = w.http.Get(feed + bad, w.alice.token);
    CHECK_MESSAGE(r.status == 400, bad);
  }
}

namespace {

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Debian's aiosmtpd on loopback, storing every message in a maildir.
struct SmtpServer {
  TempDir dir;
  int port = FreePort();
  std::unique_ptr<ChildProcess> proc;

  SmtpServer() {
    proc = ChildProcess::Spawn({"/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port),
                                "-c", "aiosmtpd.handlers.Mailbox", dir.path() + "/mail"});
    // Up when it accepts connections (it prints nothing when ready).
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!Accepts(port) && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE_MESSAGE(Accepts(port), "aiosmtpd did not start: ", proc->Stderr());
  }
  std::vector<std::string> Messages() {
    std::vector<std::string> out;
    for (const char* sub : {"/mail/new", "/mail/cur"}) {
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(dir.path() + sub, ec)) {
        std::ifstream in(e.path());
        out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
    }
    return out;
  }
};

std::string TokenIn(const std::string& mail) {
  auto at = mail.find("/join/mgi_");
  if (at == std::string::npos) return "";
  auto start = at + 6;
  return mail.substr(start, mail.find_first_of("\r\n ", start) - start);
}

}  // namespace

TEST_CASE("invitations are mailed through a real SMTP server: the link arrives, resend replaces it, a failure hands it back") {
  SmtpServer smtp;
  ServerProcess::Options opts;
  opts.args = {"--smtp-host", "127.0.0.1", "--smtp-port", std::to_string(smtp.port), "--smtp-tls", "none",
               "--smtp-from", "mgteam@example.com"};
  opts.open_signup = false;
  auto server = ServerProcess::Start(opts);
  Http http(server->port());
  TestUser owner = SignUp(http, "owner");
  std::string team = CreateTeam(http, owner, "Mailed Team");

  auto inv = http.Post("/api/v1/teams/" + team + "/invite", {{"email", "bob@example.com"}, {"role", "admin"}}, owner.token);
  REQUIRE(inv.status == 201);
  CHECK(inv.body["delivery"] == "sent");
  CHECK_FALSE(inv.body.contains("token"));  // it went to Bob, not back to the inviter
  auto mails = smtp.Messages();
  REQUIRE(mails.size() == 1);
  const std::string& mail = mails[0];
  CHECK(mail.find("To: <bob@example.com>") != std::string::npos);
  CHECK(mail.find("Subject: owner invited you to Mailed Team on mgteam") != std::string::npos);
  CHECK(mail.find("as admin") != std::string::npos);
  std::string first = TokenIn(mail);
  REQUIRE(first.rfind("mgi_", 0) == 0);

  // Resend: a new link by mail, the old one is dead.
  auto again = http.Post("/api/v1/teams/" + team + "/invitations/" + inv.body["invitation_id"].get<std::string>() +
                             "/resend", json::object(), owner.token);
  REQUIRE(again.status == 200);
  CHECK(again.body["delivery"] == "sent");
  mails = smtp.Messages();
  REQUIRE(mails.size() == 2);
  std::string second = TokenIn(mails[0]) == first ? TokenIn(mails[1]) : TokenIn(mails[0]);
  REQUIRE(second.rfind("mgi_", 0) == 0);
  CHECK(second != first);
  // Bob signs up through the mailed link (open sign-up is off on this server).
  auto old = http.Post("/api/v1/auth/signup", {{"email", "bob@example.com"}, {"password", "correct horse battery"},
                                               {"name", "bob"}, {"invitation_token", first}});
  CHECK(old.status == 404);
  CHECK(old.error_code() == "invitation_not_found");
  auto bob = http.Post("/api/v1/auth/signup", {{"email", "bob@example.com"}, {"password", "correct horse battery"},
                                               {"name", "bob"}, {"invitation_token", second}});
  REQUIRE(bob.status == 201);
  CHECK(bob.body["membership"]["role"] == "admin");

  // The SMTP server goes away: the invitation still exists and the inviter
  // gets the link to pass on.
  smtp.proc->Kill(SIGTERM);
  smtp.proc->Wait(std::chrono::seconds(10));
  auto failed = http.Post("/api/v1/teams/" + team + "/invite", {{"email", "carol@example.com"}}, owner.token);
  REQUIRE(failed.status == 201);
  CHECK(failed.body["delivery"] == "failed");
  CHECK(failed.body["delivery_error"].get<std::string>().find("could not send mail") != std::string::npos);
  CHECK(failed.body["token"].get<std::string>().rfind("mgi_", 0) == 0);
  CHECK(http.Get("/api/v1/teams/" + team + "/invitations", owner.token).body["invitations"].size() == 1);
}

TEST_CASE("curl -X POST without a body gets a clear length_required error") {
  World w;
  auto r = Run({"/usr/bin/curl", "-s", "-X", "POST", "-H", "Authorization: Bearer " + w.alice.token,
                "http://127.0.0.1:" + std::to_string(w.server->port()) + "/api/v1/invitations/mgi_nothing/accept"});
  REQUIRE(r.exit_code == 0);
  json body = json::parse(r.out, nullptr, false);
  CHECK(body["error"]["code"] == "length_required");
  CHECK(body["error"]["message"].get<std::string>().find("-d '{}'") != std::string::npos);
}

namespace {

// The digests a client computes from the snapshot pages (two rows a page, so
// the id order across pages matters too).
std::pair<mgteam::RowDigest, mgteam::RowDigest> DigestsFromSnapshot(Http& http, const std::string& ws,
                                                                    const std::string& token) {
  std::pair<mgteam::RowDigest, mgteam::RowDigest> out;
  for (const std::string kind : {"memories", "relationships"}) {
    for (std::string after;;) {
      auto page = http.Get("/api/v1/workspaces/" + ws + "/snapshot?limit=2&kind=" + kind + "&after=" + after, token);
      REQUIRE(page.status == 200);
      for (const auto& item : page.body["items"]) {
        if (kind == "memories") out.first.Add(*mgteam::Memory::FromJson(item));
        else out.second.Add(*mgteam::Relationship::FromJson(item));
      }
      if (!page.body["next_after"].is_string()) break;
      after = page.body["next_after"].get<std::string>();
    }
  }
  return out;
}

}  // namespace

TEST_CASE("digest: a fingerprint of the live rows that matches the snapshot and follows every change") {
  World w;
  TestUser viewer = SignUp(w.http, "vera"), stranger = SignUp(w.http, "eve");
  std::string team = CreateTeam(w.http, w.alice, "Digest");
  AddToTeam(w.http, w.alice, team, viewer, "viewer");
  const std::string path = "/api/v1/workspaces/" + team + "/digest";
  auto check_matches_snapshot = [&](const HttpResponse& d) {
    auto [mem, rel] = DigestsFromSnapshot(w.http, team, w.alice.token);
    CHECK(d.body["memories"] == mem.ToJson());
    CHECK(d.body["relationships"] == rel.ToJson());
  };

  auto empty = w.http.Get(path, w.alice.token);
  REQUIRE(empty.status == 200);
  CHECK(empty.body["workspace_id"] == team);
  CHECK(empty.body["head_seq"] == w.Head(team, w.alice.token));
  CHECK(empty.body["epoch"].get<std::string>().size() > 0);
  CHECK(empty.body["memories"]["count"] == 0);
  check_matches_snapshot(empty);

  std::vector<std::string> ids;
  for (const char* title : {"Redis timeout", "Pool too small", "Retry with jitter"})
    ids.push_back(AddMemory(w.http, w.alice, team, title)["id"]);
  auto rel = w.http.Post(w.Rel(team), {{"from_memory_id", ids[2]}, {"to_memory_id", ids[0]}, {"type", "SOLVES"}},
                         w.alice.token);
  REQUIRE(rel.status == 201);
  auto d1 = w.http.Get(path, w.alice.token);
  REQUIRE(d1.status == 200);
  CHECK(d1.body["head_seq"] == w.Head(team, w.alice.token));
  CHECK(d1.body["memories"]["count"] == 3);
  CHECK(d1.body["relationships"]["count"] == 1);
  CHECK(d1.body["memories"]["digest"].get<std::string>().size() == 64);
  CHECK(d1.body["memories"]["digest"] != empty.body["memories"]["digest"]);
  check_matches_snapshot(d1);

  // A memory created and deleted again leaves the live rows as they were.
  std::string doomed = AddMemory(w.http, w.alice, team, "Short-lived")["id"];
  REQUIRE(w.http.Delete(w.Mem(team) + "/" + doomed, w.alice.token).status == 200);
  auto d2 = w.http.Get(path, w.alice.token);
  CHECK(d2.body["head_seq"].get<int64_t>() == d1.body["head_seq"].get<int64_t>() + 2);
  CHECK(d2.body["memories"] == d1.body["memories"]);

  // An update changes the memories' digest only.
  REQUIRE(w.http.Patch(w.Mem(team) + "/" + ids[1], {{"content", "cap it at 50"}}, w.alice.token).status == 200);
  auto d3 = w.http.Get(path, w.alice.token);
  CHECK(d3.body["memories"]["count"] == 3);
  CHECK(d3.body["memories"]["digest"] != d1.body["memories"]["digest"]);
  CHECK(d3.body["relationships"] == d1.body["relationships"]);
  check_matches_snapshot(d3);

  // Deleting a memory drops it and the relationship it took with it.
  REQUIRE(w.http.Delete(w.Mem(team) + "/" + ids[0], w.alice.token).status == 200);
  auto d4 = w.http.Get(path, w.alice.token);
  CHECK(d4.body["memories"]["count"] == 2);
  CHECK(d4.body["relationships"]["count"] == 0);
  CHECK(d4.body["relationships"]["digest"] == empty.body["relationships"]["digest"]);
  CHECK(d4.body["memories"]["digest"] != d3.body["memories"]["digest"]);
  check_matches_snapshot(d4);

  // Any member may read it; to anyone else the workspace does not exist.
  auto seen = w.http.Get(path, viewer.token);
  CHECK(seen.status == 200);
  CHECK(seen.body == d4.body);
  auto hidden = w.http.Get(path, stranger.token);
  CHECK(hidden.status == 404);
  CHECK(hidden.error_code() == "not_found");
  CHECK(w.http.Get(path).status == 401);
}

TEST_CASE("a token with an expiry stops working then: 401 token_expired, and its stream ends") {
  // Heartbeats every second: the hub checks expiries on that beat.
  ServerProcess::Options o;
  o.args = {"--heartbeat-interval", "1"};
  auto server = ServerProcess::Start(o);
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  CHECK(http.Post("/api/v1/tokens", {{"name", "bad"}, {"expires_in", 0}}, alice.token).status == 422);
  CHECK(http.Post("/api/v1/tokens", {{"name", "bad"}, {"expires_in", "90d"}}, alice.token).status == 422);
  auto made = http.Post("/api/v1/tokens", {{"name", "short"}, {"expires_in", 3}}, alice.token);
  REQUIRE(made.status == 201);
  CHECK(made.body["expires_at"].is_string());
  const std::string token = made.body["token"];
  REQUIRE(http.Get("/api/v1/me", token).status == 200);
  auto stream = SseClient::Open(server->port(), "/api/v1/sync/stream?workspace_id=" + alice.personal_ws, token);
  REQUIRE(stream->status() == 200);

  std::optional<json> closed;
  for (int i = 0; i < 40 && !closed; ++i) {
    auto e = stream->Next(std::chrono::seconds(1));
    if (e && (*e)["type"] == "closed") closed = e;
  }
  REQUIRE(closed.has_value());
  CHECK((*closed)["reason"] == "token_expired");
  auto after = http.Get("/api/v1/me", token);
  CHECK(after.status == 401);
  CHECK(after.error_code() == "token_expired");
  // The long-lived token is untouched, and lists the other one's expiry.
  auto list = http.Get("/api/v1/tokens", alice.token);
  REQUIRE(list.status == 200);
  bool listed = false;
  for (const auto& t : list.body["tokens"])
    if (t["name"] == "short") listed = t["expires_at"] == made.body["expires_at"];
  CHECK(listed);
}

TEST_CASE("idempotency records are purged after --idempotency-ttl: a late resend of a create is 409 already_exists") {
  ServerProcess::Options o;
  o.args = {"--idempotency-ttl", "1s"};
  auto server = ServerProcess::Start(o);
  Http http(server->port());
  TestUser alice = SignUp(http, "alice");
  const std::string path = "/api/v1/workspaces/" + alice.personal_ws + "/memories";
  json body = {{"id", "01a2124c-a21f-739f-92bb-00000000abcd"}, {"title", "sent, answer lost"}};
  auto first = http.Post(path, body, alice.token, {{"Idempotency-Key", "late-1"}});
  REQUIRE(first.status == 201);
  auto replay = http.Post(path, body, alice.token, {{"Idempotency-Key", "late-1"}});
  CHECK(replay.headers.count("Idempotent-Replayed") == 1);
  // Within a few purge sweeps the record is gone and the resend runs again.
  HttpResponse late;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
       std::chrono::steady_clock::now() < deadline;) {
    late = http.Post(path, body, alice.token, {{"Idempotency-Key", "late-1"}});
    if (late.status != 201) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the sweep runs on its own clock
  }
  CHECK(late.status == 409);
  CHECK(late.error_code() == "already_exists");
  CHECK(http.Get(path, alice.token).body["memories"].size() == 1);
}
