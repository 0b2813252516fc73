#include "http/static_site.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace mgteam::server {
namespace {

void SetPageHeaders(httplib::Response& res) {
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("X-Frame-Options", "DENY");
  // /join/TOKEN holds a secret: never send it on as a Referer.
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cross-Origin-Opener-Policy", "same-origin");
  res.set_header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

// If-None-Match may list several tags, or be "*".
bool Matches(const std::string& if_none_match, const std::string& etag) {
  if (if_none_match == "*") return true;
  return if_none_match.find(etag) != std::string::npos;
}

void Serve(const WebFiles& files, const std::string& path, const httplib::Request& req, httplib::Response& res) {
  auto file = files.Find(path);
  if (!file) {
    res.status = 404;  // the router's error handler writes the JSON body
    return;
  }
  SetPageHeaders(res);
  res.set_header("ETag", file->etag);
  // Revalidate every time: the names carry no version, and an upgrade must
  // reach the browser at once. Unchanged files cost a 304.
  res.set_header("Cache-Control", "no-cache");
  if (Matches(req.get_header_value("If-None-Match"), file->etag)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.set_content(file->body, file->content_type.c_str());
}

}  // namespace

void InstallStaticSite(httplib::Server& http, const ServerConfig& config) {
  auto files = std::make_shared<const WebFiles>(config.web_dir.empty() ? WebFiles::Embedded()
                                                                        : WebFiles::FromDirectory(config.web_dir));
  if (config.web_dir.empty())
    spdlog::debug("dashboard: {} built-in files", files->embedded_count());
  else
    spdlog::info("dashboard: serving files from {} (--web-dir)", config.web_dir);
  auto page = [files](const httplib::Request& req, httplib::Response& res) { Serve(*files, "index.html", req, res); };
  http.Get("/", page);
  http.Get(R"(/join/[^/]+)", page);
  // Any other path outside the API is a file of the dashboard, or a 404.
  http.Get(R"(/((?!api/)[^?]+))", [files](const httplib::Request& req, httplib::Response& res) {
    Serve(*files, req.matches[1].str(), req, res);
  });
}

}  // namespace mgteam::server
