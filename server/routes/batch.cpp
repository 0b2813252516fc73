// POST /api/v1/workspaces/{ws}/batch: many creates in one request and one
// transaction, each item with its own result (docs/api.md, "Batch"). Built
// for `mgteam import`: items may carry their own created_at/updated_at, which
// are kept (never in the future), and an item that already exists is an
// answer (409 already_exists), not a failure of the batch, so an import run
// twice changes nothing the second time.
//
// Per-item refusals come from the checks that run before anything of the
// item is written (validation, references, duplicates), so the items before
// and after it commit normally. Any other error (the store failing) rolls the
// whole batch back, and the answer is that error.
#include "domain/memories.h"
#include "mgteam/clock.h"
#include "mgteam/validate.h"
#include "routes/routes.h"

namespace mgteam::server {
namespace {

constexpr size_t kMaxItems = 1000;

// Takes an optional RFC 3339 `key` out of `body` (the create parsers do not
// accept it), normalised to UTC milliseconds.
Result<std::string> TakeTime(json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (it != body.end()) body.erase(it);
    return std::string();
  }
  std::optional<TimePoint> t = it->is_string() ? ParseRfc3339(it->get<std::string>()) : std::nullopt;
  if (!t) return Status::Invalid("invalid_field", std::string(key) + " must be an RFC 3339 time").with("field", key);
  body.erase(it);
  return FormatRfc3339(*t);
}

Result<Memory> ParseMemoryItem(json body) {
  if (!body.is_object()) return Status::Invalid("invalid_body", "memory must be a JSON object");
  MG_ASSIGN_OR_RETURN(std::string updated, TakeTime(body, "updated_at"));
  MG_ASSIGN_OR_RETURN(Memory m, ParseMemoryCreate(body));
  m.updated_at = updated;
  return m;
}

Result<Relationship> ParseRelationshipItem(json body) {
  if (!body.is_object()) return Status::Invalid("invalid_body", "relationship must be a JSON object");
  MG_ASSIGN_OR_RETURN(std::string created, TakeTime(body, "created_at"));
  MG_ASSIGN_OR_RETURN(std::string updated, TakeTime(body, "updated_at"));
  MG_ASSIGN_OR_RETURN(Relationship r, ParseRelationshipCreate(body));
  r.created_at = created;
  r.updated_at = updated;
  return r;
}

// A refusal of one item: one of the checks CreateMemory/CreateRelationship
// make before writing anything (named by reason, not by status code, so that
// a store error after a write, say a constraint, rolls the batch back instead
// of committing half an item).
bool ItemRefusal(const Status& s) {
  return s.reason() == "already_exists" || s.reason() == "relationship_exists" || s.reason() == "memory_not_found";
}

// Already there: the same id, or a live link of the same type between the
// same memories. An import run again counts these, and changes nothing.
bool AlreadyThere(const Status& s) { return s.reason() == "already_exists" || s.reason() == "relationship_exists"; }

json ItemResult(size_t index, const Status& s, const std::string& id) {
  json j = {{"index", index}, {"status", HttpStatusFor(s.code())}, {"error", ErrorBody(s)["error"]}};
  if (!id.empty()) j["id"] = id;
  return j;
}

Result<Reply> Batch(Request& r) {
  const json& body = r.body();
  if (!body.is_object() || !body.contains("items") || !body["items"].is_array())
    return Status::Invalid("invalid_body", "a batch is {\"items\": [{\"op\": \"create_memory\", \"memory\": {...}}, "
                                           "{\"op\": \"create_relationship\", \"relationship\": {...}}]}");
  const json& items = body["items"];
  if (items.size() > kMaxItems)
    return Status::Invalid("batch_too_large", "a batch holds at most " + std::to_string(kMaxItems) +
                                                  " items; send the rest in another request");
  // Parsing needs no store: done before the transaction.
  struct Parsed {
    std::optional<Memory> memory;
    std::optional<Relationship> relationship;
    Status refused;
  };
  std::vector<Parsed> parsed(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const json& item = items[i];
    const std::string op = item.is_object() && item.contains("op") && item["op"].is_string() ? item["op"].get<std::string>() : "";
    if (op == "create_memory") {
      auto m = ParseMemoryItem(item.value("memory", json()));
      if (m.ok()) parsed[i].memory = std::move(m).value();
      else parsed[i].refused = m.status();
    } else if (op == "create_relationship") {
      auto rel = ParseRelationshipItem(item.value("relationship", json()));
      if (rel.ok()) parsed[i].relationship = std::move(rel).value();
      else parsed[i].refused = rel.status();
    } else {
      parsed[i].refused = Status::Invalid("invalid_op", "op must be create_memory or create_relationship")
                              .with("field", "items[" + std::to_string(i) + "].op");
    }
  }
  return r.Write([&](Tx& tx) -> Result<Reply> {
    json results = json::array();
    int created = 0, existing = 0, failed = 0;
    for (size_t i = 0; i < parsed.size(); ++i) {
      Parsed& p = parsed[i];
      Status done = p.refused;
      std::string id;
      if (done.ok() && p.memory) {
        auto m = CreateMemory(tx, r.actor(), r.workspace().id, *p.memory);
        done = m.status();
        id = m.ok() ? m->id : p.memory->id;
      } else if (done.ok() && p.relationship) {
        auto rel = CreateRelationship(tx, r.actor(), r.workspace().id, *p.relationship);
        done = rel.status();
        id = rel.ok() ? rel->id : p.relationship->id;
      }
      // Refused before the transaction (parsing), or by a check before any
      // write: the item's answer. Anything else: roll everything back.
      if (!done.ok() && p.refused.ok() && !ItemRefusal(done)) return done;
      if (done.ok()) {
        ++created;
        results.push_back({{"index", i}, {"status", 201}, {"id", id}});
      } else {
        (AlreadyThere(done) ? existing : failed)++;
        results.push_back(ItemResult(i, done, id));
      }
    }
    return Reply{200, {{"results", results}, {"created", created}, {"existing", existing}, {"failed", failed}}};
  });
}

}  // namespace

void AddBatchRoutes(Router& router) {
  router.Add({"POST", "/api/v1/workspaces/{ws}/batch", Access::kWorkspace, Permission::kMemoryWrite, "",
              "Create many memories and relationships in one transaction", Batch});
}

}  // namespace mgteam::server
