// Server logging: spdlog to stderr, as text or as one JSON object per line.
#pragma once

#include "mgteam/status.h"

#include <string>

namespace mgteam::server {

// `level`: trace debug info warn error off; `format`: text | json.
Status SetUpLogging(const std::string& level, const std::string& format);

}  // namespace mgteam::server
