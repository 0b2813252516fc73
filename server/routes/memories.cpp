// Memories and relationships of a workspace.
#include "domain/memories.h"
#include "mgteam/ids.h"
#include "mgteam/text.h"
#include "mgteam/validate.h"
#include "routes/params.h"
#include "routes/routes.h"

namespace mgteam::server {
namespace {

constexpr int kDefaultPage = 50;
constexpr int kMaxPage = 500;

template <class T>
json PageJson(const char* key, const std::vector<T>& rows, int limit, int64_t head) {
  json items = json::array();
  for (const auto& x : rows) items.push_back(x.ToJson());
  json out = {{key, items}, {"head_seq", head}};
  out["next_cursor"] = static_cast<int>(rows.size()) == limit
                           ? json(CursorString(rows.back().created_at, rows.back().id))
                           : json(nullptr);
  return out;
}

// The memory, plus the conflict records the change created (if any).
json WithConflicts(const ChangeOutcome& done) {
  json j = done.memory.ToJson();
  if (!done.conflicts.empty()) {
    j["conflicts"] = json::array();
    for (const auto& c : done.conflicts) j["conflicts"].push_back(c.ToJson());
  }
  return j;
}

Result<Reply> ListMemories(Request& r) {
  MemoryQuery q;
  q.workspace_id = r.workspace().id;
  MG_ASSIGN_OR_RETURN(q.limit, LimitParam(r, kDefaultPage, kMaxPage));
  MG_ASSIGN_OR_RETURN(q.after, CursorParam(r));
  MG_ASSIGN_OR_RETURN(q.include_deleted, BoolParam(r, "include_deleted"));
  if (auto t = r.Query("type")) {
    if (!IsMemoryType(*t))
      return Status::BadRequest("invalid_parameter", "unknown memory type '" + *t + "'")
          .with("parameter", "type");
    q.type = *t;
  }
  // "tag=a,b": memories with both.
  if (auto tag = r.Query("tag")) {
    MG_ASSIGN_OR_RETURN(q.tags, NormalizeTags(SplitList(*tag)));
  }
  std::vector<Memory> rows;
  int64_t head = 0;
  MG_RETURN_IF_ERROR(r.store().Read([&](Tx& tx) -> Status {
    MG_ASSIGN_OR_RETURN(rows, tx.ListMemories(q));
    MG_ASSIGN_OR_RETURN(auto ws, tx.FindWorkspace(q.workspace_id));
    head = ws ? ws->head_seq : 0;
    return Status::Ok();
  }));
  return Reply{200, PageJson("memories", rows, q.limit, head)};
}

Result<Reply> CreateMemoryRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(Memory draft, ParseMemoryCreate(r.body()));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(Memory m, CreateMemory(tx, r.actor(), r.workspace().id, draft));
    return Reply{201, m.ToJson()};
  });
}

Result<Reply> GetMemory(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string id, IdParam(r, "id", "memory"));
  MG_ASSIGN_OR_RETURN(bool include_deleted, BoolParam(r, "include_deleted"));
  MG_ASSIGN_OR_RETURN(auto m, r.store().ReadValue<std::optional<Memory>>(
                                  [&](Tx& tx) { return tx.FindMemory(r.workspace().id, id); }));
  if (!m || (m->deleted && !include_deleted))
    return Status::NotFound("no memory " + id + " in this workspace");
  return Reply{200, m->ToJson()};
}

Result<Reply> UpdateMemoryRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string id, IdParam(r, "id", "memory"));
  MG_ASSIGN_OR_RETURN(MemoryPatch patch, ParseMemoryPatch(r.body()));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(ChangeOutcome done, UpdateMemory(tx, r.actor(), r.workspace().id, id, patch));
    if (done.hit_tombstone) {
      // Committed: the conflict record keeps the update so it can restore
      // the memory; the caller learns where it is.
      const std::string& cid = done.conflicts.front().id;
      return Reply{409, ErrorBody(Status::Conflict("memory_deleted", "memory " + id +
                                                                         " was deleted; your update is kept in "
                                                                         "conflict " + cid + " and can restore it")
                                      .with("id", id)
                                      .with("conflict_id", cid))};
    }
    return Reply{200, WithConflicts(done)};
  });
}

Result<Reply> DeleteMemoryRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string id, IdParam(r, "id", "memory"));
  MG_ASSIGN_OR_RETURN(auto base, SeqParam(r, "base_version"));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(ChangeOutcome done, DeleteMemory(tx, r.actor(), r.workspace().id, id, base));
    return Reply{200, WithConflicts(done)};
  });
}

