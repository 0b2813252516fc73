#include "domain/memories.h"

#include "domain/conflicts.h"
#include "mgteam/clock.h"
#include "mgteam/merge.h"
#include "mgteam/ids.h"

#include <algorithm>

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
  // An import (the batch route) keeps the memory's own last change; never
  // before its creation, never in the future.
  m.updated_at = m.updated_at.empty() ? now : std::max(ClampToNow(m.updated_at, now), m.created_at);
  m.created_by = m.updated_by = a.user_id;
  m.version = 1;
  m.deleted = false;
  MG_RETURN_IF_ERROR(tx.InsertMemory(m));
  MG_RETURN_IF_ERROR(Record(tx, a, ws, "memory_created", "memory", m.id, m.ToJson()).status());
  return m;
}

namespace {

// The memory as it was at `version`, from its log events.
Result<Memory> StateAt(const std::vector<Event>& history, const std::string& id, int64_t version) {
  for (const auto& e : history)
    if (e.entity_type == "memory" && e.entity.value("version", int64_t{0}) == version)
      if (auto m = Memory::FromJson(e.entity)) return *m;
  return Status::Internal("the log has no version " + std::to_string(version) + " of memory " + id);
}

// For each field changed after `base`, the stamp of the last edit that
// changed it.
std::map<std::string, EditStamp> StampsSince(const std::vector<Event>& history, int64_t base) {
  std::map<std::string, EditStamp> out;
  for (const auto& e : history) {
    if (e.entity_type != "memory" || e.entity.value("version", int64_t{0}) <= base) continue;
    EditStamp stamp{e.actor, e.extra.value("edited_at", e.at), e.actor_name};
    if (auto changed = e.extra.find("changed"); changed != e.extra.end() && changed->is_array())
      for (const auto& f : *changed)
        if (f.is_string()) out[f.get<std::string>()] = stamp;
  }
  return out;
}

// A conflict record about memory `id` of `ws`, to be filled in.
Conflict NewConflict(const std::string& kind, const std::string& ws, const std::string& id,
                     const std::string& title) {
  Conflict c;
  c.id = NewUuidV7();
  c.kind = kind;
  c.workspace_id = ws;
  c.memory_id = id;
  c.title = title;
  return c;
}

// The update's own fields (what a conflict record keeps of it).
json PatchFields(const MemoryPatch& patch) {
  json j = patch.ToJson();
  j.erase("base_version");
  j.erase("edited_at");
  return j;
}

}  // namespace

Result<ChangeOutcome> UpdateMemory(Tx& tx, const Actor& a, const std::string& ws, const std::string& id,
                                   const MemoryPatch& patch) {
  MG_ASSIGN_OR_RETURN(auto found, tx.FindMemory(ws, id));
  if (!found) return Status::NotFound("no memory " + id + " in this workspace");
  const Memory m = std::move(*found);
  const std::string now = NowRfc3339();
  const EditStamp mine{a.user_id, ClampToNow(patch.edited_at.value_or(""), now), a.name};
  ChangeOutcome out;
  if (m.deleted) {
    // Delete wins; the update is kept so it can restore the memory.
    Conflict c = NewConflict("update_after_delete", ws, id, m.title);
    c.lost = PatchFields(patch);
    c.lost_by = mine;
    c.kept_by = EditStamp{m.updated_by, m.updated_at, ""};
    MG_ASSIGN_OR_RETURN(auto deleter, tx.FindUser(m.updated_by));
    if (deleter) c.kept_by.name = deleter->name;
    c.memory_version = m.version;
    MG_ASSIGN_OR_RETURN(out.conflicts, RecordConflicts(tx, a, {c}, 0));
    out.memory = m;
    out.hit_tombstone = true;
    return out;
  }
  const int64_t base = patch.base_version.value_or(m.version);
  if (base > m.version)
    return Status::Conflict("version_conflict", "this update was based on version " + std::to_string(base) +
                                                    ", newer than the memory's " + std::to_string(m.version))
        .with("current_version", m.version);

  Memory next = m;
  std::vector<FieldConflict> lost;
  json merge_info;
  if (base == m.version) {
    ApplyPatch(next, patch);
  } else {
    MG_ASSIGN_OR_RETURN(auto history, tx.EntityEvents(ws, id));
    MG_ASSIGN_OR_RETURN(Memory base_state, StateAt(history, id, base));
    MergeResult merged = MergeMemory(base_state, m, patch, mine, StampsSince(history, base));
    next = std::move(merged.merged);
    lost = std::move(merged.conflicts);
    merge_info = {{"mine", merged.mine}, {"theirs", merged.theirs}};
  }
  json changed = ChangedMemoryFields(m, next);
  if (changed.empty() && lost.empty()) {
    out.memory = m;
    return out;
  }
  next.version = m.version + 1;
  next.updated_by = a.user_id;
  next.updated_at = now;

  std::vector<Conflict> records;
  json listed = json::array();
  for (auto& f : lost) {
    Conflict c = NewConflict("field", ws, id, next.title);
    c.field = f.field;
    c.kept = std::move(f.kept);
    c.lost = std::move(f.lost);
    c.kept_by = f.kept_by;
    c.lost_by = f.lost_by;
    c.memory_version = next.version;
    listed.push_back({{"id", c.id}, {"field", c.field}, {"winner", f.mine_kept ? "this edit" : "earlier edit"}});
    records.push_back(std::move(c));
  }
  json extra = {{"changed", changed}, {"base_version", base}, {"edited_at", mine.edited_at}};
  if (!merge_info.is_null()) extra["merge"] = merge_info;
  if (!listed.empty()) extra["conflicts"] = listed;
  MG_RETURN_IF_ERROR(tx.UpdateMemory(next));
  MG_ASSIGN_OR_RETURN(Event e, Record(tx, a, ws, "memory_updated", "memory", id, next.ToJson(), extra));
  MG_ASSIGN_OR_RETURN(out.conflicts, RecordConflicts(tx, a, std::move(records), e.seq));
  out.memory = std::move(next);
  return out;
}

