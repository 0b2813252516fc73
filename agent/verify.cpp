#include "verify.h"

#include "sync.h"
#include "view.h"

#include <map>

namespace mgteam::agent {
namespace {

constexpr int kAttempts = 5;
constexpr int kPage = 2000;

std::string WsPath(const std::string& ws) { return "/api/v1/workspaces/" + ws; }

Result<std::map<std::string, json>> ServerRows(ApiClient& api, const std::string& ws, const char* kind) {
  std::map<std::string, json> out;
  std::string after;
  while (true) {
    std::map<std::string, std::string> q = {{"kind", kind}, {"limit", std::to_string(kPage)}, {"after", after}};
    MG_ASSIGN_OR_RETURN(json page, api.Get(WsPath(ws) + "/snapshot" + QueryString(q)));
    for (const auto& item : ArrayField(page, "items"))
      if (std::string id = StringField(item, "id"); !id.empty()) out[id] = item;
    after = StringField(page, "next_after");
    if (after.empty()) return out;
  }
}

// Rows whose versions say the replica is simply ahead (it holds the answer
// to its own write before the log's event reached it) are not drift.
void Compare(const char* entity, const std::map<std::string, json>& local, const std::map<std::string, json>& server,
             std::vector<Drift>& out) {
  for (const auto& [id, row] : local) {
    auto it = server.find(id);
    if (it == server.end()) {
      out.push_back({entity, id, "", row, json(nullptr)});
    } else if (std::string field = FirstDifference(row, it->second); !field.empty()) {
      if (IntField(row, "version") > IntField(it->second, "version")) continue;
      out.push_back({entity, id, field, row, it->second});
    }
  }
  for (const auto& [id, row] : server)
    if (!local.count(id)) out.push_back({entity, id, "", json(nullptr), row});
}

Result<std::vector<Drift>> FindDrift(ApiClient& api, Replica& replica, const std::string& ws) {
  MG_ASSIGN_OR_RETURN(auto server_memories, ServerRows(api, ws, "memories"));
  MG_ASSIGN_OR_RETURN(auto server_relationships, ServerRows(api, ws, "relationships"));
  std::map<std::string, json> local_memories, local_relationships;
  MG_ASSIGN_OR_RETURN(auto ms, replica.ServerMemories(ws));
  for (const auto& m : ms) local_memories[m.id] = m.ToJson();
  MG_ASSIGN_OR_RETURN(auto rs, replica.ServerRelationships(ws));
  for (const auto& r : rs) local_relationships[r.id] = r.ToJson();
  std::vector<Drift> drift;
  Compare("memory", local_memories, server_memories, drift);
  Compare("relationship", local_relationships, server_relationships, drift);
  return drift;
}

}  // namespace

json Drift::ToJson() const {
  return {{"entity", entity}, {"id", id}, {"field", field}, {"local", local}, {"server", server}};
}

json VerifyReport::ToJson() const {
  json d = json::array();
  for (const auto& x : drift) d.push_back(x.ToJson());
  return {{"workspace_id", workspace_id}, {"head_seq", head_seq},   {"digest_match", digest_match},
          {"memories", memories},         {"relationships", relationships}, {"drift", d},
          {"repaired", repaired}};
}

Result<VerifyReport> Verify(ApiClient& api, Replica& replica, const std::string& ws, bool repair) {
  VerifyReport report;
  report.workspace_id = ws;
  // The digest describes the server at its head: compare only once the
  // replica stands exactly there (a busy team may need a few tries).
  json digest;
  bool aligned = false;
  for (int attempt = 0; attempt < kAttempts && !aligned; ++attempt) {
    MG_RETURN_IF_ERROR(CatchUp(api, replica, ws));
    MG_ASSIGN_OR_RETURN(digest, api.Get(WsPath(ws) + "/digest"));
    MG_ASSIGN_OR_RETURN(auto w, replica.FindWorkspace(ws));
    if (!w) return Status::NotFound("workspace " + ws + " is not in the replica");
    aligned = w->cursor == IntField(digest, "head_seq", -1);
  }
  report.head_seq = IntField(digest, "head_seq");
  report.memories = IntField(ObjectField(digest, "memories"), "count");
  report.relationships = IntField(ObjectField(digest, "relationships"), "count");
  MG_ASSIGN_OR_RETURN(json local, replica.ServerDigest(ws));
  report.digest_match = aligned && ObjectField(local, "memories") == ObjectField(digest, "memories") &&
                        ObjectField(local, "relationships") == ObjectField(digest, "relationships");
  if (report.digest_match) return report;

  // Row by row. Writes landing meanwhile can make a row look different for a
  // moment, so only what differs before and after one more catch-up counts.
  MG_ASSIGN_OR_RETURN(auto first, FindDrift(api, replica, ws));
  if (first.empty()) {
    report.digest_match = true;  // the rows agree; the head just moved on
    return report;
  }
  MG_RETURN_IF_ERROR(CatchUp(api, replica, ws));
  MG_ASSIGN_OR_RETURN(auto second, FindDrift(api, replica, ws));
  for (auto& d : second) {
    bool before = std::any_of(first.begin(), first.end(),
                              [&](const Drift& f) { return f.entity == d.entity && f.id == d.id; });
    if (before) report.drift.push_back(std::move(d));
  }
  if (!repair) return report;
  for (const auto& d : report.drift) {
    if (d.entity == "memory") {
      std::optional<Memory> m = d.server.is_null() ? std::nullopt : Memory::FromJson(d.server);
      MG_RETURN_IF_ERROR(replica.RepairMemory(ws, d.id, m));
    } else {
      std::optional<Relationship> r = d.server.is_null() ? std::nullopt : Relationship::FromJson(d.server);
      MG_RETURN_IF_ERROR(replica.RepairRelationship(ws, d.id, r));
    }
    ++report.repaired;
  }
  return report;
}

}  // namespace mgteam::agent
