#include "paths.h"

#include <cstdlib>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace mgteam::agent {
namespace {

std::string XdgDir(const char* var, const char* fallback) {
  const char* v = std::getenv(var);
  if (v && *v) return std::string(v) + "/mgteam";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/" + fallback + "/mgteam";
}

}  // namespace

std::string DataDir() { return XdgDir("XDG_DATA_HOME", ".local/share"); }
std::string StateDir() { return XdgDir("XDG_STATE_HOME", ".local/state"); }

std::string SocketPath() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime && *runtime) return std::string(runtime) + "/mgteam/agent.sock";
  return StateDir() + "/agent.sock";
}

std::string ReplicaPath(const std::string& server_url) {
  std::string name;
  std::string s = server_url.substr(server_url.find("://") == std::string::npos ? 0 : server_url.find("://") + 3);
  for (char c : s) name.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_');
  return DataDir() + "/" + name + ".db";
}

Status EnsurePrivateDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Internal("cannot create " + dir + ": " + ec.message());
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) return Status::Internal("cannot stat " + dir);
  if (st.st_uid != ::getuid())
    return Status::Internal(dir + " belongs to another user; refusing to use it");
  if ((st.st_mode & 0777) != 0700) ::chmod(dir.c_str(), 0700);
  return Status::Ok();
}

}  // namespace mgteam::agent
