// The agent's conversations with a server that answers well-formed JSON of
// the wrong shape: fields of other types, arrays where objects belong. A
// real HTTP server on a loopback port (cpp-httplib) plays the broken or
// hostile server; the agent's sync code must turn every answer into a
// result, never an exception that would kill the agent, and must not put
// anything it could not read into the replica.
#include "replica_fixture.h"
#include "sync.h"
#include "verify.h"

#include <httplib.h>

#include <optional>
#include <thread>

namespace mgteam::test {
namespace {

class HostileServer {
 public:
  explicit HostileServer(std::function<void(httplib::Server&)> routes) {
    routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();  // listening already: bound above
  }
  ~HostileServer() {
    server_.stop();
    thread_.join();
  }
  ApiClient Client() const {
    auto url = ParseServerUrl("http://127.0.0.1:" + std::to_string(port_));
    REQUIRE(url.ok());
    ApiClient api(*url);
    api.set_token("mg_test");
    return api;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

void Answer(httplib::Server& s, const std::string& path, const std::string& body) {
  s.Get(path, [body](const httplib::Request&, httplib::Response& res) { res.set_content(body, "application/json"); });
}

}  // namespace

TEST_CASE("field readers take any JSON and fall back instead of throwing") {
  const json odd = {{"s", 5}, {"i", "7"}, {"b", "true"}, {"a", {{"k", 1}}}, {"o", json::array({1})}};
  for (const json& j : {odd, json::array({1, 2}), json("text"), json(nullptr), json(3)}) {
    CHECK(StringField(j, "s") == "");
    CHECK(StringField(j, "missing", "fallback") == "fallback");
    CHECK(IntField(j, "i", -1) == -1);
    CHECK(BoolField(j, "b") == false);
    CHECK(ArrayField(j, "a").is_array());
    CHECK(ArrayField(j, "a").empty());
    CHECK(ObjectField(j, "o").is_object());
    CHECK(ObjectField(j, "o").empty());
  }
  const json good = {{"s", "x"}, {"i", 7}, {"b", true}, {"a", json::array({1})}, {"o", {{"k", 1}}}};
  CHECK(StringField(good, "s") == "x");
  CHECK(IntField(good, "i") == 7);
  CHECK(BoolField(good, "b") == true);
  CHECK(ArrayField(good, "a").size() == 1);
  CHECK(ObjectField(good, "o")["k"] == 1);
}

TEST_CASE("a server answering fields of the wrong types cannot crash the agent's sync") {
  HostileServer server([](httplib::Server& s) {
    Answer(s, "/api/v1/workspaces",
           R"({"workspaces":[{"id":5,"name":[],"type":{}},"not an object",{"id":"01a2124c-a21f-739f-92bb-000000000009","name":7,"role":false}]})");
    Answer(s, R"(/api/v1/workspaces/[^/]+/snapshot)",
           R"({"head_seq":"12","epoch":3,"items":{"id":"x"},"next_after":42})");
    Answer(s, R"(/api/v1/workspaces/[^/]+/events)", R"({"reset":"yes","events":"none","head_seq":[1]})");
    Answer(s, R"(/api/v1/workspaces/[^/]+/digest)", R"({"head_seq":"2","memories":[],"relationships":"x"})");
  });
  Fixture f;
  ApiClient api = server.Client();

  std::optional<Result<std::vector<agent::ReplicaWorkspace>>> found;
  CHECK_NOTHROW(found.emplace(agent::DiscoverWorkspaces(api, *f.r)));
  REQUIRE(found);
  auto& listed = *found;
  REQUIRE(listed.ok());
  // Only the entry with a string id was taken; the fixture's own workspace
  // is no longer listed by this server, so it is forgotten.
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().id == "01a2124c-a21f-739f-92bb-000000000009");
  CHECK(listed->front().name == "");

  const std::string ws = listed->front().id;
  Status caught = Status::Ok();
  CHECK_NOTHROW(caught = agent::CatchUp(api, *f.r, ws));
  CHECK(caught.ok());  // an empty snapshot at head 0, then nothing to apply
  auto w = f.r->FindWorkspace(ws);
  REQUIRE(w.ok());
  REQUIRE(*w);
  CHECK((*w)->synced);
  CHECK((*w)->cursor == 0);
  CHECK((*w)->epoch == "");

  std::optional<Result<agent::VerifyReport>> report;
  CHECK_NOTHROW(report.emplace(agent::Verify(api, *f.r, ws, false)));
  REQUIRE(report);
  REQUIRE(report->ok());
  // Nothing readable on either side: no rows, no drift, nothing counted.
  CHECK((*report)->drift.empty());
  CHECK((*report)->memories == 0);
  CHECK((*report)->head_seq == 0);
}

}  // namespace mgteam::test
