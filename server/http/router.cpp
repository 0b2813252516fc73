#include "http/router.h"

#include "http/client_address.h"
#include "http/http_server.h"

#include "auth.h"
#include "http/request_input.h"
#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "metrics.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <regex>

namespace mgteam::server {
namespace {

// How stale last_used_at may get before a request refreshes it: writing it on
// every request would turn each read into a write.
constexpr auto kLastUsedGranularity = std::chrono::minutes(10);

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(Dump(body), "application/json");
}

void SendError(httplib::Response& res, const Status& s) {
  SendJson(res, HttpStatusFor(s.code()), ErrorBody(s));
  // An error that says when to come back (a throttled login) says it in the
  // standard header too, for clients and proxies that know only that.
  auto retry = s.details().find("retry_after");
  if (retry != s.details().end() && retry->is_number_integer())
    res.set_header("Retry-After", std::to_string(retry->get<int64_t>()));
}

// The path for a log line, with secrets in it (an invitation token) masked.
std::string RedactedPath(const std::string& path) {
  auto slash = path.find("/invitations/mgi_");
  if (slash == std::string::npos) return path;
  size_t start = slash + 13, end = path.find('/', start);
  return path.substr(0, start) + "***" + (end == std::string::npos ? "" : path.substr(end));
}

// "/api/v1/workspaces/{ws}/memories/{id}" -> regex and parameter names.
std::string PathRegex(const std::string& path, std::vector<std::string>& names) {
  static const std::regex param(R"(\{([a-z_]+)\})");
  std::string out;
  auto begin = std::sregex_iterator(path.begin(), path.end(), param);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    out += path.substr(last, static_cast<size_t>(it->position()) - last);
    out += "([^/]+)";
    names.push_back((*it)[1].str());
    last = static_cast<size_t>(it->position() + it->length());
  }
  out += path.substr(last);
  return out;
}

Status Unauthenticated() {
  return Status::Unauthenticated(
      "sign in first: run `mgteam login` (or set MGTEAM_TOKEN to an access token)");
}

}  // namespace

const std::string& Request::Param(const std::string& name) const {
  static const std::string kEmpty;
  auto it = params_.find(name);
  return it == params_.end() ? kEmpty : it->second;
}

std::optional<std::string> Request::Query(const std::string& name) const {
  if (!http_.has_param(name.c_str())) return std::nullopt;
  return http_.get_param_value(name.c_str());
}

std::optional<std::string> Request::Header(const std::string& name) const {
  if (!http_.has_header(name.c_str())) return std::nullopt;
  return http_.get_header_value(name.c_str());
}

RequestOrigin Request::Origin() const {
  return RequestOrigin{Header("Sec-Fetch-Site"), Header("Origin"), Header("Host"), config().public_url,
                       config().tls()};
}

bool Request::SecureOrigin() const {
  return config().tls() || config().public_url.rfind("https://", 0) == 0;
}

std::string Request::RemoteAddress() const {
  return ClientAddress(http_.remote_addr, http_.get_header_value("X-Forwarded-For"), config().trusted_proxies);
}

