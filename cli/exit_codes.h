// The CLI's exit codes (documented in man/mgteam.1 and the README), and the
// one table that maps an error to its code.
#pragma once

#include "mgteam/status.h"

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

}  // namespace mgteam::cli
