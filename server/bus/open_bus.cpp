#include "bus/open_bus.h"

#include "bus/postgres_link.h"
#include "bus/redis_link.h"
#include "bus/shared_bus.h"
#include "store/open_store.h"

namespace mgteam::server {

Result<std::unique_ptr<Bus>> OpenBus(const std::string& redis_url, const std::string& db_url) {
  if (!redis_url.empty()) {
    if (!IsPostgresUrl(db_url))
      return Status::Invalid("invalid_config",
                             "--redis connects several instances sharing one PostgreSQL database; "
                             "with SQLite there is one instance: omit --redis, or use --db postgres://...");
    MG_ASSIGN_OR_RETURN(RedisAddress address, ParseRedisUrl(redis_url));
    return std::unique_ptr<Bus>(std::make_unique<SharedBus>(std::make_unique<RedisLink>(address)));
  }
  if (IsPostgresUrl(db_url))
    return std::unique_ptr<Bus>(std::make_unique<SharedBus>(std::make_unique<PostgresLink>(db_url)));
  return std::unique_ptr<Bus>(std::make_unique<LocalBus>());
}

}  // namespace mgteam::server
