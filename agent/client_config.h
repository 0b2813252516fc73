// The client's settings, read by the CLI and the agent (design brief §9):
//   $XDG_CONFIG_HOME/mgteam/config.toml       server URL, current workspace
//   $XDG_CONFIG_HOME/mgteam/credentials.toml  tokens per server, mode 0600
// Environment variables override both: MGTEAM_SERVER, MGTEAM_TOKEN,
// MGTEAM_WORKSPACE (a CI job needs only the first two).
#pragma once

#include "mgteam/api_client.h"
#include "mgteam/status.h"

#include <map>
#include <optional>
#include <string>

namespace mgteam::agent {

struct Credentials {
  std::string token;
  std::string email;
  std::string user_id;
};

struct CliConfig {
  std::string config_dir;
  std::optional<std::string> server;     // from the file
  std::optional<std::string> workspace;  // from the file
  // The chosen workspace's name when it was chosen: the one thing left to
  // call it by once the server no longer lists it (you were removed).
  std::optional<std::string> workspace_name;
  // By server URL, in its canonical form (ServerUrl::ToString()); keys written
  // in another spelling by older versions are read into that form.
  std::map<std::string, Credentials> credentials;

  static Result<CliConfig> Load();
  // The credentials key for `url`: its own, else that of another loopback
  // name for the same port (localhost and 127.0.0.1 are one server).
  std::optional<std::string> CredentialsKey(const ServerUrl& url) const;
  void ChooseWorkspace(const std::string& id, const std::string& name);
  void ForgetWorkspace();
  Status SaveConfig() const;
  Status SaveCredentials() const;  // written 0600, atomically
  std::string config_path() const { return config_dir + "/config.toml"; }
  std::string credentials_path() const { return config_dir + "/credentials.toml"; }
};

// $XDG_CONFIG_HOME/mgteam, or ~/.config/mgteam.
std::string ConfigDir();

}  // namespace mgteam::agent
