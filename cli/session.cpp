#include "session.h"

#include "exit_codes.h"
#include "render.h"

#include "mgteam/ids.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <termios.h>
#include <unistd.h>

namespace mgteam::cli {
namespace {

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

// The configured server, when there is one and it parses.
std::optional<ServerUrl> Configured(const CliConfig& c) {
  if (!c.server) return std::nullopt;
  auto url = ParseServerUrl(*c.server);
  return url.ok() ? std::optional<ServerUrl>(*url) : std::nullopt;
}

}  // namespace

Result<CliConfig*> Session::Config() {
  if (!config_) {
    MG_ASSIGN_OR_RETURN(CliConfig c, CliConfig::Load());
    config_ = std::move(c);
  }
  return &*config_;
}

bool Session::ServerGiven() const { return !global_.server.empty() || Env("MGTEAM_SERVER"); }

Result<ServerUrl> Session::Server() {
  std::optional<std::string> raw;
  if (!global_.server.empty()) raw = global_.server;
  else if (auto e = Env("MGTEAM_SERVER")) raw = e;
  else if (link_server_) return *link_server_;
  else {
    MG_ASSIGN_OR_RETURN(CliConfig * c, Config());
    raw = c->server;
  }
  if (!raw)
    return Status::Invalid("no_server",
                           "no server is set; run `mgteam server set http://HOST:PORT` "
                           "(or set MGTEAM_SERVER)");
  MG_ASSIGN_OR_RETURN(ServerUrl url, ParseServerUrl(*raw));
  // The configured server under another spelling (localhost for 127.0.0.1):
  // use the configured one, so the local copy, the agent it belongs to and
  // the saved workspace are the same ones, not a second copy no agent syncs.
  if (ServerGiven()) {
    MG_ASSIGN_OR_RETURN(CliConfig * c, Config());
    if (auto configured = Configured(*c); configured && SameServer(*configured, url)) return *configured;
  }
  return url;
}

bool Session::OnConfiguredServer() {
  if (!ServerGiven() && !link_server_) return true;
  auto used = Server();
  auto c = Config();
  if (!used.ok() || !c.ok()) return false;
  auto configured = Configured(**c);
  return configured && SameServer(*used, *configured);
}

Status Session::UseLinkServer(const ServerUrl& link) {
  if (ServerGiven()) {
    MG_ASSIGN_OR_RETURN(ServerUrl given, Server());
    if (!SameServer(given, link))
      Note("note: the invitation link names " + link.ToString() + "; using " + given.ToString() +
           " as --server/MGTEAM_SERVER say");
    return Status::Ok();
  }
  MG_ASSIGN_OR_RETURN(CliConfig * c, Config());
  if (auto configured = Configured(*c); configured && SameServer(*configured, link)) return Status::Ok();
  link_server_ = link;
  return Status::Ok();
}

Status Session::AdoptLinkServer() {
  if (!link_server_) return Status::Ok();
  MG_ASSIGN_OR_RETURN(CliConfig * c, Config());
  const std::string url = link_server_->ToString();
  if (c->server == url) return Status::Ok();
  const std::optional<std::string> before = c->server;
  c->server = url;
  c->ForgetWorkspace();  // workspaces belong to a server
  MG_RETURN_IF_ERROR(c->SaveConfig());
  if (before)
    Note("Now using " + url + " (the invitation's server) instead of " + *before +
         "; switch back: mgteam server set " + *before);
  else
    Note("Server set to " + url + " (from the invitation link)");
  return Status::Ok();
}

Result<std::string> Session::Token(const ServerUrl& server) {
  const bool link_only = link_server_ && SameServer(*link_server_, server);
  if (auto e = Env("MGTEAM_TOKEN"); e && !link_only) return *e;
  MG_ASSIGN_OR_RETURN(CliConfig * c, Config());
  auto key = c->CredentialsKey(server);
  return key ? c->credentials.at(*key).token : std::string();
}

Status Session::StoreToken(const ServerUrl& server, const nlohmann::json& reply) {
  MG_ASSIGN_OR_RETURN(CliConfig * c, Config());
  const auto& user = reply["user"];
  // One entry per server: a token stored under another loopback name is
  // replaced, not kept beside the new one.
  if (auto old = c->CredentialsKey(server); old && *old != server.ToString()) c->credentials.erase(*old);
  c->credentials[server.ToString()] =
      Credentials{reply.value("token", ""), user.value("email", ""), user.value("id", "")};
  if (!c->server) c->server = server.ToString();
  MG_RETURN_IF_ERROR(c->SaveCredentials());
  return c->SaveConfig();
}

Status CheckReachable(const ServerUrl& url) {
  ApiClient api(url);
  api.set_timeout(std::chrono::seconds(3), std::chrono::seconds(5));
  auto health = api.Get("/healthz");
  if (health.ok()) return Status::Ok();
  const Status& why = health.status();
  if (why.reason() == "unreachable")
    return Status::Unavailable("unreachable", "cannot reach " + url.ToString() + ": " +
                                                  why.details().value("cause", why.message()) +
                                                  "; is the server running? check the URL (`mgteam server show`; "
                                                  "change it with `mgteam server set URL`)");
  if (why.code() == Code::kUnavailable) return why;  // TLS, or the server is shutting down: its own words
  return Status::Unavailable("not_mgteam", url.ToString() + " answers, but not like an mgteam server (" +
                                               why.message() + "); check the URL (`mgteam server show`)");
}

Status Session::NotSignedIn(const ServerUrl& server) {
  MG_RETURN_IF_ERROR(CheckReachable(server));
  std::string message = "you are not signed in to " + server.ToString() +
                        "; run `mgteam login` (or `mgteam signup`), or set MGTEAM_TOKEN";
  MG_ASSIGN_OR_RETURN(CliConfig * c, Config());
  std::string others;
  for (const auto& [url, cr] : c->credentials) others += (others.empty() ? "" : ", ") + url;
  if (!others.empty())
    message += ". You are signed in to " + others + " (use it: mgteam server set URL, or --server URL)";
  return Status::Unauthenticated(message);
}

Result<ApiClient> Session::Client(bool need_token) {
  MG_ASSIGN_OR_RETURN(ServerUrl url, Server());
  ApiClient api(url);
  MG_ASSIGN_OR_RETURN(std::string token, Token(url));
  if (need_token && token.empty()) return NotSignedIn(url);
  api.set_token(token);
  return api;
}

Result<WorkspaceRef> PickWorkspace(const std::vector<WorkspaceRef>& list, const std::string& ref, bool team_only) {
  std::optional<WorkspaceRef> personal;
  std::vector<WorkspaceRef> matches;
  auto canonical = NormalizeUuid(ref);
  for (const auto& r : list) {
    if (team_only && r.type != "team") continue;
    if (r.type == "personal") personal = r;
    if (ref.empty() || ref == "personal") continue;
    if ((canonical && r.id == *canonical) || r.slug == ref) return r;
    if (r.name == ref) matches.push_back(r);
  }
  if (ref.empty() || ref == "personal") {
    if (personal) return *personal;
    return Status::NotFound("you have no personal workspace on this server");
  }
  if (matches.size() == 1) return matches.front();
  if (matches.size() > 1)
    return Status::Invalid("ambiguous_workspace",
                           "several workspaces are named '" + ref + "'; use the slug or id "
                           "(see `mgteam workspace list`)");
  return Status::NotFound(std::string(team_only ? "no team" : "no workspace") + " '" + ref +
                          "' that you belong to; see `mgteam workspace list`");
}

Result<std::vector<WorkspaceRef>> Session::ListWorkspaces(ApiClient& api) {
  MG_ASSIGN_OR_RETURN(nlohmann::json listing, api.Get("/api/v1/workspaces"));
  std::vector<WorkspaceRef> list;
  for (const auto& w : listing.value("workspaces", nlohmann::json::array()))
    list.push_back(WorkspaceRef{w.value("id", ""), w.value("name", ""), w.value("slug", ""), w.value("type", ""),
                                w.value("role", "")});
  return list;
}

Result<WorkspaceRef> Session::Resolve(ApiClient& api, const std::string& ref, bool team_only) {
  MG_ASSIGN_OR_RETURN(auto list, ListWorkspaces(api));
  return PickWorkspace(list, ref, team_only);
}

Result<std::string> Session::WorkspaceChoice() {
  if (!global_.workspace.empty()) return global_.workspace;
  if (auto e = Env("MGTEAM_WORKSPACE")) return *e;
  MG_ASSIGN_OR_RETURN(CliConfig * c, Config());
  // The saved choice names a workspace of the configured server; on another
  // one (--server, MGTEAM_SERVER) it means nothing: the personal workspace.
  if (!OnConfiguredServer()) return std::string();
  return c->workspace.value_or("");
}

bool Session::ChoiceIsSaved() const { return global_.workspace.empty() && !Env("MGTEAM_WORKSPACE"); }

Result<WorkspaceRef> Session::PickCurrent(const std::vector<WorkspaceRef>& list, const std::string& known_name) {
  MG_ASSIGN_OR_RETURN(std::string ref, WorkspaceChoice());
  auto picked = PickWorkspace(list, ref, false);
  // A choice made for this command alone stays an error: it was just typed.
  if (picked.ok() || picked.status().code() != Code::kNotFound || ref.empty() || ref == "personal" ||
      !ChoiceIsSaved())
    return picked;
  MG_ASSIGN_OR_RETURN(CliConfig * c, Config());
  // The replica follows renames; the config has the name from when it was chosen.
  std::string name = known_name.empty() ? c->workspace_name.value_or("") : known_name;
  c->ForgetWorkspace();
  MG_RETURN_IF_ERROR(c->SaveConfig());
  Note("you were removed from " + (name.empty() ? std::string("the team you had chosen") : name) +
       "; now using your personal workspace");
  return PickWorkspace(list, "", false);
}

Result<WorkspaceRef> Session::Workspace(ApiClient& api) {
  MG_ASSIGN_OR_RETURN(auto list, ListWorkspaces(api));
  return PickCurrent(list);
}

Result<WorkspaceRef> Session::Team(ApiClient& api, const std::string& ref) {
  if (ref.empty()) {
    MG_ASSIGN_OR_RETURN(WorkspaceRef w, Workspace(api));
    if (w.type != "team")
      return Status::Invalid("not_a_team", "the current workspace '" + w.name +
                                               "' is personal; name a team, or `mgteam workspace use TEAM`");
    return w;
  }
  return Resolve(api, ref, true);
}

Status WriteFileAtomically(const std::string& path, const std::string& text, unsigned mode) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    return Status::Invalid("symlink", path + " is a symbolic link; not writing through it (edit the file it points "
                                             "to yourself, or use --print)");
  std::string tmp = path + ".XXXXXX";
  int fd = ::mkstemp(tmp.data());  // O_CREAT | O_EXCL, mode 0600
  if (fd < 0) return Status::Internal("cannot create a file beside " + path + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, static_cast<mode_t>(mode)) == 0;
  for (size_t done = 0; ok && done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Status::Internal("cannot write " + path + ": " + why);
  }
  return Status::Ok();
}

Result<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Result<std::string> ReadPassword(bool from_stdin, const std::string& prompt, bool confirm) {
  if (from_stdin) {
    std::string line;
    if (!std::getline(std::cin, line)) return Status::Invalid("no_password", "no password on stdin");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  if (!::isatty(STDIN_FILENO))
    return UsageError("no terminal to ask for a password; pipe it in with --password-stdin");
  auto ask = [](const std::string& p) -> std::string {
    std::cerr << p << std::flush;
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::string line;
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
    return line;
  };
  std::string pw = ask(prompt);
  if (confirm && ask("Repeat password: ") != pw)
    return Status::Invalid("password_mismatch", "the passwords do not match; try again");
  return pw;
}

std::string CliTokenName() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) return "mgteam CLI on unknown host";
  return std::string("mgteam CLI on ") + host;
}

std::string NewIdempotencyKey() { return NewUuidV7(); }

}  // namespace mgteam::cli
