// The RBAC matrix, generated: every route the server reports
// (`mgteam-server routes --json`) is called by every role and by an outsider,
// and the answer is checked against the role table of design brief §5.
// A route without a sample request here fails the test, so new routes cannot
// slip past it.
#include "http.h"
#include "mgteam/rbac.h"
#include "process.h"
#include "sse_client.h"

#include <doctest/doctest.h>

#include <functional>
#include <set>

using namespace mgteam;
using namespace mgteam::test;

namespace {

json RouteTable() {
  auto r = Run({ServerBinary(), "routes", "--json"});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return json::parse(r.out);
}

struct Request {
  std::string method, path;
  json body;  // null: no body
};

// A fresh team per check, so destructive routes never disturb each other.
struct Team {
  std::string id;
  std::string memory, memory2, relationship, invitation, conflict;
  TestUser* target;  // a viewer the member routes act on
};

class Matrix {
 public:
  Matrix()
      : server_(ServerProcess::Start()),
        http_(server_->port()),
        owner_(SignUp(http_, "owner")),
        admin_(SignUp(http_, "admin")),
        member_(SignUp(http_, "member")),
        viewer_(SignUp(http_, "viewer")),
        target_(SignUp(http_, "target")),
        outsider_(SignUp(http_, "outsider")) {}

  Http& http() { return http_; }
  int port() const { return server_->port(); }
  TestUser& outsider() { return outsider_; }
  TestUser& owner() { return owner_; }

  TestUser& UserFor(Role role) {
    switch (role) {
      case Role::kOwner: return owner_;
      case Role::kAdmin: return admin_;
      case Role::kMember: return member_;
      case Role::kViewer: return viewer_;
    }
    return viewer_;
  }

  // A team where `role`'s user holds `role` and the target is a viewer.
  Team NewTeam(Role role) {
    Team t;
    t.id = CreateTeam(http_, owner_, "rbac");
    if (role != Role::kOwner) AddToTeam(http_, owner_, t.id, UserFor(role), std::string(RoleName(role)));
    AddToTeam(http_, owner_, t.id, target_, "viewer");
    t.target = &target_;
    t.memory = AddMemory(http_, owner_, t.id, "one")["id"];
    t.memory2 = AddMemory(http_, owner_, t.id, "two")["id"];
    t.relationship = http_.Post("/api/v1/workspaces/" + t.id + "/relationships",
                                {{"from_memory_id", t.memory}, {"to_memory_id", t.memory2}, {"type", "SOLVES"}},
                                owner_.token)
                         .body["id"];
    t.invitation = http_.Post("/api/v1/teams/" + t.id + "/invite", {{"email", "pending@example.com"}}, owner_.token)
                       .body["invitation_id"];
    // Two edits of the same title from version 1: the second leaves a conflict.
    const std::string mem = "/api/v1/workspaces/" + t.id + "/memories/" + t.memory;
    http_.Patch(mem, {{"title", "first"}, {"base_version", 1}}, owner_.token);
    t.conflict = http_.Patch(mem, {{"title", "second"}, {"base_version", 1}}, owner_.token).body["conflicts"][0]["id"];
    return t;
  }

