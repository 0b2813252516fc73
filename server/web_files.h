// WebFiles: the dashboard's static files (server/web), as built into the
// binary or, with --web-dir, read from a directory on each request so a
// developer edits and reloads without rebuilding (docs/dashboard.md).
//
// Each file comes with its content type and a strong ETag (a hash of its
// bytes), so a browser revalidates cheaply and never runs a stale script
// after an upgrade.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mgteam::server {

struct EmbeddedFile {
  std::string_view path;  // relative, '/'-separated: "index.html", "js/api.js"
  std::string_view bytes;
};
// Generated at build time by cmake/embed_dir.cmake.
std::span<const EmbeddedFile> EmbeddedWebFiles();

struct WebFile {
  std::string body;
  std::string content_type;
  std::string etag;  // quoted, strong: "\"3f2a...\""
};

// "app.js" -> "text/javascript; charset=utf-8"; unknown: application/octet-stream.
std::string_view ContentTypeFor(std::string_view path);

// A URL path (without the leading '/') made safe to look up: empty when it
// tries to leave the directory ("..", "\\", NUL, a hidden file).
std::string SafeWebPath(std::string_view url_path);

class WebFiles {
 public:
  // The built-in copy.
  static WebFiles Embedded();
  // Files read from `dir` on every lookup.
  static WebFiles FromDirectory(std::string dir);

  // The file at `path` ("index.html", "js/api.js"), if there is one. From a
  // directory, only a regular file inside it (a symlink leading out of it
  // is not served).
  std::shared_ptr<const WebFile> Find(std::string_view path) const;
  size_t embedded_count() const { return files_ ? files_->size() : 0; }

 private:
  std::string dir_;  // set: read from disk (canonical)
  std::shared_ptr<const std::unordered_map<std::string, std::shared_ptr<const WebFile>>> files_;
};

}  // namespace mgteam::server
