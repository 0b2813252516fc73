// Router: the one place where every request is parsed, authenticated, scoped
// to a workspace and checked against the role table before a handler runs.
//
// A route declares its access (public, any signed-in user, a member of the
// workspace in {ws}, a member of the team in {team_id}) and the permission it
// needs; handlers never check permissions themselves. A workspace the caller
// cannot see is a 404, a missing permission a 403 naming it. Mutations honour
// Idempotency-Key through Request::Write.
#pragma once

#include "config.h"
#include "domain/accounts.h"
#include "http/browser_session.h"
#include "mgteam/rbac.h"
#include "store/store.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace mgteam::server {

// kWorkspace routes name the workspace in the path ({ws}) or, for the
// stream, in the query (?workspace_id=).
enum class Access { kPublic, kUser, kWorkspace, kTeam };

struct Reply {
  Reply() = default;
  Reply(int s, json b, std::string type = "") : status(s), body(std::move(b)), content_type(std::move(type)) {}

  int status = 200;
  json body;
  // When set, `body` is a string sent verbatim with this content type.
  std::string content_type;
  // Extra response headers (Set-Cookie for a dashboard session).
  std::vector<std::pair<std::string, std::string>> headers;
};

class Bus;
class StreamHub;
class LongPolls;
struct Metrics;

// Shared by all handlers. bus/hub/metrics/polls are null only in `mgteam-server
// routes`, which never serves.
struct ServerContext {
  Store& store;
  const ServerConfig& config;
  Bus* bus = nullptr;
  StreamHub* hub = nullptr;
  Metrics* metrics = nullptr;
  LongPolls* polls = nullptr;
};

class Request {
 public:
  Request(const httplib::Request& http, ServerContext& server) : http_(http), server_(server) {}

  ServerContext& server() { return server_; }
  Store& store() { return server_.store; }
  const ServerConfig& config() const { return server_.config; }

  // Path parameter by name ("ws", "id", ...), as matched.
  const std::string& Param(const std::string& name) const;
  // Query parameter, if present (validated UTF-8).
  std::optional<std::string> Query(const std::string& name) const;
  // Request header, if present.
  std::optional<std::string> Header(const std::string& name) const;
  // The client's IP address: the socket's peer, or, when the peer is a
  // --trusted-proxy, the address that proxy appended to X-Forwarded-For
  // (http/client_address.h). Never from REMOTE_ADDR: httplib files the peer
  // under that header name, but a client can send one first.
  std::string RemoteAddress() const;
  const json& body() const { return body_; }
  // Where a browser says the request came from (http/browser_session.h).
  RequestOrigin Origin() const;
  // The request came by TLS, or through a proxy that --public-url says
  // serves HTTPS: the session cookie must be Secure.
  bool SecureOrigin() const;

  // Set for every route but public ones.
  const Authenticated& auth() const { return *auth_; }
  bool signed_in() const { return auth_.has_value(); }
  // Authenticated by the dashboard's session cookie, not a bearer token.
  bool by_session() const { return by_session_; }
  Actor actor() const { return Actor{auth_->user.id, auth_->user.name}; }
  // Set for workspace and team routes.
  const Workspace& workspace() const { return *workspace_; }
  Role role() const { return *role_; }

  // Runs `fn` in a write transaction. With an Idempotency-Key, the first
  // successful answer is stored in the same transaction and replayed for
  // later requests with the same key; a different request under the same key
  // is a 422 (idempotency_key_reused).
  Result<Reply> Write(const std::function<Result<Reply>(Tx&)>& fn);

 private:
  friend class Router;
  const httplib::Request& http_;
  ServerContext& server_;
  std::map<std::string, std::string> params_;
  json body_ = json::object();
  std::optional<Authenticated> auth_;
  std::optional<Workspace> workspace_;
  std::optional<Role> role_;
  // The permission the route needed (none when exempt): checked again in
  // Write() under the workspace lock, against the role as it is then.
  std::optional<Permission> required_;
  std::optional<std::string> idempotency_key_;
  bool replayed_ = false;
  bool by_session_ = false;
};

using Handler = std::function<Result<Reply>(Request&)>;

struct Route {
  std::string method;  // GET POST PATCH DELETE
  std::string path;    // OpenAPI style: /api/v1/workspaces/{ws}/memories/{id}
  Access access = Access::kUser;
  std::optional<Permission> permission;
  // When set, the permission is not needed if this path parameter names the
  // caller (leaving a team needs no permission).
  std::string self_exempt_param;
  std::string summary;
  Handler handler;
};

class Router {
 public:
  explicit Router(ServerContext& ctx) : ctx_(ctx) {}

  void Add(Route r) { routes_.push_back(std::move(r)); }
  ServerContext& context() { return ctx_; }
  const std::vector<Route>& routes() const { return routes_; }

  // Registers every route, the JSON error handler (404/405/413) and the
  // exception boundary on `http`.
  void Install(httplib::Server& http);

 private:
  void Dispatch(const Route& route, const std::vector<std::string>& names,
                const httplib::Request& req, httplib::Response& res);
  Status Prepare(const Route& route, Request& r, const httplib::Request& req);

  ServerContext& ctx_;
  std::vector<Route> routes_;
};

// The JSON document of the route table, as `mgteam-server routes --json`
// prints it and the RBAC test consumes it.
json RouteTableJson(const std::vector<Route>& routes);

}  // namespace mgteam::server