// Locks first (store/store.h): the Idempotency-Key, then the workspace, in
// that order everywhere, so two writers never wait for each other in a ring.
Result<Reply> Request::Write(const std::function<Result<Reply>(Tx&)>& fn) {
  // The role and the workspace row were read before the lock (Prepare): a
  // demotion, removal or transfer may have committed since, so both are read
  // again under it and the route's permission checked again.
  auto locked = [this](Tx& tx, const std::optional<std::string>& key_hash) -> Status {
    if (key_hash) MG_RETURN_IF_ERROR(tx.Lock(LockKey::Idempotency(*key_hash)));
    if (!workspace_) return Status::Ok();
    const std::string id = workspace_->id;
    MG_RETURN_IF_ERROR(tx.Lock(LockKey::Workspace(id)));
    MG_ASSIGN_OR_RETURN(auto member, tx.FindMember(id, auth_->user.id));
    MG_ASSIGN_OR_RETURN(auto ws, tx.FindWorkspace(id));
    if (!member || !ws)
      return Status::NotFound("no workspace " + id + " that you can see; list yours with `mgteam workspace list`");
    workspace_ = std::move(*ws);
    role_ = ParseRole(member->role);
    if (!role_) return Status::Internal("membership with unknown role " + member->role);
    if (required_) MG_RETURN_IF_ERROR(Require(*role_, *required_));
    return Status::Ok();
  };
  if (!idempotency_key_)
    return store().WriteValue<Reply>([&](Tx& tx) -> Result<Reply> {
      MG_RETURN_IF_ERROR(locked(tx, std::nullopt));
      return fn(tx);
    });
  const std::string user = auth_ ? auth_->user.id : std::string("anonymous");
  const std::string key_hash = HashHex("key\n" + user + "\n" + *idempotency_key_);
  const std::string request_hash = HashHex(http_.method + "\n" + http_.path + "\n" + http_.body);
  const std::string seal_key = *idempotency_key_ + "\n" + request_hash;
  return store().WriteValue<Reply>([&](Tx& tx) -> Result<Reply> {
    MG_RETURN_IF_ERROR(locked(tx, key_hash));
    MG_ASSIGN_OR_RETURN(auto prior, tx.FindIdempotency(key_hash));
    if (prior) {
      if (!ConstantTimeEquals(prior->request_hash, request_hash))
        return Status::Invalid("idempotency_key_reused",
                               "this Idempotency-Key was already used for a different request; "
                               "use a new key for a new request");
      MG_ASSIGN_OR_RETURN(std::string body, Unseal(prior->sealed_body, seal_key));
      replayed_ = true;
      return Reply{prior->status, json::parse(body, nullptr, false)};
    }
    MG_ASSIGN_OR_RETURN(Reply reply, fn(tx));
    MG_RETURN_IF_ERROR(tx.InsertIdempotency(IdempotencyRecord{
        key_hash, request_hash, reply.status, Seal(Dump(reply.body), seal_key), NowRfc3339()}));
    return reply;
  });
}

Status Router::Prepare(const Route& route, Request& r, const httplib::Request& req) {
  RawRequestInput raw{route.method, {req.params.begin(), req.params.end()}, req.body, std::nullopt, std::nullopt, std::nullopt};
  if (req.has_header("Idempotency-Key")) raw.idempotency_key = req.get_header_value("Idempotency-Key");
  if (req.has_header("Authorization")) raw.authorization = req.get_header_value("Authorization");
  if (req.has_header("Cookie")) raw.cookie = req.get_header_value("Cookie");
  MG_ASSIGN_OR_RETURN(RequestInput input, ReadRequestInput(raw));
  r.body_ = std::move(input.body);
  r.idempotency_key_ = std::move(input.idempotency_key);
  // A bearer token wins; the session cookie is the dashboard's. A change
  // the cookie authenticates must come from our own pages (cross-site
  // request forgery), checked before anything is looked up.
  const bool by_session = input.bearer.empty() && !input.session.empty();
  const std::string& secret = by_session ? input.session : input.bearer;
  if (input.bearer.empty() && input.session_ambiguous && route.access != Access::kPublic)
    return Status(Code::kUnauthenticated, "session_ambiguous",
                  "the browser sent two dashboard session cookies (a page of another program on this host may "
                  "have set one); sign out and sign in again, and do not serve other sites from this host name");
  if (secret.empty()) return route.access == Access::kPublic ? Status::Ok() : Unauthenticated();
  if (by_session && route.access != Access::kPublic && IsUnsafeMethod(route.method))
    MG_RETURN_IF_ERROR(CheckSameOrigin(r.Origin()));
  r.by_session_ = by_session;

  Status s = ctx_.store.Read([&](Tx& tx) -> Status {
    auto auth = Authenticate(tx, secret, by_session ? CredentialKind::kSession : CredentialKind::kToken);
    if (!auth.ok()) return route.access == Access::kPublic ? Status::Ok() : auth.status();
    r.auth_ = std::move(auth).value();
    if (route.access != Access::kWorkspace && route.access != Access::kTeam) return Status::Ok();

    std::string key = r.Param(route.access == Access::kTeam ? "team_id" : "ws");
    if (key.empty() && route.access == Access::kWorkspace) key = r.Query("workspace_id").value_or("");
    const Status not_found = Status::NotFound(
        std::string(route.access == Access::kTeam ? "no team " : "no workspace ") + key +
        " that you can see; list yours with `mgteam workspace list`");
    auto id = NormalizeUuid(key);
    if (!id) return not_found;
    MG_ASSIGN_OR_RETURN(auto member, tx.FindMember(*id, r.auth_->user.id));
    if (!member) return not_found;
    MG_ASSIGN_OR_RETURN(auto ws, tx.FindWorkspace(*id));
    if (!ws || (route.access == Access::kTeam && ws->kind != "team")) return not_found;
    r.workspace_ = std::move(*ws);
    r.role_ = ParseRole(member->role);
    if (!r.role_) return Status::Internal("membership with unknown role " + member->role);
    return Status::Ok();
  });
  MG_RETURN_IF_ERROR(s);

  if (r.auth_) {
    const auto& t = r.auth_->token;
    auto used = t.last_used_at ? ParseRfc3339(*t.last_used_at) : std::nullopt;
    if (!used || Now() - *used > kLastUsedGranularity) {
      // Best effort: failing to note the time must not fail the request.
      // Only the time is written: `t` was read before this write, and a
      // revocation may have committed in between.
      const std::string now = NowRfc3339();
      Status w = ctx_.store.Write([&](Tx& tx) { return tx.TouchToken(t.id, now); });
      if (!w.ok()) spdlog::warn("could not record token use: {}", w.ToString());
    }
  }

  bool exempt = !route.self_exempt_param.empty() &&
                NormalizeUuid(r.Param(route.self_exempt_param)) == r.auth_->user.id;
  if (route.permission && r.role_ && !exempt) {
    MG_RETURN_IF_ERROR(Require(*r.role_, *route.permission));
    r.required_ = route.permission;
  }
  return Status::Ok();
}

