#include "domain/memories.h"

#include "mgteam/clock.h"
#include "mgteam/ids.h"

namespace mgteam::server {
namespace {

// Clients may stamp creation times (offline writes, imports), but never in
// the future: that would reorder listings for everyone else.
std::string ClampToNow(const std::string& client_time, const std::string& now) {
  return !client_time.empty() && client_time < now ? client_time : now;
}

Status StaleBase(int64_t base, int64_t current) {
  return Status::Conflict("version_conflict",
                          "this update was based on version " + std::to_string(base) +
                              " but the current version is " + std::to_string(current) +
                              "; fetch it again and reapply your change")
      .with("current_version", current);
}

// The names of the fields whose values differ.
json ChangedMemoryFields(const Memory& a, const Memory& b) {
  json changed = json::array();
  if (a.type != b.type) changed.push_back("type");
  if (a.title != b.title) changed.push_back("title");
  if (a.content != b.content) changed.push_back("content");
  if (a.summary != b.summary) changed.push_back("summary");
  if (a.tags != b.tags) changed.push_back("tags");
  if (a.importance != b.importance) changed.push_back("importance");
  if (a.confidence != b.confidence) changed.push_back("confidence");
  if (a.context != b.context) changed.push_back("context");
  return changed;
}

json ChangedRelationshipFields(const Relationship& a, const Relationship& b) {
  json changed = json::array();
  if (a.type != b.type) changed.push_back("type");
  if (a.strength != b.strength) changed.push_back("strength");
  if (a.confidence != b.confidence) changed.push_back("confidence");
  if (a.context != b.context) changed.push_back("context");
  if (a.evidence_count != b.evidence_count) changed.push_back("evidence_count");
  return changed;
}

Result<Memory> LiveMemory(Tx& tx, const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto m, tx.FindMemory(ws, id));
  if (!m || m->deleted) return Status::NotFound("no memory " + id + " in this workspace");
  return std::move(*m);
}

}  // namespace

Result<Memory> CreateMemory(Tx& tx, const Actor& a, const std::string& ws, Memory m) {
  if (m.id.empty()) m.id = NewUuidV7();
  MG_ASSIGN_OR_RETURN(auto existing, tx.FindMemory(ws, m.id));
  if (existing)
    return Status::Conflict("already_exists", "a memory with id " + m.id + " already exists")
        .with("id", m.id);
  std::string now = NowRfc3339();
  m.workspace_id = ws;
  m.created_at = ClampToNow(m.created_at, now);
  m.updated_at = now;
  m.created_by = m.updated_by = a.user_id;
  m.version = 1;
  m.deleted = false;
  MG_RETURN_IF_ERROR(tx.InsertMemory(m));
  MG_RETURN_IF_ERROR(Record(tx, a, ws, "memory_created", "memory", m.id, m.ToJson()).status());
  return m;
}

Result<Memory> UpdateMemory(Tx& tx, const Actor& a, const std::string& ws, const std::string& id,
                            const MemoryPatch& patch) {
  MG_ASSIGN_OR_RETURN(auto found, tx.FindMemory(ws, id));
  if (!found) return Status::NotFound("no memory " + id + " in this workspace");
  Memory m = std::move(*found);
  if (m.deleted)
    return Status::Conflict("memory_deleted", "memory " + id + " was deleted").with("id", id);
  if (patch.base_version && *patch.base_version != m.version)
    return StaleBase(*patch.base_version, m.version);
  Memory next = m;
  ApplyPatch(next, patch);
  json changed = ChangedMemoryFields(m, next);
  if (changed.empty()) return m;
  next.version = m.version + 1;
  next.updated_by = a.user_id;
  next.updated_at = NowRfc3339();
  MG_RETURN_IF_ERROR(tx.UpdateMemory(next));
  MG_RETURN_IF_ERROR(Record(tx, a, ws, "memory_updated", "memory", id, next.ToJson(),
                            {{"changed", changed}, {"base_version", m.version}})
                         .status());
  return next;
}

