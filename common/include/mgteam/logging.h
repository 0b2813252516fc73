// Logging for the daemons (server, agent): spdlog to stderr or a file, as
// text or as one JSON object per line.
#pragma once

#include "mgteam/status.h"

#include <string>

namespace mgteam {

// `level`: trace debug info warn error off; `format`: text | json;
// `file`: append there instead of stderr when not empty.
Status SetUpLogging(const std::string& level, const std::string& format, const std::string& file = "");

}  // namespace mgteam
