// OpenBus: which Bus an instance uses (docs/deploy.md).
//
//   --redis redis://host:port    Redis pub/sub between instances
//   --db postgres://...          otherwise LISTEN/NOTIFY on that database
//   --db sqlite:...              one instance: the in-process LocalBus
#pragma once

#include "bus/bus.h"
#include "mgteam/status.h"

#include <memory>
#include <string>

namespace mgteam::server {

Result<std::unique_ptr<Bus>> OpenBus(const std::string& redis_url, const std::string& db_url);

}  // namespace mgteam::server