void Router::Dispatch(const Route& route, const std::vector<std::string>& names,
                      const httplib::Request& req, httplib::Response& res) {
  auto started = std::chrono::steady_clock::now();
  if (ctx_.metrics && !HttpServer::Resumed()) ctx_.metrics->http_requests++;  // a resumed poll is one request
  Request r(req, ctx_);
  for (size_t i = 0; i < names.size() && i + 1 < req.matches.size(); ++i)
    r.params_[names[i]] = req.matches[i + 1].str();

  Result<Reply> reply = [&]() -> Result<Reply> {
    MG_RETURN_IF_ERROR(Prepare(route, r, req));
    return route.handler(r);
  }();
  // A parked request is answered (and logged) when it is resumed.
  if (HttpServer::Parking()) return;

  // Every answer and every log line about it carry one id, so a user's
  // report ("request id ...") finds the log line.
  const std::string request_id = RandomHex(8);
  res.set_header("X-Request-Id", request_id);
  if (reply.ok()) {
    if (r.replayed_) res.set_header("Idempotent-Replayed", "true");
    for (const auto& [name, value] : reply->headers) res.set_header(name, value);
    if (reply->status == 204) {
      res.status = 204;
    } else if (!reply->content_type.empty() && reply->body.is_string()) {
      res.status = reply->status;
      res.set_content(reply->body.get<std::string>(), reply->content_type.c_str());
    } else {
      SendJson(res, reply->status, reply->body);
    }
  } else if (reply.status().code() == Code::kInternal) {
    // The detail (a database path, an SQL error) is for the log only.
    spdlog::error("{} {} [{}]: {}", req.method, RedactedPath(req.path), request_id,
                  reply.status().ToString());
    SendError(res, Status::Internal("internal error, request id " + request_id + " (the detail is in the server's log)"));
  } else {
    SendError(res, reply.status());
  }
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  spdlog::debug("{} {} {} {}us [{}] from {}", req.method, RedactedPath(req.path), res.status, us, request_id,
                r.RemoteAddress());
}

