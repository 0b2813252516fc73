#include "local_api.h"

#include <httplib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mgteam::agent {

LocalApiServer::LocalApiServer() = default;
LocalApiServer::~LocalApiServer() { Stop(); }

Status LocalApiServer::Start(const std::string& socket_path, LocalApiHandlers h) {
  path_ = socket_path;
  ::unlink(socket_path.c_str());  // stale from a crashed agent; we hold the lock
  http_ = std::make_unique<httplib::Server>();
  http_->set_address_family(AF_UNIX);
  auto reply = [](httplib::Response& res, const json& body) {
    res.set_content(body.dump(), "application/json");
  };
  http_->Get("/status", [h, reply](const httplib::Request&, httplib::Response& res) { reply(res, h.status()); });
  http_->Post("/flush", [h, reply](const httplib::Request& req, httplib::Response& res) {
    h.flush();
    json out = {{"flushing", true}};
    if (req.has_param("wait")) {
      int timeout = req.has_param("timeout") ? std::atoi(req.get_param_value("timeout").c_str()) : 30;
      out["op"] = req.get_param_value("wait");
      out["state"] = h.wait_op(req.get_param_value("wait"), std::chrono::seconds(std::clamp(timeout, 0, 600)));
    }
    reply(res, out);
  });
  http_->Post("/sync", [h, reply](const httplib::Request&, httplib::Response& res) {
    h.sync();
    reply(res, {{"syncing", true}});
  });
  http_->Get("/wait", [h, reply](const httplib::Request& req, httplib::Response& res) {
    std::string what = req.has_param("cursor") ? "cursor" : req.has_param("gone") ? "gone" : "settled";
    int64_t cursor = req.has_param("cursor") ? std::atoll(req.get_param_value("cursor").c_str()) : 0;
    int timeout = req.has_param("timeout") ? std::atoi(req.get_param_value("timeout").c_str()) : 30;
    bool met = h.wait(req.get_param_value("workspace"), what, cursor,
                      std::chrono::seconds(std::clamp(timeout, 0, 600)));
    reply(res, {{"met", met}});
  });
  http_->Post("/shutdown", [h, reply](const httplib::Request&, httplib::Response& res) {
    reply(res, {{"stopping", true}});
    h.shutdown();
  });
  if (!http_->bind_to_port(socket_path, 80))
    return Status::Unavailable("socket_busy", "cannot listen on " + socket_path);
  ::chmod(socket_path.c_str(), 0600);
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  return Status::Ok();
}

void LocalApiServer::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

Result<json> LocalApiClient::Call(const std::string& method, const std::string& path,
                                  std::chrono::milliseconds timeout) const {
  httplib::Client http(path_);
  http.set_address_family(AF_UNIX);
  http.set_connection_timeout(std::chrono::milliseconds(500));
  http.set_read_timeout(timeout);
  auto res = method == "GET" ? http.Get(path.c_str()) : http.Post(path.c_str());
  if (!res) return ::mgteam::Status::Unavailable("agent_not_running", "the mgteam agent is not running");
  if (res->status != 200) return StatusFromErrorBody(res->status, res->body);
  auto j = json::parse(res->body, nullptr, false);
  if (j.is_discarded()) return ::mgteam::Status::Internal("the agent answered something that is not JSON");
  return j;
}

Result<json> LocalApiClient::Status() const { return Call("GET", "/status", std::chrono::seconds(5)); }

Result<json> LocalApiClient::Flush(const std::string& wait_op, std::chrono::seconds timeout) const {
  std::string path = "/flush";
  if (!wait_op.empty()) path += "?wait=" + wait_op + "&timeout=" + std::to_string(timeout.count());
  return Call("POST", path, timeout + std::chrono::seconds(5));
}

::mgteam::Status LocalApiClient::Sync() const { return Call("POST", "/sync", std::chrono::seconds(5)).status(); }

Result<bool> LocalApiClient::Wait(const std::string& ws, const std::string& what, int64_t cursor,
                                  std::chrono::seconds timeout) const {
  std::string path = "/wait?workspace=" + ws + "&timeout=" + std::to_string(timeout.count());
  if (what == "cursor") path += "&cursor=" + std::to_string(cursor);
  else if (what == "gone") path += "&gone=1";
  else path += "&settled=1";
  MG_ASSIGN_OR_RETURN(json j, Call("GET", path, timeout + std::chrono::seconds(5)));
  return j.value("met", false);
}

::mgteam::Status LocalApiClient::Shutdown() const {
  return Call("POST", "/shutdown", std::chrono::seconds(5)).status();
}

}  // namespace mgteam::agent
