#include "replica_check.h"

#include "mgteam/digest.h"
#include "replica.h"

#include <doctest/doctest.h>

#include <set>

namespace mgteam::test {

Rows ServerRows(Http& http, const std::string& ws, const std::string& token) {
  Rows out;
  for (const std::string kind : {"memories", "relationships"}) {
    auto& into = kind == "memories" ? out.memories : out.relationships;
    for (std::string after;;) {
      auto page = http.Get("/api/v1/workspaces/" + ws + "/snapshot?limit=5000&kind=" + kind + "&after=" + after, token);
      REQUIRE_MESSAGE(page.status == 200, page.raw);
      for (const auto& item : page.body["items"]) into[item["id"].get<std::string>()] = item;
      if (!page.body["next_after"].is_string()) break;
      after = page.body["next_after"].get<std::string>();
    }
  }
  return out;
}

Rows ReplicaRows(const std::string& replica_file, const std::string& ws) {
  auto replica = agent::Replica::Open(replica_file);
  REQUIRE_MESSAGE(replica.ok(), replica.status().ToString());
  Rows out;
  agent::MemoryFilter f;
  f.workspace_id = ws;
  f.include_deleted = false;
  f.limit = 1 << 30;
  auto memories = (*replica)->ListMemories(f);
  REQUIRE_MESSAGE(memories.ok(), memories.status().ToString());
  for (const auto& m : *memories) {
    out.memories[m.memory.id] = m.memory.ToJson();
    out.sync_state[m.memory.id] = agent::SyncStateName(m.sync);
  }
  auto relationships = (*replica)->ListRelationships(ws, std::nullopt, std::nullopt, false, 1 << 30);
  REQUIRE_MESSAGE(relationships.ok(), relationships.status().ToString());
  for (const auto& r : *relationships) {
    out.relationships[r.relationship.id] = r.relationship.ToJson();
    out.sync_state[r.relationship.id] = agent::SyncStateName(r.sync);
  }
  return out;
}

namespace {

void DiffKind(const std::string& kind, const std::map<std::string, json>& local,
              const std::map<std::string, json>& server, const Rows& local_rows, std::vector<RowDiff>& out) {
  for (const auto& [id, row] : local) {
    auto it = server.find(id);
    if (it == server.end()) {
      out.push_back({kind, id, "(row)", row.dump(), "(absent)"});
      continue;
    }
    std::set<std::string> keys;
    for (const auto& [k, v] : row.items()) keys.insert(k);
    for (const auto& [k, v] : it->second.items()) keys.insert(k);
    for (const auto& k : keys) {
      json l = row.contains(k) ? row[k] : json("(absent)");
      json s = it->second.contains(k) ? it->second[k] : json("(absent)");
      if (l != s) out.push_back({kind, id, k, l.dump(), s.dump()});
    }
  }
  for (const auto& [id, row] : server)
    if (!local.count(id)) out.push_back({kind, id, "(row)", "(absent)", row.dump()});
  for (const auto& [id, row] : local) {
    auto st = local_rows.sync_state.find(id);
    std::string state = st == local_rows.sync_state.end() ? "(unknown)" : st->second;
    if (state != "synced") out.push_back({kind, id, "sync_state", state, "synced"});
  }
}

}  // namespace

std::vector<RowDiff> DiffRows(const Rows& local, const Rows& server) {
  std::vector<RowDiff> out;
  DiffKind("memory", local.memories, server.memories, local, out);
  DiffKind("relationship", local.relationships, server.relationships, local, out);
  return out;
}

std::string Describe(const std::string& who, const std::vector<RowDiff>& diffs, size_t max) {
  std::map<std::string, int> fields;
  for (const auto& d : diffs) fields[d.kind + "." + d.field]++;
  std::string out = who + ": " + std::to_string(diffs.size()) + " difference(s) from the server (";
  for (const auto& [f, n] : fields) out += (out.back() == '(' ? "" : ", ") + f + " " + std::to_string(n);
  out += ")";
  for (size_t i = 0; i < diffs.size() && i < max; ++i) {
    const auto& d = diffs[i];
    out += "\n  " + who + " " + d.kind + " " + d.id + " " + d.field + ": local " + d.local + " vs server " + d.server;
  }
  if (diffs.size() > max) out += "\n  ... and " + std::to_string(diffs.size() - max) + " more";
  return out;
}

json DigestOf(const Rows& rows) {
  RowDigest memories, relationships;
  for (const auto& [id, row] : rows.memories) {
    auto m = Memory::FromJson(row);
    REQUIRE(m);
    memories.Add(*m);
  }
  for (const auto& [id, row] : rows.relationships) {
    auto r = Relationship::FromJson(row);
    REQUIRE(r);
    relationships.Add(*r);
  }
  return {{"memories", memories.ToJson()}, {"relationships", relationships.ToJson()}};
}

}  // namespace mgteam::test
