#include "domain/conflicts.h"

#include "domain/memories.h"
#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "mgteam/merge.h"
#include "mgteam/validate.h"

namespace mgteam::server {
namespace {

// The fields of a memory a restore may set, from a memory's or an update's
// JSON.
json RestorableFields(const json& j) {
  json out = json::object();
  for (const std::string& f : MergeableFields())
    if (j.is_object() && j.contains(f)) out[f] = j[f];
  return out;
}

}  // namespace

Result<std::vector<Conflict>> RecordConflicts(Tx& tx, const Actor& a, std::vector<Conflict> records, int64_t seq) {
  const std::string now = NowRfc3339();
  for (auto& c : records) {
    if (c.id.empty()) c.id = NewUuidV7();
    c.status = "open";
    c.created_at = now;
    c.seq = seq;
    MG_ASSIGN_OR_RETURN(Event e, Record(tx, a, c.workspace_id, "conflict_created", "conflict", c.id, c.ToJson(),
                                        {{"memory_id", c.memory_id}}));
    if (c.seq == 0) c.seq = e.seq;  // the event that decided it is this one
    MG_RETURN_IF_ERROR(tx.PutConflict(c));
  }
  return records;
}

Result<Resolution> ParseResolution(const json& body) {
  if (!body.is_object()) return Status::Invalid("invalid_body", "the body must be a JSON object");
  for (auto it = body.begin(); it != body.end(); ++it)
    if (it.key() != "keep" && it.key() != "value")
      return Status::Invalid("unknown_field", "unknown field '" + it.key() + "'").with("field", it.key());
  Resolution r;
  auto keep = body.find("keep");
  if (keep == body.end() || !keep->is_string())
    return Status::Invalid("invalid_field", "'keep' must be current, lost or value").with("field", "keep");
  r.keep = keep->get<std::string>();
  if (r.keep != "current" && r.keep != "lost" && r.keep != "value")
    return Status::Invalid("invalid_field", "'keep' must be current, lost or value").with("field", "keep");
  if (r.keep == "value") {
    auto v = body.find("value");
    if (v == body.end()) return Status::Invalid("missing_field", "'value' is required with keep=value").with("field", "value");
    r.value = *v;
  } else if (body.contains("value")) {
    return Status::Invalid("invalid_field", "'value' goes only with keep=value").with("field", "value");
  }
  return r;
}

Result<Resolved> ResolveConflict(Tx& tx, const Actor& a, const std::string& ws, const std::string& id,
                                 const Resolution& how) {
  MG_ASSIGN_OR_RETURN(auto found, tx.FindConflict(ws, id));
  if (!found) return Status::NotFound("no conflict " + id + " in this workspace");
  Conflict c = std::move(*found);
  if (c.status != "open")
    return Status::Conflict("conflict_resolved", "conflict " + id + " was already resolved").with("id", id);
  MG_ASSIGN_OR_RETURN(auto mem, tx.FindMemory(ws, c.memory_id));
  if (!mem) return Status::NotFound("no memory " + c.memory_id + " in this workspace");
  Memory m = std::move(*mem);

  if (how.keep != "current") {
    const json& v = how.keep == "lost" ? c.lost : how.value;
    if (c.kind == "field") {
      if (m.deleted)
        return Status::Conflict("memory_deleted", "memory " + m.id + " was deleted; restore it first")
            .with("id", m.id);
      json body = {{"base_version", m.version}};
      if (c.field.rfind("context.", 0) == 0) {
        json ctx = m.context;
        if (v.is_null()) ctx.erase(c.field.substr(8));
        else ctx[c.field.substr(8)] = v;
        body["context"] = ctx;
      } else {
        body[c.field] = v;
      }
      auto patch = ParseMemoryPatch(body);
      if (!patch.ok() && patch.status().reason() != "empty_update") return patch.status();
      if (patch.ok()) {
        MG_ASSIGN_OR_RETURN(ChangeOutcome done, UpdateMemory(tx, a, ws, m.id, *patch));
        m = std::move(done.memory);
      }
    } else {
      if (!v.is_object())
        return Status::Invalid("invalid_field", "to restore a memory, 'value' must be an object of its fields")
            .with("field", "value");
      json fields = RestorableFields(v);
      MemoryPatch patch;
      if (!fields.empty()) {
        auto parsed = ParseMemoryPatch(fields);
        if (!parsed.ok()) return parsed.status();
        patch = std::move(*parsed);
      }
      MG_ASSIGN_OR_RETURN(m, RestoreMemory(tx, a, ws, m.id, patch));
    }
  }
  c.status = "resolved";
  c.resolution = how.keep;
  c.resolved_by = a.user_id;
  c.resolved_at = NowRfc3339();
  MG_RETURN_IF_ERROR(tx.PutConflict(c));
  MG_RETURN_IF_ERROR(Record(tx, a, ws, "conflict_resolved", "conflict", c.id, c.ToJson(),
                            {{"memory_id", c.memory_id}, {"memory_version", m.version}})
                         .status());
  return Resolved{std::move(c), std::move(m)};
}

}  // namespace mgteam::server
