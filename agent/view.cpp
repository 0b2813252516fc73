#include "view.h"

#include "mgteam/validate.h"

namespace mgteam::agent {

std::optional<Memory> MemoryView(const std::string& ws, std::optional<Memory> view,
                                 std::span<const OutboxOp> pending, const std::string& user_id) {
  for (const auto& op : pending) {
    if (op.kind == OpKind::kMemoryCreate && !view) {
      auto draft = ParseMemoryCreate(op.payload);
      if (!draft.ok()) continue;
      Memory m = std::move(draft).value();
      m.workspace_id = ws;
      m.created_by = m.updated_by = user_id;
      if (m.created_at.empty()) m.created_at = op.created_at;
      m.updated_at = m.created_at;
      view = std::move(m);
    } else if (op.kind == OpKind::kMemoryUpdate && view) {
      auto patch = ParseMemoryPatch(op.payload);
      if (!patch.ok()) continue;
      ApplyPatch(*view, *patch);
      view->updated_by = user_id;
      view->updated_at = op.created_at;
    } else if (op.kind == OpKind::kMemoryDelete && view) {
      view->deleted = true;
    }
  }
  return view;
}

std::optional<Relationship> RelationshipView(const std::string& ws, std::optional<Relationship> view,
                                             std::span<const OutboxOp> pending, const std::string& user_id) {
  for (const auto& op : pending) {
    if (op.kind == OpKind::kRelationshipCreate && !view) {
      auto draft = ParseRelationshipCreate(op.payload);
      if (!draft.ok()) continue;
      Relationship r = std::move(draft).value();
      r.workspace_id = ws;
      r.created_by = r.updated_by = user_id;
      r.created_at = r.updated_at = op.created_at;
      view = std::move(r);
    } else if (op.kind == OpKind::kRelationshipDelete && view) {
      view->deleted = true;
    }
  }
  return view;
}

std::string FirstDifference(const json& a, const json& b) {
  if (!a.is_object() || !b.is_object()) return a == b ? "" : "(whole row)";
  for (auto it = a.begin(); it != a.end(); ++it)
    if (!b.contains(it.key()) || b[it.key()] != it.value()) return it.key();
  for (auto it = b.begin(); it != b.end(); ++it)
    if (!a.contains(it.key())) return it.key();
  return "";
}

}  // namespace mgteam::agent