Result<Reply> ListRelationships(Request& r) {
  RelationshipQuery q;
  q.workspace_id = r.workspace().id;
  MG_ASSIGN_OR_RETURN(q.limit, LimitParam(r, kDefaultPage, kMaxPage));
  MG_ASSIGN_OR_RETURN(q.after, CursorParam(r));
  MG_ASSIGN_OR_RETURN(q.include_deleted, BoolParam(r, "include_deleted"));
  if (auto t = r.Query("type")) {
    if (!IsRelationshipType(*t))
      return Status::BadRequest("invalid_parameter", "unknown relationship type '" + *t + "'")
          .with("parameter", "type");
    q.type = *t;
  }
  if (auto m = r.Query("memory_id")) {
    auto id = NormalizeUuid(*m);
    if (!id)
      return Status::BadRequest("invalid_parameter", "memory_id must be a UUID")
          .with("parameter", "memory_id");
    q.memory_id = *id;
  }
  std::vector<Relationship> rows;
  int64_t head = 0;
  MG_RETURN_IF_ERROR(r.store().Read([&](Tx& tx) -> Status {
    MG_ASSIGN_OR_RETURN(rows, tx.ListRelationships(q));
    MG_ASSIGN_OR_RETURN(auto ws, tx.FindWorkspace(q.workspace_id));
    head = ws ? ws->head_seq : 0;
    return Status::Ok();
  }));
  return Reply{200, PageJson("relationships", rows, q.limit, head)};
}

Result<Reply> CreateRelationshipRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(Relationship draft, ParseRelationshipCreate(r.body()));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(Relationship rel, CreateRelationship(tx, r.actor(), r.workspace().id, draft));
    return Reply{201, rel.ToJson()};
  });
}

// Undoes a delete (`mgteam memory restore`). The memory's relationships stay
// deleted: each was a statement someone may not want back. Restoring a live
// memory changes nothing and answers it as it is.
Result<Reply> RestoreMemoryRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string id, IdParam(r, "id", "memory"));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(Memory m, RestoreMemory(tx, r.actor(), r.workspace().id, id, MemoryPatch{}));
    return Reply{200, m.ToJson()};
  });
}

Result<Reply> GetRelationship(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string id, IdParam(r, "id", "relationship"));
  MG_ASSIGN_OR_RETURN(bool include_deleted, BoolParam(r, "include_deleted"));
  MG_ASSIGN_OR_RETURN(auto rel, r.store().ReadValue<std::optional<Relationship>>(
                                    [&](Tx& tx) { return tx.FindRelationship(r.workspace().id, id); }));
  if (!rel || (rel->deleted && !include_deleted))
    return Status::NotFound("no relationship " + id + " in this workspace");
  return Reply{200, rel->ToJson()};
}

Result<Reply> UpdateRelationshipRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string id, IdParam(r, "id", "relationship"));
  MG_ASSIGN_OR_RETURN(RelationshipPatch patch, ParseRelationshipPatch(r.body()));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(Relationship rel, UpdateRelationship(tx, r.actor(), r.workspace().id, id, patch));
    return Reply{200, rel.ToJson()};
  });
}

Result<Reply> DeleteRelationshipRoute(Request& r) {
  MG_ASSIGN_OR_RETURN(std::string id, IdParam(r, "id", "relationship"));
  return r.Write([&](Tx& tx) -> Result<Reply> {
    MG_ASSIGN_OR_RETURN(Relationship rel, DeleteRelationship(tx, r.actor(), r.workspace().id, id));
    return Reply{200, rel.ToJson()};
  });
}

}  // namespace

void AddMemoryRoutes(Router& router) {
  const std::string base = "/api/v1/workspaces/{ws}/memories";
  router.Add({"GET", base, Access::kWorkspace, Permission::kMemoryRead, "", "List memories", ListMemories});
  router.Add({"POST", base, Access::kWorkspace, Permission::kMemoryWrite, "", "Add a memory",
              CreateMemoryRoute});
  router.Add({"GET", base + "/{id}", Access::kWorkspace, Permission::kMemoryRead, "", "One memory",
              GetMemory});
  router.Add({"PATCH", base + "/{id}", Access::kWorkspace, Permission::kMemoryWrite, "",
              "Update a memory", UpdateMemoryRoute});
  router.Add({"DELETE", base + "/{id}", Access::kWorkspace, Permission::kMemoryDelete, "",
              "Delete a memory (tombstone)", DeleteMemoryRoute});
  // Undoing a delete needs the right to delete.
  router.Add({"POST", base + "/{id}/restore", Access::kWorkspace, Permission::kMemoryDelete, "",
              "Restore a deleted memory", RestoreMemoryRoute});
}

void AddRelationshipRoutes(Router& router) {
  const std::string base = "/api/v1/workspaces/{ws}/relationships";
  router.Add({"GET", base, Access::kWorkspace, Permission::kMemoryRead, "", "List relationships",
              ListRelationships});
  router.Add({"POST", base, Access::kWorkspace, Permission::kMemoryWrite, "", "Relate two memories",
              CreateRelationshipRoute});
  router.Add({"GET", base + "/{id}", Access::kWorkspace, Permission::kMemoryRead, "",
              "One relationship", GetRelationship});
  router.Add({"PATCH", base + "/{id}", Access::kWorkspace, Permission::kMemoryWrite, "",
              "Update a relationship", UpdateRelationshipRoute});
  router.Add({"DELETE", base + "/{id}", Access::kWorkspace, Permission::kMemoryDelete, "",
              "Delete a relationship (tombstone)", DeleteRelationshipRoute});
}

}  // namespace mgteam::server
