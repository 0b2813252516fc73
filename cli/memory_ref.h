// Memory ids as people type them: the full id (any case, as printed) or the
// start of one, like git's abbreviated commits. docs/conflicts.md's examples
// use 13-character prefixes; `memory list` prints full ids.
#pragma once

#include "local.h"

#include <string>

namespace mgteam::cli {

// At least this many characters before a prefix is looked up: shorter ones
// match too much to be what anyone meant.
inline constexpr size_t kMinIdPrefix = 4;

// The full id of the memory `ref` names in the workspace of `l`: an exact id
// first, else the one memory whose id starts with `ref`. NotFound when none
// does; "ambiguous_id" (listing a few) when several do. Deleted memories
// count only with `include_deleted`.
Result<std::string> ResolveMemoryId(Local& l, const std::string& ref, bool include_deleted = false);

}  // namespace mgteam::cli