 private:
  std::unique_ptr<ServerProcess> server_;
  Http http_;
  TestUser owner_, admin_, member_, viewer_, target_, outsider_;
};

std::string Fill(std::string path, const Team& t) {
  auto put = [&](const std::string& key, const std::string& value) {
    for (size_t p; (p = path.find(key)) != std::string::npos;) path.replace(p, key.size(), value);
  };
  put("{ws}", t.id);
  put("{team_id}", t.id);
  put("{user_id}", t.target->id);
  bool rel = path.find("/relationships/") != std::string::npos;
  bool inv = path.find("/invitations/") != std::string::npos;
  bool con = path.find("/conflicts/") != std::string::npos;
  put("{id}", rel ? t.relationship : inv ? t.invitation : con ? t.conflict : t.memory);
  return path;
}

// A request that succeeds when the caller is allowed to make it.
std::optional<Request> Sample(const std::string& method, const std::string& path, const Team& team) {
  static const std::map<std::string, std::function<json(const Team&)>> kBodies = {
      {"POST /api/v1/workspaces/{ws}/memories", [](const Team&) { return json{{"title", "new"}}; }},
      {"PATCH /api/v1/workspaces/{ws}/memories/{id}", [](const Team&) { return json{{"title", "edited"}}; }},
      {"POST /api/v1/workspaces/{ws}/memories/{id}/restore", [](const Team&) { return json::object(); }},
      {"POST /api/v1/workspaces/{ws}/relationships",
       [](const Team& t) { return json{{"from_memory_id", t.memory2}, {"to_memory_id", t.memory}, {"type", "CAUSES"}}; }},
      {"PATCH /api/v1/workspaces/{ws}/relationships/{id}", [](const Team&) { return json{{"strength", 0.9}}; }},
      {"POST /api/v1/workspaces/{ws}/batch",
       [](const Team&) { return json{{"items", {{{"op", "create_memory"}, {"memory", {{"title", "batched"}}}}}}}; }},
      {"PATCH /api/v1/teams/{team_id}", [](const Team&) { return json{{"name", "renamed"}}; }},
      {"POST /api/v1/workspaces/{ws}/conflicts/{id}", [](const Team&) { return json{{"keep", "lost"}}; }},
      {"POST /api/v1/teams/{team_id}/invitations/{id}/resend", [](const Team&) { return json::object(); }},
      {"PATCH /api/v1/teams/{team_id}/members/{user_id}", [](const Team&) { return json{{"role", "member"}}; }},
      {"POST /api/v1/teams/{team_id}/transfer", [](const Team& t) { return json{{"user_id", t.target->id}}; }},
      {"POST /api/v1/teams/{team_id}/invite", [](const Team&) { return json{{"email", "new@example.com"}}; }},
  };
  static const std::set<std::string> kNoBody = {
      "GET /api/v1/workspaces/{ws}",
      "GET /api/v1/workspaces/{ws}/memories",
      "GET /api/v1/workspaces/{ws}/memories/{id}",
      "DELETE /api/v1/workspaces/{ws}/memories/{id}",
      "GET /api/v1/workspaces/{ws}/relationships",
      "GET /api/v1/workspaces/{ws}/relationships/{id}",
      "DELETE /api/v1/workspaces/{ws}/relationships/{id}",
      "GET /api/v1/workspaces/{ws}/events",
      "GET /api/v1/sync/stream",
      "GET /api/v1/workspaces/{ws}/snapshot",
      "GET /api/v1/workspaces/{ws}/digest",
      "GET /api/v1/workspaces/{ws}/conflicts",
      "GET /api/v1/workspaces/{ws}/activity",
      "GET /api/v1/workspaces/{ws}/presence",
      "GET /api/v1/workspaces/{ws}/conflicts/{id}",
      "GET /api/v1/teams/{team_id}",
      "DELETE /api/v1/teams/{team_id}",
      "GET /api/v1/teams/{team_id}/members",
      "DELETE /api/v1/teams/{team_id}/members/{user_id}",
      "GET /api/v1/teams/{team_id}/invitations",
      "DELETE /api/v1/teams/{team_id}/invitations/{id}",
  };
  std::string key = method + " " + path;
  if (key == "GET /api/v1/sync/stream") return Request{method, path + "?workspace_id=" + team.id, nullptr};
  if (auto it = kBodies.find(key); it != kBodies.end()) return Request{method, Fill(path, team), it->second(team)};
  if (kNoBody.count(key)) return Request{method, Fill(path, team), nullptr};
  return std::nullopt;
}

HttpResponse Call(Http& http, int port, const Request& r, const std::string& token) {
  if (r.path.rfind("/api/v1/sync/stream", 0) == 0) {
    // A stream never ends by itself: look at its status and error body only.
    auto c = SseClient::Open(port, r.path, token);
    HttpResponse out;
    out.status = c->status();
    out.raw = c->error_body();
    out.body = json::parse(out.raw, nullptr, false);
    return out;
  }
  return http.Send(r.method, r.path, r.body.is_null() ? "" : r.body.dump(), token);
}

}  // namespace

