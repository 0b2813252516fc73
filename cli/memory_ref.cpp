#include "memory_ref.h"

#include "mgteam/ids.h"

namespace mgteam::cli {

Result<std::string> ResolveMemoryId(Local& l, const std::string& ref, bool include_deleted) {
  if (auto id = NormalizeUuid(ref)) return *id;
  if (ref.size() < kMinIdPrefix)
    return Status::NotFound("no memory " + ref + " in " + l.ws.name + "; give the id, or at least its first " +
                            std::to_string(kMinIdPrefix) + " characters");
  MG_ASSIGN_OR_RETURN(auto heads, l.replica->MemoriesByIdPrefix(l.ws.id, ref, include_deleted, 6));
  if (heads.size() == 1) return heads.front().id;
  if (heads.empty()) return Status::NotFound("no memory " + ref + " in " + l.ws.name);
  std::string list;
  for (size_t i = 0; i < heads.size() && i < 5; ++i) list += "\n  " + heads[i].id + "  " + heads[i].title;
  return Status::Invalid("ambiguous_id", "'" + ref + "' is the start of several memories' ids in " + l.ws.name +
                                             "; give more of it:" + list + (heads.size() > 5 ? "\n  ..." : ""));
}

}  // namespace mgteam::cli
