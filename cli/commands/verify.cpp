// mgteam sync verify [--repair]: does this machine show what the server
// holds? (docs/team-sync.md, "Verifying a replica".) One digest request per
// workspace when all is well; a row-by-row comparison only when it is not.
#include "local.h"
#include "render.h"
#include "session.h"
#include "verify.h"

namespace mgteam::cli {
namespace {

std::string Shown(const nlohmann::json& v) {
  if (v.is_null()) return "(none)";
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

void PrintReport(const agent::VerifyReport& r, const std::string& name, bool repair) {
  std::string head = name + ": " + std::to_string(r.memories) + " memories, " + std::to_string(r.relationships) +
                     " relationships at seq " + std::to_string(r.head_seq);
  if (r.drift.empty()) {
    Say(head + " - no drift");
    return;
  }
  Say(head + " - " + std::to_string(r.drift.size()) + " row(s) differ from the server:");
  for (const auto& d : r.drift) {
    std::string what = "  " + d.entity + " " + d.id + ": ";
    if (d.local.is_null()) what += "missing here";
    else if (d.server.is_null()) what += "here, but not live on the server";
    else what += d.field + " is " + Shown(d.local[d.field]) + " here, " + Shown(d.server[d.field]) + " on the server";
    Say(what);
  }
  Say(repair ? "  repaired " + std::to_string(r.repaired) + " row(s) from the server (pending writes kept)"
             : Dim("  `mgteam sync verify --repair` rewrites them from the server (pending writes are kept)"));
}

Status RunVerify(Session& s, bool repair) {
  MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, false));
  if (!l.online) return Status::Unavailable("unreachable", "cannot verify offline: " + l.offline_reason);
  // One workspace when named (-w), else every one this machine keeps.
  std::vector<agent::ReplicaWorkspace> targets;
  MG_ASSIGN_OR_RETURN(auto known, l.replica->Workspaces());
  for (const auto& w : known)
    if (s.global().workspace.empty() || w.id == l.ws.id) targets.push_back(w);
  nlohmann::json out = nlohmann::json::array();
  size_t unrepaired = 0;
  for (const auto& w : targets) {
    MG_ASSIGN_OR_RETURN(agent::VerifyReport r, agent::Verify(*l.api, *l.replica, w.id, repair));
    unrepaired += r.drift.size() - static_cast<size_t>(r.repaired);
    if (s.json()) {
      nlohmann::json j = r.ToJson();
      j["name"] = w.name;
      out.push_back(std::move(j));
    } else {
      PrintReport(r, w.name, repair);
    }
  }
  if (s.json()) PrintJson({{"workspaces", out}});
  if (unrepaired > 0)
    return Status(Code::kConflict, "drift",
                  std::to_string(unrepaired) + " row(s) differ from the server; run `mgteam sync verify --repair`");
  return Status::Ok();
}

}  // namespace

void AddVerifyCommand(CLI::App& sync, Cli& cli) {
  auto repair = std::make_shared<bool>(false);
  auto* verify = sync.add_subcommand("verify", "Compare this machine's copy with the server, row by row if needed");
  verify->add_flag("--repair", *repair, "Rewrite rows that differ from the server (pending writes are kept)");
  verify->callback([&cli, repair] { cli.action = [repair](Session& s) { return RunVerify(s, *repair); }; });
}

}  // namespace mgteam::cli
