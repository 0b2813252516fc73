// mgteam import FILE and mgteam export: whole graphs in and out of a
// workspace (docs/import-export.md). Both talk to the server directly rather
// than through the replica: an import of 100,000 memories goes out in
// batches of up to 1,000 items (POST .../batch, one transaction and one
// Idempotency-Key each, so a retried batch never applies twice), and an
// export reads what the server holds. The replica and the agent pick the
// imported records up from the change log like any other change.
#include "command_tree.h"
#include "graph_file.h"
#include "render.h"
#include "session.h"

#include "mgteam/clock.h"

#include <iostream>
#include <unistd.h>

namespace mgteam::cli {
namespace {

using nlohmann::json;

struct Tally {
  int created = 0, existing = 0, failed = 0;
  json ToJson() const { return {{"created", created}, {"existing", existing}, {"failed", failed}}; }
};

struct Sent {
  Tally memories, relationships;
  json failures = json::array();  // the server's refusals: {kind, id, error}
};

// Sends `items` (all of one kind) in batches that fit the server's body
// limit: at most 1,000 items and ~512 KiB; a 413 halves the batch.
Status SendBatches(ApiClient& api, const std::string& ws, const char* op, const char* key,
                   const std::vector<json>& items, Tally& tally, json& failures,
                   const std::function<void(size_t)>& progress) {
  size_t at = 0, max_items = 1000, max_bytes = 512 * 1024;
  while (at < items.size()) {
    json batch = json::array();
    size_t bytes = 0;
    while (at + batch.size() < items.size() && batch.size() < max_items) {
      const json& item = items[at + batch.size()];
      size_t size = item.dump().size() + 64;
      if (!batch.empty() && bytes + size > max_bytes) break;
      bytes += size;
      batch.push_back({{"op", op}, {key, item}});
    }
    const std::string idempotency = NewIdempotencyKey();
    Result<json> answer = Status::Internal("not sent");
    for (int attempt = 0; attempt < 3; ++attempt) {
      answer = api.Post("/api/v1/workspaces/" + ws + "/batch", {{"items", batch}}, idempotency);
      if (answer.ok() || answer.status().code() != Code::kUnavailable) break;
    }
    if (!answer.ok() && answer.status().reason() == "payload_too_large" && batch.size() > 1) {
      max_items = batch.size() / 2;
      max_bytes /= 2;
      continue;
    }
    MG_RETURN_IF_ERROR(answer.status());
    for (const auto& r : ArrayField(*answer, "results")) {
      int status = static_cast<int>(IntField(r, "status"));
      if (status == 201) {
        ++tally.created;
      } else if (const std::string code = StringField(ObjectField(r, "error"), "code");
                 code == "already_exists" || code == "relationship_exists") {
        ++tally.existing;
      } else {
        ++tally.failed;
        failures.push_back({{"kind", std::string(key)},
                            {"id", StringField(r, "id")},
                            {"error", StringField(ObjectField(r, "error"), "message")}});
      }
    }
    at += batch.size();
    progress(at);
  }
  return Status::Ok();
}

// "1 memory", "2 memories", "3 relationships".
std::string Plural(size_t n, const std::string& word) {
  if (n == 1) return "1 " + word;
  return std::to_string(n) + " " + (word.back() == 'y' ? word.substr(0, word.size() - 1) + "ies" : word + "s");
}

Status Import(Session& s, const std::string& path, bool dry_run) {
  ImportPlan plan;
  {
    // The file's text and its parse are let go once planned: a 100,000-
    // memory export is ~100 MB of text and several times that parsed.
    MG_ASSIGN_OR_RETURN(std::string text, ReadInput(path));
    json file = json::parse(text, nullptr, false);
    if (file.is_discarded()) return Status::Invalid("invalid_file", path + " is not JSON");
    text.clear();
    text.shrink_to_fit();
    MG_ASSIGN_OR_RETURN(plan, PlanImport(file));
  }
  MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
  MG_ASSIGN_OR_RETURN(WorkspaceRef ws, s.Workspace(api));

  Sent sent;
  if (!dry_run) {
    const size_t total = plan.memories.size() + plan.relationships.size();
    const bool bar = ::isatty(STDERR_FILENO) && !s.json();
    size_t base = 0;
    auto progress = [&](size_t done) {
      if (!bar) return;
      size_t n = base + done;
      int width = 30, filled = total ? static_cast<int>(width * n / total) : width;
      std::cerr << "\rimporting [" << std::string(static_cast<size_t>(filled), '#')
                << std::string(static_cast<size_t>(width - filled), ' ') << "] " << n << "/" << total << std::flush;
    };
    MG_RETURN_IF_ERROR(SendBatches(api, ws.id, "create_memory", "memory", plan.memories, sent.memories,
                                   sent.failures, progress));
    base = plan.memories.size();
    MG_RETURN_IF_ERROR(SendBatches(api, ws.id, "create_relationship", "relationship", plan.relationships,
                                   sent.relationships, sent.failures, progress));
    if (bar) std::cerr << "\r" << std::string(60, ' ') << "\r" << std::flush;
  }

  json skipped = json::array();
  for (const auto& k : plan.skipped) skipped.push_back({{"kind", k.kind}, {"id", k.id}, {"reason", k.reason}});
  if (s.json()) {
    json out = {{"format", plan.format},          {"workspace", {{"id", ws.id}, {"name", ws.name}}},
                {"dry_run", dry_run},              {"memories_in_file", plan.memories.size()},
                {"relationships_in_file", plan.relationships.size()},
                {"memories", sent.memories.ToJson()}, {"relationships", sent.relationships.ToJson()},
                {"skipped", skipped},              {"failed", sent.failures},
                {"mapped_ids", plan.mapped_ids}};
    PrintJson(out);
  } else if (dry_run) {
    Say("Would import " + Plural(plan.memories.size(), "memory") + " and " +
        Plural(plan.relationships.size(), "relationship") + " into " + ws.name + " (" + plan.format +
        " export); " + std::to_string(plan.skipped.size()) + " skipped. Nothing was sent.");
  } else {
    Say("Imported " + Plural(static_cast<size_t>(sent.memories.created), "memory") + " and " +
        Plural(static_cast<size_t>(sent.relationships.created), "relationship") + " into " + ws.name + " (" +
        std::to_string(sent.memories.existing + sent.relationships.existing) + " already there, " +
        std::to_string(plan.skipped.size()) + " skipped, " +
        std::to_string(sent.memories.failed + sent.relationships.failed) + " refused).");
  }
  if (!s.json()) {
    for (const auto& k : plan.skipped) Note("skipped " + k.kind + " " + k.id + ": " + k.reason);
    for (const auto& f : sent.failures)
      Note("refused " + f.value("kind", "") + " " + f.value("id", "") + ": " + f.value("error", ""));
    if (plan.mapped_ids > 0)
      Note(std::to_string(plan.mapped_ids) + " ids were not UUIDs: each was given a UUID derived from it, and the "
           "original is kept in the memory's context.original_id");
  }
  if (!sent.failures.empty())
    return Status::Invalid("import_refused", std::to_string(sent.failures.size()) +
                                                 " records were refused by the server (listed above)");
  return Status::Ok();
}

template <class T>
Result<std::vector<T>> FetchAll(ApiClient& api, const std::string& path, const char* key, bool include_deleted) {
  std::vector<T> out;
  std::string cursor;
  while (true) {
    std::map<std::string, std::string> q = {{"limit", "500"}, {"cursor", cursor}};
    if (include_deleted) q["include_deleted"] = "true";
    MG_ASSIGN_OR_RETURN(json page, api.Get(path + QueryString(q)));
    for (const auto& j : ArrayField(page, key))
      if (auto x = T::FromJson(j)) out.push_back(std::move(*x));
    if (!page.contains("next_cursor") || !page["next_cursor"].is_string()) break;
    cursor = page["next_cursor"].get<std::string>();
  }
  return out;
}

Status Export(Session& s, const std::string& format, const std::string& output, bool include_deleted) {
  MG_ASSIGN_OR_RETURN(ApiClient api, s.Client());
  MG_ASSIGN_OR_RETURN(WorkspaceRef ws, s.Workspace(api));
  const std::string base = "/api/v1/workspaces/" + ws.id;
  const bool tombstones = include_deleted && format == "mgteam";
  MG_ASSIGN_OR_RETURN(auto memories, FetchAll<Memory>(api, base + "/memories", "memories", tombstones));
  MG_ASSIGN_OR_RETURN(auto relationships,
                      FetchAll<Relationship>(api, base + "/relationships", "relationships", tombstones));
  const std::string now = NowRfc3339();
  json doc = format == "mgteam"
                 ? ExportMgteam({{"id", ws.id}, {"name", ws.name}, {"slug", ws.slug}}, memories, relationships, now)
                 : ExportMemoryGraph(memories, relationships, now);
  std::string text = doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  if (output.empty() || output == "-") {
    std::cout << text;
    return Status::Ok();
  }
  // 0600: the file holds the team's memories.
  MG_RETURN_IF_ERROR(WriteFileAtomically(output, text, 0600));
  Note("Exported " + Plural(doc["memories"].size(), "memory") + " and " +
       Plural(doc["relationships"].size(), "relationship") + " of " + ws.name + " to " + output + " (" + format + ")");
  return Status::Ok();
}

}  // namespace

void AddGraphFileCommands(CLI::App& app, Cli& cli) {
  struct Opts {
    std::string file, format = "memorygraph", output;
    bool dry_run = false, include_deleted = false;
  };
  auto o = std::make_shared<Opts>();
  auto* import = app.add_subcommand("import", "Bring a MemoryGraph export (or an mgteam export) into a workspace");
  import->add_option("file", o->file, "The export file ('-' reads stdin)")->required()->type_name(kFileValue);
  import->add_flag("--dry-run", o->dry_run, "Check the file and say what would be imported; send nothing");
  import->callback([&cli, o] { cli.action = [o](Session& s) { return Import(s, o->file, o->dry_run); }; });

  auto* exp = app.add_subcommand("export", "Write a workspace's memories and relationships to a file");
  exp->add_option("--format", o->format, "memorygraph (MemoryGraph can import it; default) or mgteam (lossless)")
      ->check(CLI::IsMember({"memorygraph", "mgteam"}));
  exp->add_option("--output,-o", o->output, "Write here (mode 0600) instead of stdout")->type_name(kFileValue);
  exp->add_flag("--include-deleted", o->include_deleted, "With --format mgteam: deleted ones too (tombstones)");
  exp->callback([&cli, o] {
    cli.action = [o](Session& s) { return Export(s, o->format, o->output, o->include_deleted); };
  });
}

}  // namespace mgteam::cli