Result<ChangeOutcome> DeleteMemory(Tx& tx, const Actor& a, const std::string& ws, const std::string& id,
                                   std::optional<int64_t> base_version) {
  MG_ASSIGN_OR_RETURN(Memory m, LiveMemory(tx, ws, id));
  const Memory before = m;
  std::string now = NowRfc3339();
  m.deleted = true;
  m.version += 1;
  m.updated_by = a.user_id;
  m.updated_at = now;
  MG_RETURN_IF_ERROR(tx.UpdateMemory(m));
  std::vector<Conflict> records;
  json extra = json::object();
  if (base_version) extra["base_version"] = *base_version;
  if (base_version && *base_version < before.version) {
    // Changes the deleter never saw: keep the state they would destroy.
    Conflict c = NewConflict("delete_over_update", ws, id, before.title);
    c.lost = before.ToJson();
    c.lost_by = EditStamp{before.updated_by, before.updated_at, ""};
    MG_ASSIGN_OR_RETURN(auto editor, tx.FindUser(before.updated_by));
    if (editor) c.lost_by.name = editor->name;
    c.kept_by = EditStamp{a.user_id, now, a.name};
    c.memory_version = m.version;
    extra["conflicts"] = json::array({{{"id", c.id}, {"field", ""}, {"winner", "this edit"}}});
    records.push_back(std::move(c));
  }
  MG_ASSIGN_OR_RETURN(Event e, Record(tx, a, ws, "memory_deleted", "memory", id, m.ToJson(), extra));
  ChangeOutcome out;
  MG_ASSIGN_OR_RETURN(out.conflicts, RecordConflicts(tx, a, std::move(records), e.seq));
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
  out.memory = std::move(m);
  return out;
}

Result<Memory> RestoreMemory(Tx& tx, const Actor& a, const std::string& ws, const std::string& id,
                             const MemoryPatch& patch) {
  MG_ASSIGN_OR_RETURN(auto found, tx.FindMemory(ws, id));
  if (!found) return Status::NotFound("no memory " + id + " in this workspace");
  Memory next = *found;
  ApplyPatch(next, patch);
  json changed = ChangedMemoryFields(*found, next);
  if (!found->deleted && changed.empty()) return next;
  if (found->deleted) changed.push_back("deleted");
  next.deleted = false;
  next.version = found->version + 1;
  next.updated_by = a.user_id;
  next.updated_at = NowRfc3339();
  MG_RETURN_IF_ERROR(tx.UpdateMemory(next));
  MG_RETURN_IF_ERROR(Record(tx, a, ws, found->deleted ? "memory_restored" : "memory_updated", "memory", id,
                            next.ToJson(), {{"changed", changed}, {"base_version", found->version},
                                            {"edited_at", next.updated_at}})
                         .status());
  return next;
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
  // Times given only by an import (the batch route): kept, clamped to now.
  r.created_at = ClampToNow(r.created_at, now);
  r.updated_at = r.updated_at.empty() ? now : std::max(ClampToNow(r.updated_at, now), r.created_at);
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
