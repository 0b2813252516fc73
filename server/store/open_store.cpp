#include "store/open_store.h"

#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace mgteam::server {

bool IsPostgresUrl(const std::string& url) {
  return url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
}

std::string RedactedDatabaseUrl(const std::string& url) {
  // scheme://user:password@host...?password=...: only passwords go.
  std::string out = url;
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    size_t end = out.find('&', p);
    out.replace(p + 9, (end == std::string::npos ? out.size() : end) - (p + 9), "***");
  }
  size_t scheme = out.find("://");
  if (scheme == std::string::npos) return out;
  size_t at = out.rfind('@');
  if (at == std::string::npos || at < scheme) return out;
  size_t colon = out.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return out;
  return out.substr(0, colon + 1) + "***" + out.substr(at);
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& url, const StoreOptions& options) {
  if (url.rfind("sqlite:", 0) == 0) {
    std::string path = url.substr(7);
    if (path.rfind("//", 0) == 0) path = path.substr(2);  // sqlite:///abs/path
    MG_ASSIGN_OR_RETURN(auto store, SqliteStore::Open(path, options.sqlite_synchronous));
    return std::unique_ptr<Store>(std::move(store));
  }
  if (IsPostgresUrl(url)) {
    MG_ASSIGN_OR_RETURN(auto store, PostgresStore::Open(url, options));
    return std::unique_ptr<Store>(std::move(store));
  }
  return Status::Invalid("invalid_config",
                         "unknown database URL " + RedactedDatabaseUrl(url) +
                             "; use sqlite:/path/to/file.db or postgres://user@host:port/dbname");
}

}  // namespace mgteam::server
