// RowDigest: a fingerprint of a workspace's live rows, computed the same way
// by the server (GET /workspaces/{ws}/digest) and by a replica over the
// server state it holds, so `mgteam sync verify` can tell in one request
// whether the two agree (docs/team-sync.md, "Verifying a replica").
//
// The rule: feed the rows in ascending id order; each contributes the
// SHA-256 of its canonical JSON (Memory::ToJson / Relationship::ToJson,
// keys sorted, as nlohmann dumps them) followed by a newline; the digest is
// the lower-case hex SHA-256 of those concatenated row hashes. Only live rows
// (deleted = false) count: a snapshot carries no tombstones, so a replica
// that followed the log and one that loaded a snapshot must agree.
#pragma once

#include "mgteam/model.h"

#include <cstdint>
#include <memory>
#include <string>

namespace mgteam {

// The hex SHA-256 of one row's canonical JSON.
std::string RowHash(const json& row);

class RowDigest {
 public:
  RowDigest();
  ~RowDigest();
  RowDigest(RowDigest&&) noexcept;
  RowDigest& operator=(RowDigest&&) noexcept;

  // Rows must come in ascending id order; deleted rows are skipped.
  void Add(const Memory& m);
  void Add(const Relationship& r);
  int64_t count() const { return count_; }
  // The digest so far (the object stays usable).
  std::string Hex() const;
  // {"count": N, "digest": "hex"}
  json ToJson() const;

 private:
  void AddRow(const json& row);
  struct State;
  std::unique_ptr<State> state_;
  int64_t count_ = 0;
};

}  // namespace mgteam
