// MergeMemory against the rules merge.h states, field by field: a field only
// one side changed takes that side's value, one both changed alike is not a
// conflict, one both changed differently goes to the later edit and records
// the other value; tags merge as sets, context per key. The input picks base,
// current and patch from small pools (so sides often agree) plus strings the
// fuzzer supplies, and the stamps.
#include "fuzz_support.h"
#include "mgteam/merge.h"

#include <set>

namespace {

using namespace mgteam;
using fuzz::ByteReader;

struct Pools {
  std::vector<std::string> strings;  // titles, content, summaries
  std::vector<json> context_values;
};

Pools MakePools(ByteReader& in) {
  Pools p;
  p.strings = {"a", "b", "Ünïcode ☃", in.Text(24), in.Text(24)};
  p.context_values = {1, "v", nullptr, json::array({1, "x"}), json{{"n", 1}}, in.Text(8)};
  return p;
}

const std::vector<std::string> kTypes = {"general", "task", "fix"};
const std::vector<std::string> kTagPool = {"a", "b", "c", "d", "e"};
const std::vector<double> kFractions = {0.0, 0.5, 1.0, 0.25};
const std::vector<std::string> kContextKeys = {"k1", "k2", "project_path"};
// The fields that merge as one value (tags and context merge by element).
const std::vector<std::string> kWholeFields = {"type", "title", "content", "summary", "importance", "confidence"};

std::vector<std::string> Tags(ByteReader& in) {
  std::vector<std::string> tags;
  uint8_t bits = in.Byte();
  for (size_t i = 0; i < kTagPool.size(); ++i)
    if (bits & (1u << i)) tags.push_back(kTagPool[i]);
  return tags;
}

json Context(ByteReader& in, const Pools& p) {
  json c = json::object();
  for (const auto& k : kContextKeys)
    if (in.Bool()) c[k] = p.context_values[in.Below(p.context_values.size())];
  return c;
}

std::optional<std::string> Summary(ByteReader& in, const Pools& p) {
  size_t i = in.Below(p.strings.size() + 1);
  if (i == p.strings.size()) return std::nullopt;
  return p.strings[i];
}

Memory RandomMemory(ByteReader& in, const Pools& p) {
  Memory m;
  m.id = "01a2124c-a21f-739f-92bb-b20569d88acf";
  m.type = kTypes[in.Below(kTypes.size())];
  m.title = p.strings[in.Below(p.strings.size())];
  m.content = p.strings[in.Below(p.strings.size())];
  m.summary = Summary(in, p);
  m.tags = Tags(in);
  m.importance = kFractions[in.Below(kFractions.size())];
  m.confidence = kFractions[in.Below(kFractions.size())];
  m.context = Context(in, p);
  return m;
}

// Each field of `base` kept or replaced, as another writer's edits would.
Memory Edited(const Memory& base, ByteReader& in, const Pools& p) {
  Memory m = base;
  Memory other = RandomMemory(in, p);
  uint8_t which = in.Byte();
  if (which & 1) m.type = other.type;
  if (which & 2) m.title = other.title;
  if (which & 4) m.content = other.content;
  if (which & 8) m.summary = other.summary;
  if (which & 16) m.tags = other.tags;
  if (which & 32) m.importance = other.importance;
  if (which & 64) m.confidence = other.confidence;
  if (which & 128) m.context = other.context;
  return m;
}

MemoryPatch RandomPatch(ByteReader& in, const Pools& p) {
  Memory v = RandomMemory(in, p);
  MemoryPatch patch;
  uint8_t which = in.Byte();
  if (which & 1) patch.type = v.type;
  if (which & 2) patch.title = v.title;
  if (which & 4) patch.content = v.content;
  if (which & 8) patch.summary = v.summary;
  if (which & 16) patch.tags = v.tags;
  if (which & 32) patch.importance = v.importance;
  if (which & 64) patch.confidence = v.confidence;
  if (which & 128) patch.context = v.context;
  return patch;
}

EditStamp Stamp(ByteReader& in) {
  static const std::vector<std::string> users = {"01a2124c-a21f-739e-9579-00000000000a",
                                                 "01a2124c-a21f-739e-9579-00000000000b"};
  static const std::vector<std::string> times = {"2026-11-25T10:00:00.000Z", "2026-11-25T10:05:00.000Z",
                                                 "2026-11-25T10:05:00.001Z"};
  return EditStamp{users[in.Below(users.size())], times[in.Below(times.size())], ""};
}

bool Has(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

json KeyOrAbsent(const json& obj, const std::string& key) {
  auto it = obj.find(key);
  return it == obj.end() ? json("<absent>") : *it;
}

void CheckWins(const EditStamp& a, const EditStamp& b) {
  FUZZ_REQUIRE(!Wins(a, a));
  bool same = a.edited_at == b.edited_at && a.user_id == b.user_id;
  FUZZ_REQUIRE(same ? !Wins(a, b) && !Wins(b, a) : Wins(a, b) != Wins(b, a));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(fuzz::AsText(data, size));
  const Pools pools = MakePools(in);
  Memory base = RandomMemory(in, pools);
  base.version = 3;
  base.updated_by = "01a2124c-a21f-739e-9579-00000000000a";
  base.updated_at = "2026-11-25T09:00:00.000Z";
  Memory current = Edited(base, in, pools);
  current.version = 5;
  current.updated_by = "01a2124c-a21f-739e-9579-00000000000b";
  current.updated_at = "2026-11-25T10:05:00.000Z";
  const MemoryPatch patch = RandomPatch(in, pools);
  const EditStamp mine = Stamp(in);
  std::map<std::string, EditStamp> theirs;
  for (const auto& f : MergeableFields())
    if (in.Bool()) theirs[f] = Stamp(in);
  auto their_stamp = [&](const std::string& field) {
    auto it = theirs.find(field);
    return it != theirs.end() ? it->second : EditStamp{current.updated_by, current.updated_at, ""};
  };
  CheckWins(mine, their_stamp("title"));

  const MergeResult out = MergeMemory(base, current, patch, mine, theirs);
  // Deterministic: the same inputs give the same result.
  const MergeResult twice = MergeMemory(base, current, patch, mine, theirs);
  FUZZ_REQUIRE(twice.merged.ToJson() == out.merged.ToJson() && twice.mine == out.mine &&
               twice.theirs == out.theirs && twice.conflicts.size() == out.conflicts.size());

  Memory wanted = base;
  ApplyPatch(wanted, patch);

  // What is not merged stays as it is now.
  FUZZ_REQUIRE(out.merged.id == current.id && out.merged.version == current.version &&
               out.merged.updated_by == current.updated_by && out.merged.updated_at == current.updated_at);

  std::set<std::string> conflict_fields;
  for (const auto& c : out.conflicts) {
    FUZZ_REQUIRE(conflict_fields.insert(c.field).second);
    // A removed context key and one set to null both read as null here.
    if (!c.kept.is_null() || !c.lost.is_null()) FUZZ_REQUIRE(c.kept != c.lost);
    FUZZ_REQUIRE(c.kept == FieldValue(out.merged, c.field));
    const std::string stamp_field = c.field.rfind("context.", 0) == 0 ? "context" : c.field;
    FUZZ_REQUIRE(c.mine_kept == Wins(mine, their_stamp(stamp_field)));
    FUZZ_REQUIRE(c.field != "tags" && c.field != "context");
  }

  for (const std::string& f : kWholeFields) {
    const json b = FieldValue(base, f), t = FieldValue(current, f), w = FieldValue(wanted, f);
    const json m = FieldValue(out.merged, f);
    if (w == b) {
      FUZZ_REQUIRE(m == t);
      FUZZ_REQUIRE(!conflict_fields.count(f) && !Has(out.mine, f));
    } else if (t == b || t == w) {
      FUZZ_REQUIRE(m == w);
      FUZZ_REQUIRE(!conflict_fields.count(f) && Has(out.mine, f));
    } else {
      FUZZ_REQUIRE(conflict_fields.count(f));
      FUZZ_REQUIRE(m == (Wins(mine, their_stamp(f)) ? w : t));
    }
    FUZZ_REQUIRE(Has(out.theirs, f) == (t != b && !(Has(out.mine, f))));
  }

  // Tags: a set merge, never a conflict.
  std::set<std::string> b(base.tags.begin(), base.tags.end()), t(current.tags.begin(), current.tags.end()),
      w(wanted.tags.begin(), wanted.tags.end());
  std::set<std::string> tags = t;
  if (w != b) {
    for (const auto& tag : w)
      if (!b.count(tag)) tags.insert(tag);
    for (const auto& tag : b)
      if (!w.count(tag)) tags.erase(tag);
  }
  FUZZ_REQUIRE(out.merged.tags == std::vector<std::string>(tags.begin(), tags.end()));

  // Context: each key like a field; absent is a value of its own.
  std::set<std::string> keys;
  for (const json* obj : {&base.context, &current.context, &wanted.context})
    for (auto it = obj->begin(); it != obj->end(); ++it) keys.insert(it.key());
  for (const auto& k : keys) {
    const json kb = KeyOrAbsent(base.context, k), kt = KeyOrAbsent(current.context, k),
               kw = KeyOrAbsent(wanted.context, k), km = KeyOrAbsent(out.merged.context, k);
    const bool conflict = conflict_fields.count("context." + k) > 0;
    if (kw == kb) {
      FUZZ_REQUIRE(km == kt && !conflict);
    } else if (kt == kb || kt == kw) {
      FUZZ_REQUIRE(km == kw && !conflict);
    } else {
      FUZZ_REQUIRE(conflict);
      FUZZ_REQUIRE(km == (Wins(mine, their_stamp("context")) ? kw : kt));
    }
  }
  for (auto it = out.merged.context.begin(); it != out.merged.context.end(); ++it)
    FUZZ_REQUIRE(keys.count(it.key()));

  // Nothing changed on their side: the result is the update applied.
  bool theirs_unchanged = true;
  for (const auto& f : MergeableFields()) theirs_unchanged = theirs_unchanged && FieldValue(current, f) == FieldValue(base, f);
  if (theirs_unchanged) {
    FUZZ_REQUIRE(out.conflicts.empty() && out.theirs.empty());
    for (const auto& f : MergeableFields()) FUZZ_REQUIRE(FieldValue(out.merged, f) == FieldValue(wanted, f));
  }
  return 0;
}
