// Test support: raw HTTP against a running server, plus helpers that set up
// users and teams through the public API.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

namespace httplib {
class Client;
}

namespace mgteam::test {

using nlohmann::json;

struct HttpResponse {
  int status = 0;          // 0: no answer
  std::string raw;
  json body;               // parsed when JSON, else discarded
  std::multimap<std::string, std::string> headers;

  std::string error_code() const;  // body.error.code or ""
};

class Http {
 public:
  explicit Http(int port);
  ~Http();

  HttpResponse Send(const std::string& method, const std::string& path, const std::string& body = "",
                    const std::string& token = "",
                    const std::map<std::string, std::string>& headers = {});
  HttpResponse Get(const std::string& path, const std::string& token = "") {
    return Send("GET", path, "", token);
  }
  HttpResponse Post(const std::string& path, const json& body, const std::string& token = "",
                    const std::map<std::string, std::string>& headers = {}) {
    return Send("POST", path, body.dump(), token, headers);
  }
  HttpResponse Patch(const std::string& path, const json& body, const std::string& token = "") {
    return Send("PATCH", path, body.dump(), token);
  }
  HttpResponse Delete(const std::string& path, const std::string& token = "") {
    return Send("DELETE", path, "", token);
  }

 private:
  std::unique_ptr<httplib::Client> client_;
};

struct TestUser {
  std::string id;
  std::string email;
  std::string name;
  std::string token;
  std::string personal_ws;
};

// Signs a user up (the server must allow it) and finds their personal workspace.
TestUser SignUp(Http& http, const std::string& name);
// Creates a team owned by `owner`; returns its id.
std::string CreateTeam(Http& http, const TestUser& owner, const std::string& name);
// Invites `user` into `team` with `role` and accepts as them.
void AddToTeam(Http& http, const TestUser& owner, const std::string& team, const TestUser& user,
               const std::string& role);
// Adds a memory; returns its JSON.
json AddMemory(Http& http, const TestUser& u, const std::string& ws, const std::string& title);

}  // namespace mgteam::test
