// Three-way merge of a memory update (design brief §6, ADR 0005).
//
// An update names the version it was based on. When someone else changed the
// memory since, the server merges field by field against that base state:
//
//   - a field only one side changed takes that side's value;
//   - tags merge as a set: both sides' additions and removals apply;
//   - `context` merges per key, each key like a field;
//   - a field both sides changed to different values goes to the later edit
//     (edit timestamps, ties to the larger user id), and the other value is
//     returned as a FieldConflict, to be kept in a conflict record.
//
// Pure: no clock, no store. The server decides once and writes the outcome to
// the change log, so replicas never merge themselves.
#pragma once

#include "mgteam/model.h"
#include "mgteam/validate.h"

#include <map>
#include <string>
#include <vector>

namespace mgteam {

// True when the edit stamped `a` beats the one stamped `b`: the later edit,
// and on a tie the larger user id. Deterministic and total.
bool Wins(const EditStamp& a, const EditStamp& b);

struct FieldConflict {
  std::string field;      // "title", ..., or "context.<key>"
  json kept;              // the value now in the memory (null: key removed)
  json lost;              // the value that lost (null: key removed)
  EditStamp kept_by;
  EditStamp lost_by;
  bool mine_kept = false;  // the incoming update won
};

struct MergeResult {
  Memory merged;                      // current + the merge (version untouched)
  std::vector<std::string> mine;      // fields whose value came from the update
  std::vector<std::string> theirs;    // fields changed since the base, kept as they are
  std::vector<FieldConflict> conflicts;
};

// The fields of a memory that merge (in this order).
const std::vector<std::string>& MergeableFields();

// `base`: the state the update was based on; `current`: the state now;
// `patch`: the update (fields it sets); `mine`: its stamp; `theirs`: for each
// field changed since the base ("context" for any context key), the stamp of
// the last edit that changed it. A field missing from `theirs` uses
// `current`'s updated_by/updated_at.
MergeResult MergeMemory(const Memory& base, const Memory& current, const MemoryPatch& patch,
                        const EditStamp& mine, const std::map<std::string, EditStamp>& theirs);

// A field's value as JSON ("context.<key>" reads one key; absent is null).
json FieldValue(const Memory& m, const std::string& field);

}  // namespace mgteam
