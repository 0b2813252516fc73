// Verify: does this machine's replica hold exactly what the server holds?
// (`mgteam sync verify`, and the agent after every reconnect;
// docs/team-sync.md, "Verifying a replica".)
//
// The replica first catches up to the server's head, then compares the
// server's digest of the workspace's live rows (GET .../digest) with one
// computed over the server states it holds. Only when they differ does it
// page through the server's snapshot and compare row by row, field by field.
// What it compares is the server state, not the view: writes still pending
// here are expected to differ, and are never touched by a repair.
#pragma once

#include "replica.h"

#include "mgteam/api_client.h"

#include <string>
#include <vector>

namespace mgteam::agent {

struct Drift {
  std::string entity;  // "memory" | "relationship"
  std::string id;
  std::string field;   // the first differing field; "" when a side lacks the row
  json local;          // this machine's server state of it (null: none)
  json server;         // the server's row (null: no live row)
  json ToJson() const;
};

struct VerifyReport {
  std::string workspace_id;
  int64_t head_seq = 0;
  bool digest_match = false;
  int64_t memories = 0, relationships = 0;  // live rows on the server
  std::vector<Drift> drift;
  int repaired = 0;
  json ToJson() const;
};

// With `repair`, each drifting row's server state is replaced by the
// server's (its pending ops replayed on top, as always).
Result<VerifyReport> Verify(ApiClient& api, Replica& replica, const std::string& ws, bool repair);

}  // namespace mgteam::agent
