#include "client_config.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace mgteam::agent {
namespace {

// Writes `content` to `path` with `mode`, via a temporary file and rename so a
// crash never leaves a half-written credentials file.
Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::Internal("cannot write " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, mode);  // the umask may have narrowed or (for 0600) not mattered; be exact
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::Internal("cannot write " + tmp + ": " + std::strerror(errno));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status::Internal("cannot write " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::Internal("cannot replace " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<toml::table> ParseFile(const std::string& path) {
  if (!std::filesystem::exists(path)) return toml::table{};
  // Debian's toml++ is built with exceptions: parse errors are thrown.
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::Invalid("invalid_config", path + " is not valid TOML: " +
                                                 std::string(e.description()) + "; fix or delete it");
  }
}

// `url` in its canonical form, or as it is if it does not parse (it is then
// reported when used, not here).
std::string Canonical(const std::string& url) {
  auto parsed = ParseServerUrl(url);
  return parsed.ok() ? parsed->ToString() : url;
}

}  // namespace

std::string ConfigDir() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg && *xdg) return std::string(xdg) + "/mgteam";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.config/mgteam";
}

Result<CliConfig> CliConfig::Load() {
  CliConfig c;
  c.config_dir = ConfigDir();
  MG_ASSIGN_OR_RETURN(toml::table cfg, ParseFile(c.config_path()));
  if (auto s = cfg["server"].value<std::string>()) c.server = Canonical(*s);
  if (auto w = cfg["workspace"].value<std::string>()) c.workspace = *w;
  if (auto n = cfg["workspace_name"].value<std::string>(); n && c.workspace) c.workspace_name = *n;
  MG_ASSIGN_OR_RETURN(toml::table creds, ParseFile(c.credentials_path()));
  if (auto* servers = creds["servers"].as_table()) {
    for (auto&& [url, node] : *servers) {
      auto* t = node.as_table();
      if (!t) continue;
      Credentials cr;
      cr.token = (*t)["token"].value_or(std::string());
      cr.email = (*t)["email"].value_or(std::string());
      cr.user_id = (*t)["user_id"].value_or(std::string());
      // Where two old spellings meet, the one already canonical wins.
      const std::string key = Canonical(std::string(url.str()));
      if (!cr.token.empty() && (key == url.str() || !c.credentials.count(key))) c.credentials[key] = cr;
    }
  }
  return c;
}

std::optional<std::string> CliConfig::CredentialsKey(const ServerUrl& url) const {
  if (credentials.count(url.ToString())) return url.ToString();
  for (const auto& [key, cr] : credentials) {
    auto other = ParseServerUrl(key);
    if (other.ok() && SameServer(*other, url)) return key;
  }
  return std::nullopt;
}

void CliConfig::ChooseWorkspace(const std::string& id, const std::string& name) {
  workspace = id;
  workspace_name = name;
}

void CliConfig::ForgetWorkspace() {
  workspace.reset();
  workspace_name.reset();
}

Status CliConfig::SaveConfig() const {
  std::error_code ec;
  std::filesystem::create_directories(config_dir, ec);
  if (ec) return Status::Internal("cannot create " + config_dir + ": " + ec.message());
  toml::table t;
  if (server) t.insert("server", *server);
  if (workspace) t.insert("workspace", *workspace);
  if (workspace && workspace_name) t.insert("workspace_name", *workspace_name);
  std::ostringstream out;
  out << "# mgteam CLI settings; see `man mgteam`.\n" << t << "\n";
  return WriteFileAtomically(config_path(), out.str(), 0644);
}

Status CliConfig::SaveCredentials() const {
  std::error_code ec;
  std::filesystem::create_directories(config_dir, ec);
  if (ec) return Status::Internal("cannot create " + config_dir + ": " + ec.message());
  toml::table servers;
  for (const auto& [url, cr] : credentials) {
    toml::table t;
    t.insert("token", cr.token);
    t.insert("email", cr.email);
    t.insert("user_id", cr.user_id);
    servers.insert(url, std::move(t));
  }
  toml::table root;
  root.insert("servers", std::move(servers));
  std::ostringstream out;
  out << "# mgteam access tokens. Keep this file private (mode 0600).\n" << root << "\n";
  return WriteFileAtomically(credentials_path(), out.str(), 0600);
}

}  // namespace mgteam::agent
