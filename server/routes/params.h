// Query-parameter parsing shared by the listing routes.
#pragma once

#include "http/router.h"

#include <optional>
#include <string>

namespace mgteam::server {

// ?limit=N within 1..max (default when absent).
Result<int> LimitParam(const Request& r, int default_limit, int max_limit);
// ?name=true|false|1|0 (false when absent).
Result<bool> BoolParam(const Request& r, const std::string& name);
// ?cursor=<created_at>_<id> as next_cursor returns it.
Result<std::optional<PageCursor>> CursorParam(const Request& r);
std::string CursorString(const std::string& created_at, const std::string& id);
// A path parameter that must be a UUID; 404 `what` otherwise.
Result<std::string> IdParam(const Request& r, const std::string& name, const std::string& what);
// ?name=<non-negative integer>.
Result<std::optional<int64_t>> SeqParam(const Request& r, const std::string& name);

}  // namespace mgteam::server