Result<Memory> DeleteMemory(Tx& tx, const Actor& a, const std::string& ws, const std::string& id) {
  MG_ASSIGN_OR_RETURN(Memory m, LiveMemory(tx, ws, id));
  std::string now = NowRfc3339();
  m.deleted = true;
  m.version += 1;
  m.updated_by = a.user_id;
  m.updated_at = now;
  MG_RETURN_IF_ERROR(tx.UpdateMemory(m));
  MG_RETURN_IF_ERROR(Record(tx, a, ws, "memory_deleted", "memory", id, m.ToJson()).status());
  // A relationship to nothing is meaningless: tombstone the memory's edges too.
  RelationshipQuery q;
  q.workspace_id = ws;
  q.memory_id = id;
  q.limit = 1 << 30;
  MG_ASSIGN_OR_RETURN(auto rels, tx.ListRelationships(q));
  for (auto& r : rels) {
    r.deleted = true;
    r.version += 1;
    r.updated_by = a.user_id;
    r.updated_at = now;
    MG_RETURN_IF_ERROR(tx.UpdateRelationship(r));
    MG_RETURN_IF_ERROR(Record(tx, a, ws, "relationship_deleted", "relationship", r.id, r.ToJson(),
                              {{"cause", "memory_deleted"}})
                           .status());
  }
  return m;
}

Result<Relationship> CreateRelationship(Tx& tx, const Actor& a, const std::string& ws,
                                        Relationship r) {
  if (r.id.empty()) r.id = NewUuidV7();
  for (const auto* field : {&r.from_memory_id, &r.to_memory_id}) {
    MG_ASSIGN_OR_RETURN(auto m, tx.FindMemory(ws, *field));
    if (!m || m->deleted)
      return Status::Invalid("memory_not_found", "no memory " + *field + " in this workspace")
          .with("field", field == &r.from_memory_id ? "from_memory_id" : "to_memory_id");
  }
  MG_ASSIGN_OR_RETURN(auto existing, tx.FindRelationship(ws, r.id));
  if (existing)
    return Status::Conflict("already_exists", "a relationship with id " + r.id + " already exists")
        .with("id", r.id);
  MG_ASSIGN_OR_RETURN(auto twin, tx.FindLiveRelationship(ws, r.from_memory_id, r.to_memory_id, r.type));
  if (twin)
    return Status::Conflict("relationship_exists",
                            "these memories are already related by " + r.type + " (" + twin->id + ")")
        .with("id", twin->id);
  std::string now = NowRfc3339();
  r.workspace_id = ws;
  r.created_at = r.updated_at = now;
  r.created_by = r.updated_by = a.user_id;
  r.version = 1;
  r.deleted = false;
  MG_RETURN_IF_ERROR(tx.InsertRelationship(r));
  MG_RETURN_IF_ERROR(
      Record(tx, a, ws, "relationship_created", "relationship", r.id, r.ToJson()).status());
  return r;
}

Result<Relationship> UpdateRelationship(Tx& tx, const Actor& a, const std::string& ws,
                                        const std::string& id, const RelationshipPatch& patch) {
  MG_ASSIGN_OR_RETURN(auto found, tx.FindRelationship(ws, id));
  if (!found) return Status::NotFound("no relationship " + id + " in this workspace");
  Relationship r = std::move(*found);
  if (r.deleted)
    return Status::Conflict("relationship_deleted", "relationship " + id + " was deleted")
        .with("id", id);
  if (patch.base_version && *patch.base_version != r.version)
    return StaleBase(*patch.base_version, r.version);
  Relationship next = r;
  ApplyPatch(next, patch);
  json changed = ChangedRelationshipFields(r, next);
  if (changed.empty()) return r;
  if (next.type != r.type) {
    MG_ASSIGN_OR_RETURN(auto twin,
                        tx.FindLiveRelationship(ws, r.from_memory_id, r.to_memory_id, next.type));
    if (twin)
      return Status::Conflict("relationship_exists", "these memories are already related by " +
                                                         next.type + " (" + twin->id + ")")
          .with("id", twin->id);
  }
  next.version = r.version + 1;
  next.updated_by = a.user_id;
  next.updated_at = NowRfc3339();
  MG_RETURN_IF_ERROR(tx.UpdateRelationship(next));
  MG_RETURN_IF_ERROR(Record(tx, a, ws, "relationship_updated", "relationship", id, next.ToJson(),
                            {{"changed", changed}, {"base_version", r.version}})
                         .status());
  return next;
}

Result<Relationship> DeleteRelationship(Tx& tx, const Actor& a, const std::string& ws,
                                        const std::string& id) {
  MG_ASSIGN_OR_RETURN(auto found, tx.FindRelationship(ws, id));
  if (!found || found->deleted) return Status::NotFound("no relationship " + id + " in this workspace");
  Relationship r = std::move(*found);
  r.deleted = true;
  r.version += 1;
  r.updated_by = a.user_id;
  r.updated_at = NowRfc3339();
  MG_RETURN_IF_ERROR(tx.UpdateRelationship(r));
  MG_RETURN_IF_ERROR(
      Record(tx, a, ws, "relationship_deleted", "relationship", id, r.ToJson()).status());
  return r;
}

}  // namespace mgteam::server
