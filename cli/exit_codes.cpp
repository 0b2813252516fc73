#include "exit_codes.h"

namespace mgteam::cli {

int ExitCodeFor(const Status& s) {
  if (s.reason() == "queued") return kExitQueued;
  if (s.reason() == "usage") return kExitUsage;
  switch (s.code()) {
    case Code::kOk: return kExitOk;
    case Code::kUnauthenticated: return kExitAuth;
    case Code::kPermissionDenied: return kExitForbidden;
    case Code::kNotFound: return kExitNotFound;
    case Code::kConflict: return kExitConflict;
    case Code::kUnavailable: return kExitUnreachable;
    case Code::kBadRequest:
    case Code::kInvalid:
    case Code::kPayloadTooLarge:
    // A throttled login: nothing is wrong with the account or the server, and
    // the message says when to try again, so it gets no code of its own.
    case Code::kTooManyRequests:
    case Code::kInternal: return kExitError;
  }
  return kExitError;
}

Status UsageError(std::string message) { return Status::Invalid("usage", std::move(message)); }

}  // namespace mgteam::cli
