#include "web_files.h"

#include "auth.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace mgteam::server {
namespace {

WebFile Describe(std::string_view path, std::string body) {
  WebFile f;
  f.content_type = std::string(ContentTypeFor(path));
  // Built by append: GCC 12 reports a false -Wrestrict (bug 105329) for
  // assigning or concatenating short literals here.
  const std::string hash = HashHex(body);
  f.etag.reserve(34);
  f.etag.push_back('"');
  f.etag.append(hash, 0, 32);
  f.etag.push_back('"');
  f.body = std::move(body);
  return f;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view ContentTypeFor(std::string_view path) {
  struct Kind {
    std::string_view ext, type;
  };
  static constexpr Kind kKinds[] = {
      {".html", "text/html; charset=utf-8"},     {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},                  {".png", "image/png"},
      {".json", "application/json"},              {".webmanifest", "application/manifest+json"},
      {".txt", "text/plain; charset=utf-8"},      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"}};
  for (const auto& k : kKinds)
    if (EndsWith(path, k.ext)) return k.type;
  return "application/octet-stream";
}

std::string SafeWebPath(std::string_view p) {
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  if (p.empty() || p.size() > 200) return "";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string_view::npos) end = p.size();
    std::string_view seg = p.substr(start, end - start);
    // Empty segments ("a//b"), "." and "..", and hidden files are never ours.
    if (seg.empty() || seg.front() == '.') return "";
    for (char c : seg)
      if (c == '\\' || c == '\0' || static_cast<unsigned char>(c) < 0x20) return "";
    start = end + 1;
  }
  return std::string(p);
}

WebFiles WebFiles::Embedded() {
  auto files = std::make_shared<std::unordered_map<std::string, WebFile>>();
  for (const auto& f : EmbeddedWebFiles())
    files->emplace(std::string(f.path), Describe(f.path, std::string(f.bytes)));
  WebFiles w;
  w.files_ = std::move(files);
  return w;
}

WebFiles WebFiles::FromDirectory(std::string dir) {
  WebFiles w;
  w.dir_ = std::move(dir);
  return w;
}

std::optional<WebFile> WebFiles::Find(std::string_view path) const {
  const std::string safe = SafeWebPath(path);
  if (safe.empty()) return std::nullopt;
  if (dir_.empty()) {
    auto it = files_->find(safe);
    if (it == files_->end()) return std::nullopt;
    return it->second;
  }
  const std::string file = dir_ + "/" + safe;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream body;
  body << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return Describe(safe, body.str());
}

}  // namespace mgteam::server