void Router::Install(httplib::Server& http) {
  for (const auto& route : routes_) {
    std::vector<std::string> names;
    std::string pattern = PathRegex(route.path, names);
    auto handler = [this, &route, names](const httplib::Request& req, httplib::Response& res) {
      Dispatch(route, names, req, res);
    };
    if (route.method == "GET") http.Get(pattern, handler);
    else if (route.method == "POST") http.Post(pattern, handler);
    else if (route.method == "PATCH") http.Patch(pattern, handler);
    else if (route.method == "DELETE") http.Delete(pattern, handler);
    else if (route.method == "PUT") http.Put(pattern, handler);
  }

  // Errors raised by httplib itself (no route, body too large) get the same
  // JSON shape as ours. A handler's own error body is left alone.
  auto path_regexes = std::make_shared<std::vector<std::regex>>();
  for (const auto& route : routes_) {
    std::vector<std::string> names;
    path_regexes->emplace_back(PathRegex(route.path, names));
  }
  httplib::Server::HandlerWithResponse on_error = [this, path_regexes](
                                                       const httplib::Request& req,
                                                       httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    Status s;
    if (res.status == 413 && req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0) {
      // cpp-httplib caps form-encoded bodies at 8 KiB; `curl -d` sends that type.
      s = Status(Code::kPayloadTooLarge, "payload_too_large",
                 "form-encoded bodies are limited to 8 KiB; send JSON with "
                 "'Content-Type: application/json' (curl: -H 'Content-Type: application/json')");
    } else if (res.status == 413) {
      s = Status(Code::kPayloadTooLarge, "payload_too_large",
                 "the request body is larger than " +
                     std::to_string(ctx_.config.max_body_bytes / 1024) + " KiB");
    } else if (res.status == 404) {
      bool path_known = false;
      for (const auto& re : *path_regexes) path_known = path_known || std::regex_match(req.path, re);
      if (path_known) {
        res.status = 405;
        s = Status(Code::kBadRequest, "method_not_allowed",
                   req.method + " is not supported on " + req.path);
      } else {
        const bool api = req.path.rfind("/api/", 0) == 0;
        s = Status(Code::kNotFound, "route_not_found",
                   api ? "no such API route: " + req.method + " " + req.path + " (see /api/v1/openapi.json)"
                       : "no such page: " + req.path + " (the dashboard is at /, the API under /api/v1)");
      }
    } else if (res.status == 400 && (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") &&
               !req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
      // cpp-httplib refuses a body-carrying method without a length; `curl
      // -X POST` with no -d sends exactly that. Say how to fix it.
      s = Status(Code::kBadRequest, "length_required",
                 req.method + " needs a body or Content-Length: 0; send '{}' (curl: -d '{}' -H 'Content-Type: "
                 "application/json')");
    } else {
      s = Status(CodeForHttpStatus(res.status), "http_" + std::to_string(res.status),
                 "the request could not be handled (HTTP " + std::to_string(res.status) + ")");
    }
    int status = res.status;
    SendJson(res, status, ErrorBody(s));
    return httplib::Server::HandlerResponse::Handled;
  };
  http.set_error_handler(on_error);
  // On every answer, routed or not: nothing is to be sniffed or cached (they
  // carry tokens and team data), and each has an id.
  // Over TLS, browsers are told to never try plain HTTP on this host again.
  const bool tls = ctx_.config.tls();
  http.set_post_routing_handler([tls](const httplib::Request&, httplib::Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    if (tls) res.set_header("Strict-Transport-Security", "max-age=31536000");
    if (!res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
    if (!res.has_header("X-Request-Id")) res.set_header("X-Request-Id", RandomHex(8));
  });

  // The module boundary for exceptions: a handler that throws is a bug; log it
  // and answer 500 rather than dropping the connection.
  http.set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                                std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "non-standard exception";
    }
    spdlog::error("{} {} threw: {}", req.method, RedactedPath(req.path), what);
    SendError(res, Status::Internal("the server hit an unexpected error; it has been logged"));
  });
}

json RouteTableJson(const std::vector<Route>& routes) {
  json out = json::array();
  for (const auto& r : routes) {
    const char* access = r.access == Access::kPublic      ? "public"
                         : r.access == Access::kUser      ? "user"
                         : r.access == Access::kWorkspace ? "workspace"
                                                          : "team";
    out.push_back({{"method", r.method},
                   {"path", r.path},
                   {"access", access},
                   {"permission", r.permission ? json(std::string(PermissionName(*r.permission)))
                                               : json(nullptr)},
                   {"self_exempt", !r.self_exempt_param.empty()},
                   {"summary", r.summary}});
  }
  return out;
}

}  // namespace mgteam::server
