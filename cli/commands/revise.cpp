// mgteam memory restore, mgteam relationship update: the two edits that go
// straight to the server instead of through the outbox (docs/cli.md, "Edits
// that need the server"). Both are rare, deliberate acts; queuing them
// offline would need new outbox kinds and merge rules for little gain, so
// offline they fail with exit 8 and change nothing.
#include "command_tree.h"
#include "exit_codes.h"
#include "local.h"
#include "memory_ref.h"
#include "mgteam/ids.h"
#include "render.h"
#include "session.h"
#include "sync.h"
#include "titles.h"

#include <sstream>

namespace mgteam::cli {
namespace {

using nlohmann::json;

Status NeedServer(const Local& l, const std::string& what) {
  if (l.online && l.api) return Status::Ok();
  return Status::Unavailable("offline", what + " needs the server, and it cannot be reached (" + l.offline_reason +
                                            "); nothing was changed");
}

// The server has the change; bring the local copy along now unless an agent
// does it anyway. A failed catch-up only leaves the copy behind a while.
void CatchUpUnlessAgent(Local& l) {
  if (l.agent_running) return;
  if (Status caught = agent::CatchUp(*l.api, *l.replica, l.ws.id); !caught.ok())
    Note("done, but the local copy is not updated yet (" + caught.message() + "); `mgteam sync now` retries");
}

}  // namespace

void AddRevisionCommands(CLI::App& app, Cli& cli) {
  struct Opts {
    std::string id, type, context;
    std::optional<double> strength, confidence;
  };
  auto o = std::make_shared<Opts>();

  CLI::App* memory = app.get_subcommand("memory");
  auto* restore = memory->add_subcommand("restore", "Bring back a deleted memory (its relationships stay deleted)");
  restore->add_option("id", o->id, "The deleted memory's id (or a unique prefix)")->required()->type_name(kDeletedMemoryIdValue);
  restore->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      MG_ASSIGN_OR_RETURN(std::string id, ResolveMemoryId(l, o->id, true));
      MG_RETURN_IF_ERROR(NeedServer(l, "restoring a memory"));
      MG_ASSIGN_OR_RETURN(json m, l.api->Post("/api/v1/workspaces/" + l.ws.id + "/memories/" + id + "/restore",
                                              json::object(), NewIdempotencyKey()));
      CatchUpUnlessAgent(l);
      if (s.json()) PrintJson(m);
      else
        Say("Restored memory " + id + " \"" + m.value("title", "") + "\" (version " +
            std::to_string(m.value("version", 0)) + "). Its relationships stay deleted; link again with mgteam relate.");
      return Status::Ok();
    };
  });

  CLI::App* rel = app.get_subcommand("relationship");
  auto* update = rel->add_subcommand("update", "Change a relationship's type, strength, confidence or note");
  update->add_option("id", o->id, "The relationship's id")->required();
  update->add_option("--type", o->type, "The new type (SOLVES, CAUSES, RELATED_TO, ...)")
      ->transform(UpperCase)
      ->type_name(kRelationshipTypeValue);
  update->add_option("--strength", o->strength, "0..1")->check(UnitInterval());
  update->add_option("--confidence", o->confidence, "0..1")->check(UnitInterval());
  update->add_option("--context", o->context, "A note on why they are related");
  update->callback([&cli, o] {
    cli.action = [o](Session& s) -> Status {
      if (o->type.empty() && !o->strength && !o->confidence && o->context.empty())
        return UsageError("say what to change: --type, --strength, --confidence or --context");
      MG_ASSIGN_OR_RETURN(Local l, OpenLocal(s, true));
      std::string id = NormalizeUuid(o->id).value_or(o->id);
      MG_ASSIGN_OR_RETURN(auto found, l.replica->GetRelationship(l.ws.id, id));
      if (!found || found->relationship.deleted) return Status::NotFound("no relationship " + o->id + " in " + l.ws.name);
      MG_RETURN_IF_ERROR(NeedServer(l, "changing a relationship"));
      // Based on the version this machine has: a change someone made since
      // is refused (409) instead of silently overwritten.
      json body = {{"base_version", found->relationship.version}};
      if (!o->type.empty()) body["type"] = o->type;
      if (o->strength) body["strength"] = *o->strength;
      if (o->confidence) body["confidence"] = *o->confidence;
      if (!o->context.empty()) body["context"] = o->context;
      MG_ASSIGN_OR_RETURN(json r, l.api->Patch("/api/v1/workspaces/" + l.ws.id + "/relationships/" + id, body,
                                               NewIdempotencyKey()));
      CatchUpUnlessAgent(l);
      if (s.json()) {
        PrintJson(r);
        return Status::Ok();
      }
      MemoryTitles titles(l.replica.get(), l.ws.id);
      std::ostringstream strength;
      strength.precision(2);
      strength << r.value("strength", 0.0);
      Say("Updated relationship " + id + ": " + titles.Of(r.value("from_memory_id", "")) + " " + r.value("type", "") +
          " " + titles.Of(r.value("to_memory_id", "")) + " (strength " + strength.str() + ", version " +
          std::to_string(r.value("version", 0)) + ")");
      return Status::Ok();
    };
  });
}

}  // namespace mgteam::cli
