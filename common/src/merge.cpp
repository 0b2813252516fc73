#include "mgteam/merge.h"

#include <algorithm>
#include <optional>
#include <set>

namespace mgteam {
namespace {

// A context key's value; nullopt when the key is absent (distinct from a
// JSON null stored under it).
std::optional<json> Key(const json& obj, const std::string& key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  return *it;
}

json OrNull(const std::optional<json>& v) { return v ? *v : json(nullptr); }

void SetField(Memory& m, const std::string& field, const json& v) {
  if (field == "type") m.type = v.get<std::string>();
  else if (field == "title") m.title = v.get<std::string>();
  else if (field == "content") m.content = v.get<std::string>();
  else if (field == "summary") m.summary = v.is_null() ? std::nullopt : std::optional<std::string>(v.get<std::string>());
  else if (field == "importance") m.importance = v.get<double>();
  else if (field == "confidence") m.confidence = v.get<double>();
}

bool PatchSets(const MemoryPatch& p, const std::string& field) {
  if (field == "type") return p.type.has_value();
  if (field == "title") return p.title.has_value();
  if (field == "content") return p.content.has_value();
  if (field == "summary") return p.summary.has_value();
  if (field == "tags") return p.tags.has_value();
  if (field == "importance") return p.importance.has_value();
  if (field == "confidence") return p.confidence.has_value();
  if (field == "context") return p.context.has_value();
  return false;
}

void Note(std::vector<std::string>& list, const std::string& field) {
  if (std::find(list.begin(), list.end(), field) == list.end()) list.push_back(field);
}

}  // namespace

bool Wins(const EditStamp& a, const EditStamp& b) {
  if (a.edited_at != b.edited_at) return a.edited_at > b.edited_at;
  return a.user_id > b.user_id;
}

const std::vector<std::string>& MergeableFields() {
  static const std::vector<std::string> kFields = {"type", "title", "content", "summary",
                                                   "tags", "importance", "confidence", "context"};
  return kFields;
}

json FieldValue(const Memory& m, const std::string& field) {
  if (field.rfind("context.", 0) == 0) return OrNull(Key(m.context, field.substr(8)));
  if (field == "type") return m.type;
  if (field == "title") return m.title;
  if (field == "content") return m.content;
  if (field == "summary") return m.summary ? json(*m.summary) : json(nullptr);
  if (field == "tags") return m.tags;
  if (field == "importance") return m.importance;
  if (field == "confidence") return m.confidence;
  if (field == "context") return m.context;
  return nullptr;
}

MergeResult MergeMemory(const Memory& base, const Memory& current, const MemoryPatch& patch,
                        const EditStamp& mine, const std::map<std::string, EditStamp>& theirs) {
  Memory wanted = base;  // what the update's author saw after their edit
  ApplyPatch(wanted, patch);
  MergeResult out;
  out.merged = current;
  auto their_stamp = [&](const std::string& field) {
    auto it = theirs.find(field);
    return it != theirs.end() ? it->second : EditStamp{current.updated_by, current.updated_at, ""};
  };

  for (const std::string& field : MergeableFields()) {
    const bool theirs_changed = FieldValue(base, field) != FieldValue(current, field);
    const bool mine_changed = PatchSets(patch, field) && FieldValue(base, field) != FieldValue(wanted, field);
    if (theirs_changed) Note(out.theirs, field);
    if (!mine_changed) continue;

    if (field == "tags") {
      // A set: both sides' additions and removals apply; never a conflict.
      std::set<std::string> b(base.tags.begin(), base.tags.end()), w(wanted.tags.begin(), wanted.tags.end());
      std::set<std::string> result(current.tags.begin(), current.tags.end());
      for (const auto& t : w)
        if (!b.count(t)) result.insert(t);
      for (const auto& t : b)
        if (!w.count(t)) result.erase(t);
      out.merged.tags.assign(result.begin(), result.end());
      Note(out.mine, field);
      continue;
    }

    if (field == "context") {
      std::set<std::string> keys;
      for (const json* obj : std::initializer_list<const json*>{&base.context, &current.context, &wanted.context})
        if (obj->is_object())
          for (auto it = obj->begin(); it != obj->end(); ++it) keys.insert(it.key());
      json merged = current.context.is_object() ? current.context : json::object();
      for (const auto& k : keys) {
        auto b = Key(base.context, k), t = Key(current.context, k), w = Key(wanted.context, k);
        if (w == b || w == t) continue;  // not mine to change, or the same change
        if (t == b) {
          if (w) merged[k] = *w;
          else merged.erase(k);
          Note(out.mine, field);
          continue;
        }
        FieldConflict c{"context." + k, {}, {}, {}, {}, false};
        c.mine_kept = Wins(mine, their_stamp("context"));
        c.kept = OrNull(c.mine_kept ? w : t);
        c.lost = OrNull(c.mine_kept ? t : w);
        c.kept_by = c.mine_kept ? mine : their_stamp("context");
        c.lost_by = c.mine_kept ? their_stamp("context") : mine;
        if (c.mine_kept) {
          if (w) merged[k] = *w;
          else merged.erase(k);
          Note(out.mine, field);
        }
        out.conflicts.push_back(std::move(c));
      }
      out.merged.context = std::move(merged);
      continue;
    }

    const json w = FieldValue(wanted, field), t = FieldValue(current, field);
    if (!theirs_changed || w == t) {
      SetField(out.merged, field, w);
      Note(out.mine, field);
      continue;
    }
    FieldConflict c{field, {}, {}, {}, {}, false};
    c.mine_kept = Wins(mine, their_stamp(field));
    c.kept = c.mine_kept ? w : t;
    c.lost = c.mine_kept ? t : w;
    c.kept_by = c.mine_kept ? mine : their_stamp(field);
    c.lost_by = c.mine_kept ? their_stamp(field) : mine;
    if (c.mine_kept) {
      SetField(out.merged, field, w);
      Note(out.mine, field);
    }
    out.conflicts.push_back(std::move(c));
  }
  // A field both sides touched is reported as mine when mine won, as theirs
  // only when theirs stayed.
  std::erase_if(out.theirs, [&](const std::string& f) {
    return std::find(out.mine.begin(), out.mine.end(), f) != out.mine.end() && f != "tags" && f != "context";
  });
  return out;
}

}  // namespace mgteam
