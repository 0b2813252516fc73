// Where the client side keeps things (design brief §9):
//   $XDG_DATA_HOME/mgteam/    the replica (one SQLite file per server)
//   $XDG_STATE_HOME/mgteam/   the agent's lock, log, and (without
//                             $XDG_RUNTIME_DIR) its socket; mode 0700
#pragma once

#include "mgteam/status.h"

#include <string>

namespace mgteam::agent {

std::string DataDir();   // created 0700 on demand by EnsurePrivateDir
std::string StateDir();
// The agent's Unix socket: $XDG_RUNTIME_DIR/mgteam/agent.sock, or in StateDir().
std::string SocketPath();
// The replica file for a server URL ("http://127.0.0.1:8474" ->
// DataDir()/127.0.0.1_8474.db).
std::string ReplicaPath(const std::string& server_url);

// Creates `dir` (and parents) and makes it 0700; fails if it is owned by
// someone else.
Status EnsurePrivateDir(const std::string& dir);

}  // namespace mgteam::agent
