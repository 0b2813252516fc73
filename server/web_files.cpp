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
  auto files = std::make_shared<std::unordered_map<std::string, std::shared_ptr<const WebFile>>>();
  for (const auto& f : EmbeddedWebFiles())
    files->emplace(std::string(f.path), std::make_shared<const WebFile>(Describe(f.path, std::string(f.bytes))));
  WebFiles w;
  w.files_ = std::move(files);
  return w;
}

WebFiles WebFiles::FromDirectory(std::string dir) {
  WebFiles w;
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(dir, ec);
  w.dir_ = ec ? std::move(dir) : canonical.string();
  return w;
}

std::shared_ptr<const WebFile> WebFiles::Find(std::string_view path) const {
  const std::string safe = SafeWebPath(path);
  if (safe.empty()) return nullptr;
  if (dir_.empty()) {
    auto it = files_->find(safe);
    return it == files_->end() ? nullptr : it->second;
  }
  // Resolved first, then opened by its resolved name: a symlink may point
  // within the directory, never out of it.
  std::error_code ec;
  const auto file = std::filesystem::weakly_canonical(std::filesystem::path(dir_) / safe, ec);
  if (ec || !std::filesystem::is_regular_file(file, ec) || ec) return nullptr;
  const std::string resolved = file.string();
  if (resolved.size() <= dir_.size() || resolved.compare(0, dir_.size(), dir_) != 0 || resolved[dir_.size()] != '/')
    return nullptr;
  std::ifstream in(resolved, std::ios::binary);
  if (!in) return nullptr;
  std::ostringstream body;
  body << in.rdbuf();
  if (in.bad()) return nullptr;
  return std::make_shared<const WebFile>(Describe(safe, body.str()));
}

}  // namespace mgteam::server
