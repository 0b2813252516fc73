// Replica: the graph queries an assistant asks (docs/mcp.md): what a memory
// leads to over its relationships, counts, and what changed lately.
//
// Related() walks breadth first, one query per hop over the frontier, with a
// set of memories already reached. A recursive CTE that carries its path
// would enumerate every simple path (exponential in a dense graph); the walk
// touches each memory and relationship at most once, so a 5-hop walk over a
// 100,000-memory workspace stays one pass over what it reaches.
#include "replica.h"

#include "mgteam/sql_rows.h"
#include "mgteam/text.h"

#include <algorithm>

namespace mgteam::agent {

std::string UnderProject(const std::string& param) {
  return "(json_extract(m.context, '$.project_path') = " + param +
         " OR substr(json_extract(m.context, '$.project_path'), 1, length(" + param + ") + 1) = " + param +
         " || '/')";
}

std::string ProjectPath(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

json PathStep::ToJson() const {
  return {{"relationship_id", relationship_id}, {"type", type}, {"from_memory_id", from_memory_id},
          {"to_memory_id", to_memory_id},       {"strength", strength}};
}

json RelatedMemory::ToJson() const {
  json steps = json::array();
  for (const auto& s : path) steps.push_back(s.ToJson());
  json j = {{"memory", memory.ToJson()}, {"depth", depth}, {"path", steps}};
  // The step that reached it, in MemoryGraph's terms, for prompts written
  // for its get_related_memories.
  if (!path.empty()) {
    j["relationship_type"] = path.back().type;
    j["strength"] = path.back().strength;
    j["direction"] = path.back().to_memory_id == memory.memory.id ? "outgoing" : "incoming";
  }
  return j;
}

json MemoryLink::ToJson() const {
  json j = {{"relationship_id", relationship.id},     {"type", relationship.type},
            {"direction", outgoing ? "outgoing" : "incoming"}, {"strength", relationship.strength},
            {"confidence", relationship.confidence}, {"other_memory_id", other_id},
            {"other_title", other_title},           {"other_type", other_type}};
  if (relationship.context) j["context"] = *relationship.context;
  return j;
}

json GraphStats::ToJson() const {
  return {{"memories", memories},
          {"relationships", relationships},
          {"average_importance", average_importance},
          {"memories_by_type", memories_by_type},
          {"relationships_by_type", relationships_by_type},
          {"pending_writes", pending},
          {"failed_writes", failed},
          {"open_conflicts", open_conflicts}};
}

Result<RelatedResult> Replica::Related(const std::string& ws, const std::string& id, int max_depth,
                                       const std::vector<std::string>& types, int limit, int offset) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_ASSIGN_OR_RETURN(auto start, LoadMemory(ws, id));
  if (!start || start->memory.deleted) return NotInReplica("memory", id);

  // Relationships leaving or entering the frontier whose other end is a live
  // memory (a deleted memory's relationships are gone, as on the server).
  const std::string type_filter = types.empty() ? "" : " AND r.type IN (SELECT value FROM json_each(?3))";
  const std::string edge = "SELECT r.id, r.type, r.from_memory_id, r.to_memory_id, r.strength, f.value, r.created_at ";
  MG_ASSIGN_OR_RETURN(
      auto q, db_.Prepared(edge +
                           "FROM json_each(?2) f JOIN relationships r ON r.workspace_id = ?1 AND "
                           "r.from_memory_id = f.value AND r.deleted = 0" + type_filter +
                           " JOIN memories m ON m.workspace_id = ?1 AND m.id = r.to_memory_id AND m.deleted = 0 "
                           "UNION ALL " + edge +
                           "FROM json_each(?2) f JOIN relationships r ON r.workspace_id = ?1 AND "
                           "r.to_memory_id = f.value AND r.deleted = 0" + type_filter +
                           " JOIN memories m ON m.workspace_id = ?1 AND m.id = r.from_memory_id AND m.deleted = 0 "
                           "ORDER BY 7, 1"));
  struct Reached {
    int depth = 0;
    std::string parent;
    PathStep step;
  };
  std::map<std::string, Reached> seen{{id, Reached{}}};
  std::vector<std::string> order;  // breadth first: nearest first
  std::vector<std::string> frontier{id};
  for (int depth = 1; depth <= max_depth && !frontier.empty(); ++depth) {
    q->Reset();
    q->Bind(1, ws).Bind(2, json(frontier).dump());
    if (!types.empty()) q->Bind(3, json(types).dump());
    std::vector<std::string> next;
    while (q->Step()) {
      PathStep step{q->Text(0), q->Text(1), q->Text(2), q->Text(3), q->Real(4)};
      const std::string node = q->Text(5);
      const std::string other = step.from_memory_id == node ? step.to_memory_id : step.from_memory_id;
      if (seen.count(other)) continue;  // reached already, by a path no longer than this one
      seen[other] = Reached{depth, node, std::move(step)};
      next.push_back(other);
      order.push_back(other);
    }
    MG_RETURN_IF_ERROR(q->status());
    frontier = std::move(next);
  }

  RelatedResult out;
  out.total = static_cast<int64_t>(order.size());
  const size_t begin = std::min(order.size(), static_cast<size_t>(std::max(offset, 0)));
  const size_t end = std::min(order.size(), begin + static_cast<size_t>(std::max(limit, 0)));
  for (size_t i = begin; i < end; ++i) {
    RelatedMemory r;
    MG_ASSIGN_OR_RETURN(auto m, LoadMemory(ws, order[i]));
    if (!m) continue;  // cannot happen inside the lock; skip rather than fail
    r.memory = std::move(*m);
    const Reached& reached = seen[order[i]];
    r.depth = reached.depth;
    for (std::string at = order[i]; at != id;) {
      const Reached& hop = seen[at];
      r.path.push_back(hop.step);
      at = hop.parent;
    }
    std::reverse(r.path.begin(), r.path.end());
    out.items.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<MemoryLink>> Replica::Links(const std::string& ws, const std::string& id, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  MG_ASSIGN_OR_RETURN(
      auto q, db_.Prepared("SELECT " + sql::Qualified(sql::kRelationshipColumns, "r") +
                           ", o.id, o.title, o.type FROM relationships r JOIN memories o ON o.workspace_id = r.workspace_id "
                           "AND o.id = CASE WHEN r.from_memory_id = ?2 THEN r.to_memory_id ELSE r.from_memory_id END "
                           "AND o.deleted = 0 WHERE r.workspace_id = ?1 AND r.deleted = 0 AND "
                           "(r.from_memory_id = ?2 OR r.to_memory_id = ?2) ORDER BY r.created_at DESC, r.id DESC LIMIT ?3"));
  q->Bind(1, ws).Bind(2, id).Bind(3, static_cast<int64_t>(limit));
  std::vector<MemoryLink> out;
  while (q->Step()) {
    MemoryLink l;
    l.relationship = sql::ReadRelationshipRow(*q);
    l.outgoing = l.relationship.from_memory_id == id;
    l.other_id = q->Text(15);
    l.other_title = q->Text(16);
    l.other_type = q->Text(17);
    out.push_back(std::move(l));
  }
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

Result<GraphStats> Replica::Statistics(const std::string& ws) {
  std::lock_guard<std::mutex> lock(mu_);
  GraphStats s;
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT type, count(*), sum(importance) FROM memories "
                                             "WHERE workspace_id = ? AND deleted = 0 GROUP BY type"));
    q->BindAll(ws);
    double importance = 0;
    while (q->Step()) {
      s.memories_by_type[q->Text(0)] = q->Int(1);
      s.memories += q->Int(1);
      importance += q->Real(2);
    }
    MG_RETURN_IF_ERROR(q->status());
    if (s.memories > 0) s.average_importance = importance / static_cast<double>(s.memories);
  }
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared(
                                    "SELECT r.type, count(*) FROM relationships r WHERE r.workspace_id = ?1 AND "
                                    "r.deleted = 0 AND NOT EXISTS (SELECT 1 FROM memories m WHERE m.workspace_id = ?1 "
                                    "AND m.id IN (r.from_memory_id, r.to_memory_id) AND m.deleted = 1) GROUP BY r.type"));
    q->BindAll(ws);
    while (q->Step()) {
      s.relationships_by_type[q->Text(0)] = q->Int(1);
      s.relationships += q->Int(1);
    }
    MG_RETURN_IF_ERROR(q->status());
  }
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT coalesce(sum(state = 'pending'), 0), "
                                             "coalesce(sum(state = 'failed'), 0) FROM outbox WHERE workspace_id = ?"));
    q->BindAll(ws);
    if (q->Step()) {
      s.pending = q->Int(0);
      s.failed = q->Int(1);
    }
    MG_RETURN_IF_ERROR(q->status());
  }
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT count(*) FROM conflicts WHERE workspace_id = ? AND status = 'open'"));
    q->BindAll(ws);
    if (q->Step()) s.open_conflicts = q->Int(0);
    MG_RETURN_IF_ERROR(q->status());
  }
  return s;
}

