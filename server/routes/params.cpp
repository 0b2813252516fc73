#include "routes/params.h"

#include "mgteam/clock.h"
#include "mgteam/ids.h"

#include <charconv>

namespace mgteam::server {
namespace {

std::optional<int64_t> ParseInt(const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<int> LimitParam(const Request& r, int default_limit, int max_limit) {
  auto raw = r.Query("limit");
  if (!raw) return default_limit;
  auto v = ParseInt(*raw);
  if (!v || *v < 1 || *v > max_limit)
    return Status::BadRequest("invalid_parameter",
                              "limit must be an integer from 1 to " + std::to_string(max_limit))
        .with("parameter", "limit");
  return static_cast<int>(*v);
}

Result<bool> BoolParam(const Request& r, const std::string& name) {
  auto raw = r.Query(name);
  if (!raw) return false;
  if (*raw == "true" || *raw == "1") return true;
  if (*raw == "false" || *raw == "0") return false;
  return Status::BadRequest("invalid_parameter", name + " must be true or false")
      .with("parameter", name);
}

std::string CursorString(const std::string& created_at, const std::string& id) {
  return created_at + "_" + id;
}

Result<std::optional<PageCursor>> CursorParam(const Request& r) {
  auto raw = r.Query("cursor");
  if (!raw || raw->empty()) return std::optional<PageCursor>();
  auto sep = raw->rfind('_');
  auto bad = Status::BadRequest("invalid_parameter", "cursor is not one this server returned")
                 .with("parameter", "cursor");
  if (sep == std::string::npos) return bad;
  std::string at = raw->substr(0, sep);
  auto id = NormalizeUuid(raw->substr(sep + 1));
  if (!id || !ParseRfc3339(at)) return bad;
  return std::optional<PageCursor>(PageCursor{at, *id});
}

Result<std::string> IdParam(const Request& r, const std::string& name, const std::string& what) {
  auto id = NormalizeUuid(r.Param(name));
  if (!id) return Status::NotFound("no " + what + " '" + r.Param(name) + "' in this workspace");
  return *id;
}

Result<std::optional<int64_t>> SeqParam(const Request& r, const std::string& name) {
  auto raw = r.Query(name);
  if (!raw) return std::optional<int64_t>();
  auto v = ParseInt(*raw);
  if (!v || *v < 0)
    return Status::BadRequest("invalid_parameter", name + " must be a non-negative integer")
        .with("parameter", name);
  return std::optional<int64_t>(*v);
}

}  // namespace mgteam::server
