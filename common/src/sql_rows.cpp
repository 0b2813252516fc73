#include "mgteam/sql_rows.h"

namespace mgteam::sql {

nlohmann::json ParseStoredJson(const std::string& s, nlohmann::json fallback) {
  auto j = nlohmann::json::parse(s, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Qualified(const char* columns, const char* alias) {
  std::string out, col;
  for (const char* c = columns;; ++c) {
    if (*c == ',' || *c == '\0') {
      out += (out.empty() ? "" : ", ") + std::string(alias) + "." + col;
      col.clear();
      if (*c == '\0') break;
    } else if (*c != ' ') {
      col.push_back(*c);
    }
  }
  return out;
}

Memory ReadMemoryRow(Stmt& q, int c) {
  Memory m;
  m.workspace_id = q.Text(c + 0);
  m.id = q.Text(c + 1);
  m.type = q.Text(c + 2);
  m.title = q.Text(c + 3);
  m.content = q.Text(c + 4);
  m.summary = q.OptText(c + 5);
  for (const auto& t : ParseStoredJson(q.Text(c + 6), nlohmann::json::array()))
    if (t.is_string()) m.tags.push_back(t.get<std::string>());
  m.importance = q.Real(c + 7);
  m.confidence = q.Real(c + 8);
  m.context = ParseStoredJson(q.Text(c + 9), nlohmann::json::object());
  m.created_by = q.Text(c + 10);
  m.updated_by = q.Text(c + 11);
  m.created_at = q.Text(c + 12);
  m.updated_at = q.Text(c + 13);
  m.version = q.Int(c + 14);
  m.deleted = q.Int(c + 15) != 0;
  return m;
}

Relationship ReadRelationshipRow(Stmt& q, int c) {
  Relationship r;
  r.workspace_id = q.Text(c + 0);
  r.id = q.Text(c + 1);
  r.from_memory_id = q.Text(c + 2);
  r.to_memory_id = q.Text(c + 3);
  r.type = q.Text(c + 4);
  r.strength = q.Real(c + 5);
  r.confidence = q.Real(c + 6);
  r.context = q.OptText(c + 7);
  r.evidence_count = q.Int(c + 8);
  r.created_by = q.Text(c + 9);
  r.updated_by = q.Text(c + 10);
  r.created_at = q.Text(c + 11);
  r.updated_at = q.Text(c + 12);
  r.version = q.Int(c + 13);
  r.deleted = q.Int(c + 14) != 0;
  return r;
}

void BindMemoryRow(Stmt& q, const Memory& m, int c) {
  q.Bind(c + 0, m.workspace_id).Bind(c + 1, m.id).Bind(c + 2, m.type).Bind(c + 3, m.title);
  q.Bind(c + 4, m.content).Bind(c + 5, m.summary).Bind(c + 6, DumpJson(nlohmann::json(m.tags)));
  q.Bind(c + 7, m.importance).Bind(c + 8, m.confidence).Bind(c + 9, DumpJson(m.context));
  q.Bind(c + 10, m.created_by).Bind(c + 11, m.updated_by).Bind(c + 12, m.created_at);
  q.Bind(c + 13, m.updated_at).Bind(c + 14, m.version).Bind(c + 15, m.deleted);
}

void BindRelationshipRow(Stmt& q, const Relationship& r, int c) {
  q.Bind(c + 0, r.workspace_id).Bind(c + 1, r.id).Bind(c + 2, r.from_memory_id).Bind(c + 3, r.to_memory_id);
  q.Bind(c + 4, r.type).Bind(c + 5, r.strength).Bind(c + 6, r.confidence).Bind(c + 7, r.context);
  q.Bind(c + 8, r.evidence_count).Bind(c + 9, r.created_by).Bind(c + 10, r.updated_by);
  q.Bind(c + 11, r.created_at).Bind(c + 12, r.updated_at).Bind(c + 13, r.version).Bind(c + 14, r.deleted);
}

}  // namespace mgteam::sql
