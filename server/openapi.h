// The OpenAPI 3 document (server/openapi.json, compiled in at build time).
#pragma once

#include <string_view>

namespace mgteam::server {

std::string_view OpenApiDocument();

}  // namespace mgteam::server