Result<RecentMemories> Replica::Recent(const std::string& ws, const std::string& since,
                                       const std::string& project_path, int limit) {
  const std::string project = ProjectPath(project_path);
  const std::string where = " FROM memories m WHERE m.workspace_id = ?1 AND m.deleted = 0 AND m.updated_at >= ?2" +
                            (project.empty() ? std::string() : " AND " + UnderProject("?3"));
  auto bind = [&](sql::Stmt& q) {
    q.Bind(1, ws).Bind(2, since);
    if (!project.empty()) q.Bind(3, project);
  };
  std::lock_guard<std::mutex> lock(mu_);
  RecentMemories out;
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT m.type, count(*)" + where + " GROUP BY m.type"));
    bind(*q);
    while (q->Step()) {
      out.by_type[q->Text(0)] = q->Int(1);
      out.total += q->Int(1);
    }
    MG_RETURN_IF_ERROR(q->status());
  }
  const std::string cols = "SELECT " + sql::Qualified(sql::kMemoryColumns, "m");
  {
    MG_ASSIGN_OR_RETURN(auto q, db_.Prepared(cols + where + " ORDER BY m.updated_at DESC, m.id DESC LIMIT ?4"));
    bind(*q);
    q->Bind(4, static_cast<int64_t>(limit));
    while (q->Step()) out.recent.push_back(LocalMemory{sql::ReadMemoryRow(*q), SyncState::kSynced, {}});
    MG_RETURN_IF_ERROR(q->status());
  }
  {
    // A problem or error is resolved once a live memory SOLVES or ADDRESSES it.
    MG_ASSIGN_OR_RETURN(
        auto q, db_.Prepared(cols + where +
                             " AND m.type IN ('problem', 'error') AND NOT EXISTS (SELECT 1 FROM relationships r "
                             "JOIN memories s ON s.workspace_id = r.workspace_id AND s.id = r.from_memory_id "
                             "AND s.deleted = 0 WHERE r.workspace_id = ?1 AND r.to_memory_id = m.id "
                             "AND r.deleted = 0 AND r.type IN ('SOLVES', 'ADDRESSES')) "
                             "ORDER BY m.updated_at DESC, m.id DESC LIMIT ?4"));
    bind(*q);
    q->Bind(4, static_cast<int64_t>(limit));
    while (q->Step()) out.unresolved_problems.push_back(LocalMemory{sql::ReadMemoryRow(*q), SyncState::kSynced, {}});
    MG_RETURN_IF_ERROR(q->status());
  }
  MG_RETURN_IF_ERROR(FillSync(ws, out.recent));
  MG_RETURN_IF_ERROR(FillSync(ws, out.unresolved_problems));
  return out;
}

Result<std::vector<MemoryHead>> Replica::MemoriesByIdPrefix(const std::string& ws, const std::string& prefix,
                                                            bool include_deleted, int limit) {
  // A range over the primary key (workspace_id, id) instead of LIKE: ids are
  // ASCII, so every id starting with the prefix sorts below prefix + 0x7f.
  std::lock_guard<std::mutex> lock(mu_);
  MG_ASSIGN_OR_RETURN(auto q, db_.Prepared("SELECT id, title, type, deleted FROM memories WHERE workspace_id = ?1 "
                                           "AND id >= ?2 AND id < ?2 || char(127) AND (?3 OR deleted = 0) "
                                           "ORDER BY id LIMIT ?4"));
  q->Bind(1, ws).Bind(2, AsciiLower(prefix)).Bind(3, include_deleted).Bind(4, static_cast<int64_t>(limit));
  std::vector<MemoryHead> out;
  while (q->Step()) out.push_back(MemoryHead{q->Text(0), q->Text(1), q->Text(2), q->Int(3) != 0});
  MG_RETURN_IF_ERROR(q->status());
  return out;
}

}  // namespace mgteam::agent
