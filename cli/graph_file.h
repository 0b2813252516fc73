// Graph files in and out (docs/import-export.md): MemoryGraph's JSON export
// (`format_version` "2.0") and mgteam's own lossless export. Pure: a parsed
// file in, the batch items to send out; the records of a workspace in, a
// file's JSON out. `mgteam import` / `mgteam export` do the I/O.
#pragma once

#include "mgteam/model.h"
#include "mgteam/status.h"

#include <string>
#include <vector>

namespace mgteam::cli {

using nlohmann::json;

struct ImportPlan {
  std::string format;               // "memorygraph" or "mgteam"
  std::vector<json> memories;       // create bodies, ids and times kept
  std::vector<json> relationships;  // create bodies
  struct Skipped {
    std::string kind;  // "memory" or "relationship"
    std::string id;    // as the file names it
    std::string reason;
  };
  std::vector<Skipped> skipped;  // dangling, duplicate, deleted or invalid entries
  int mapped_ids = 0;            // ids that were not UUIDs, mapped (the original kept in context.original_id)
};

// Reads either format. Ids that are UUIDs are kept; others are mapped to a
// UUID derived from them (MappedId), the same on every run, so importing a
// file twice changes nothing. Times are normalised to UTC milliseconds;
// missing or unreadable ones are left to the server (now). A relationship
// whose end is not in the file is skipped as dangling.
Result<ImportPlan> PlanImport(const json& file);

// A UUID (version 5 layout) derived from `original` with SHA-256.
std::string MappedId(const std::string& original);

// The workspace's live records as MemoryGraph's export (its keys; ours add
// more), or as mgteam's own (every field, tombstones included if given).
json ExportMemoryGraph(const std::vector<Memory>& memories, const std::vector<Relationship>& relationships,
                       const std::string& now);
json ExportMgteam(const json& workspace, const std::vector<Memory>& memories,
                  const std::vector<Relationship>& relationships, const std::string& now);

}  // namespace mgteam::cli
