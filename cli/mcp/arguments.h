// Checks a tool call's arguments against the tool's declared input schema
// (the JSON Schema subset our tools use: object properties, required, type,
// enum, minimum/maximum, minLength/maxLength, array items), so that what the
// assistant is told in tools/list is exactly what is enforced.
//
// Errors say how to fix the call ("argument 'max_depth' must be an integer
// from 1 to 5, not 9"): an assistant reads them and retries (docs/mcp.md).
#pragma once

#include "mgteam/status.h"

#include <nlohmann/json.hpp>

namespace mgteam::mcp {

// Ok, or Invalid("invalid_arguments", what to change). Arguments the schema
// does not name are refused too, listing the ones it takes: a misspelt
// parameter would otherwise be ignored without a word.
Status CheckArguments(const nlohmann::json& schema, const nlohmann::json& args);

}  // namespace mgteam::mcp