TEST_CASE("every workspace and team route answers each role exactly as the role table says") {
  json routes = RouteTable();
  Matrix m;
  int checked = 0;
  for (const auto& route : routes) {
    std::string access = route["access"];
    if (access != "workspace" && access != "team") continue;
    std::string method = route["method"], path = route["path"];
    std::optional<Permission> perm;
    if (route["permission"].is_string()) perm = ParsePermission(route["permission"].get<std::string>());
    for (Role role : AllRoles()) {
      Team t = m.NewTeam(role);
      auto req = Sample(method, path, t);
      REQUIRE_MESSAGE(req, "no RBAC sample for ", method, " ", path, ": add one to rbac_test.cpp");
      auto r = Call(m.http(), m.port(), *req, m.UserFor(role).token);
      bool allowed = !perm || Allows(role, *perm);
      INFO(RoleName(role), " ", method, " ", path, " -> ", r.status, " ", r.raw.substr(0, 200));
      if (allowed) {
        CHECK(r.status >= 200);
        CHECK(r.status < 300);
      } else {
        CHECK(r.status == 403);
        CHECK(r.body["error"]["permission"] == route["permission"]);
      }
      ++checked;
    }
  }
  CHECK(checked >= 4 * 20);
}

TEST_CASE("a workspace you do not belong to is 404 on every route, never 403") {
  json routes = RouteTable();
  Matrix m;
  Team t = m.NewTeam(Role::kOwner);
  for (const auto& route : routes) {
    std::string access = route["access"];
    if (access != "workspace" && access != "team") continue;
    auto req = Sample(route["method"], route["path"], t);
    REQUIRE(req);
    auto r = Call(m.http(), m.port(), *req, m.outsider().token);
    INFO(route["method"].get<std::string>(), " ", route["path"].get<std::string>(), " -> ", r.raw.substr(0, 200));
    CHECK(r.status == 404);
    CHECK(r.raw.find("rbac") == std::string::npos);  // not even the team's name leaks
  }
  // And nothing an outsider tried changed the team.
  auto events = m.http().Get("/api/v1/workspaces/" + t.id + "/events?limit=1000", m.owner().token).body["events"];
  for (const auto& e : events) CHECK(e["actor"] != m.outsider().id);
}

TEST_CASE("a member may leave without the member.remove permission") {
  Matrix m;
  for (Role role : {Role::kAdmin, Role::kMember, Role::kViewer}) {
    Team t = m.NewTeam(role);
    auto& user = m.UserFor(role);
    auto r = m.http().Delete("/api/v1/teams/" + t.id + "/members/" + user.id, user.token);
    CHECK_MESSAGE(r.status == 200, RoleName(role), " ", r.raw);
    CHECK(m.http().Get("/api/v1/teams/" + t.id, user.token).status == 404);
  }
}

TEST_CASE("user routes need a token and public routes do not") {
  json routes = RouteTable();
  auto server = ServerProcess::Start();
  Http http(server->port());
  for (const auto& route : routes) {
    std::string access = route["access"];
    std::string path = route["path"];
    for (const char* key : {"{ws}", "{team_id}", "{id}", "{user_id}", "{token}"})
      for (size_t p; (p = path.find(key)) != std::string::npos;)
        path.replace(p, std::string(key).size(), "01a2124c-a21f-739e-9579-1fe8468105b5");
    if (path == "/api/v1/sync/stream") path += "?workspace_id=01a2124c-a21f-739e-9579-1fe8468105b5";
    auto r = http.Send(route["method"], path, route["method"] == "GET" ? "" : "{}");
    INFO(route["method"].get<std::string>(), " ", path, " -> ", r.raw.substr(0, 200));
    if (access == "public") CHECK(r.status != 401);
    else CHECK(r.status == 401);
  }
}
