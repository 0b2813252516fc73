// The CLI's exit codes (documented in man/mgteam.1 and the README), and the
// one table that maps an error to its code.
#pragma once

#include "mgteam/status.h"

#include <string>

namespace mgteam::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,         // anything else (including rejected input)
  kExitUsage = 2,         // bad command line
  kExitAuth = 3,          // not signed in, or the token is not valid
  kExitForbidden = 4,     // your role does not allow it
  kExitNotFound = 5,      // no such thing (or not visible to you)
  kExitConflict = 6,      // version or state conflict
  kExitQueued = 7,        // saved locally, not yet on the server (offline)
  kExitUnreachable = 8,   // the server could not be reached
};

int ExitCodeFor(const Status& s);

// A command-line mistake only the command itself can see (a flag this case
// needs, no terminal to ask on): exit 2 like the parser's own errors, so a
// script can tell "you called me wrong" from "it failed".
Status UsageError(std::string message);

}  // namespace mgteam::cli
