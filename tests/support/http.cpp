#include "http.h"

#include <httplib.h>

#include <atomic>
#include <stdexcept>

namespace mgteam::test {

std::string HttpResponse::error_code() const {
  if (body.is_object() && body.contains("error") && body["error"].is_object())
    return body["error"].value("code", "");
  return "";
}

Http::Http(int port) : client_(std::make_unique<httplib::Client>("127.0.0.1", port)) {
  client_->set_tcp_nodelay(true);
  client_->set_read_timeout(std::chrono::seconds(30));
}

Http::~Http() = default;

HttpResponse Http::Send(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& token, const std::map<std::string, std::string>& headers) {
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.body = body;
  if (!body.empty()) req.set_header("Content-Type", "application/json");
  if (!token.empty()) req.set_header("Authorization", "Bearer " + token);
  for (const auto& [k, v] : headers) req.set_header(k, v);
  HttpResponse out;
  auto res = client_->send(req);
  if (!res) return out;
  out.status = res->status;
  out.raw = res->body;
  out.body = json::parse(res->body, nullptr, false);
  for (const auto& [k, v] : res->headers) out.headers.emplace(k, v);
  return out;
}

TestUser SignUp(Http& http, const std::string& name) {
  static std::atomic<int> counter{0};
  TestUser u;
  u.name = name;
  u.email = name + "." + std::to_string(counter++) + "@example.com";
  auto r = http.Post("/api/v1/auth/signup",
                     {{"email", u.email}, {"password", "password-" + name}, {"name", name}});
  if (r.status != 201) throw std::runtime_error("signup failed: " + r.raw);
  u.id = r.body["user"]["id"];
  u.token = r.body["token"];
  auto ws = http.Get("/api/v1/workspaces", u.token);
  for (const auto& w : ws.body["workspaces"])
    if (w["type"] == "personal") u.personal_ws = w["id"];
  return u;
}

std::string CreateTeam(Http& http, const TestUser& owner, const std::string& name) {
  auto r = http.Post("/api/v1/teams", {{"name", name}}, owner.token);
  if (r.status != 201) throw std::runtime_error("team create failed: " + r.raw);
  return r.body["id"];
}

void AddToTeam(Http& http, const TestUser& owner, const std::string& team, const TestUser& user,
               const std::string& role) {
  auto inv = http.Post("/api/v1/teams/" + team + "/invite", {{"email", user.email}, {"role", role}},
                       owner.token);
  if (inv.status != 201) throw std::runtime_error("invite failed: " + inv.raw);
  auto acc = http.Post("/api/v1/invitations/" + inv.body["token"].get<std::string>() + "/accept",
                       json::object(), user.token);
  if (acc.status != 200) throw std::runtime_error("accept failed: " + acc.raw);
}

json AddMemory(Http& http, const TestUser& u, const std::string& ws, const std::string& title) {
  auto r = http.Post("/api/v1/workspaces/" + ws + "/memories", {{"title", title}, {"type", "solution"}},
                     u.token);
  if (r.status != 201) throw std::runtime_error("memory add failed: " + r.raw);
  return r.body;
}

}  // namespace mgteam::test
