// Invitation links as `mgteam invite` prints them and people paste them:
// "http://HOST:PORT/join/mgi_...", or the bare "mgi_..." token.
#pragma once

#include "mgteam/api_client.h"
#include "mgteam/status.h"

#include <optional>
#include <string>

namespace mgteam::cli {

struct InvitationLink {
  std::string token;                // "mgi_..."
  std::optional<ServerUrl> server;  // the server the link names; none for a bare token

  // The link (or the bare token) without what came along when pasted, to
  // show in a command to run.
  std::string ToString() const;
};

// Reads the link or the bare token out of what was pasted: surrounding
// whitespace, quotes and angle brackets, and whatever follows the token
// (a full stop, a closing parenthesis, a newline) are ignored. Anything
// else is a usage error (exit 2) saying what an invitation looks like.
Result<InvitationLink> ParseInvitationLink(const std::string& text);

}  // namespace mgteam::cli
