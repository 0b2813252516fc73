#include "mgteam/validate.h"

#include "mgteam/clock.h"
#include "mgteam/ids.h"
#include "mgteam/text.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace mgteam {

FieldReader::FieldReader(const json& body, std::initializer_list<std::string_view> allowed)
    : body_(body) {
  if (!body.is_object()) {
    status_ = Status::Invalid("wrong_type", "the request body must be a JSON object");
    return;
  }
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string known;
      for (auto k : allowed) known += (known.empty() ? "" : ", ") + std::string(k);
      Fail("unknown_field", key, "unknown field '" + key + "'; known fields: " + known);
      return;
    }
  }
}

void FieldReader::Fail(std::string reason, std::string_view key, std::string message) {
  if (!status_.ok()) return;
  status_ = Status::Invalid(std::move(reason), std::move(message));
  status_.with("field", std::string(key));
}

bool FieldReader::Has(std::string_view key) const {
  return body_.is_object() && body_.contains(key);
}

bool FieldReader::IsNull(std::string_view key) const {
  if (!body_.is_object()) return false;
  auto it = body_.find(key);
  return it != body_.end() && it->is_null();
}

const json* FieldReader::Field(std::string_view key, bool required) {
  if (!status_.ok()) return nullptr;
  auto it = body_.find(key);
  if (it == body_.end() || it->is_null()) {
    if (required) Fail("missing_field", key, "'" + std::string(key) + "' is required");
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> FieldReader::Text(std::string_view key, TextRule rule, bool required) {
  const json* v = Field(key, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    Fail("wrong_type", key, "'" + std::string(key) + "' must be a string");
    return std::nullopt;
  }
  std::string s = rule.trim ? Trim(v->get_ref<const std::string&>()) : v->get<std::string>();
  if (HasControlChars(s, rule.multiline)) {
    Fail("invalid_characters", key, "'" + std::string(key) + "' contains control characters");
    return std::nullopt;
  }
  size_t n = CodePointCount(s);
  if (n < rule.min || n > rule.max) {
    std::string range = rule.min == 0 ? "at most " + std::to_string(rule.max)
                                      : std::to_string(rule.min) + "-" + std::to_string(rule.max);
    Fail(n > rule.max ? "too_long" : "too_short", key,
         "'" + std::string(key) + "' must be " + range + " characters (got " + std::to_string(n) + ")");
    return std::nullopt;
  }
  return s;
}

std::optional<double> FieldReader::Fraction(std::string_view key) {
  const json* v = Field(key, false);
  if (!v) return std::nullopt;
  if (!v->is_number()) {
    Fail("wrong_type", key, "'" + std::string(key) + "' must be a number between 0 and 1");
    return std::nullopt;
  }
  double d = v->get<double>();
  if (!std::isfinite(d) || d < 0.0 || d > 1.0) {
    Fail("out_of_range", key, "'" + std::string(key) + "' must be between 0 and 1");
    return std::nullopt;
  }
  return d;
}

std::optional<int64_t> FieldReader::Integer(std::string_view key, int64_t min, int64_t max,
                                            bool required) {
  const json* v = Field(key, required);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    Fail("wrong_type", key, "'" + std::string(key) + "' must be an integer");
    return std::nullopt;
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) {
    Fail("out_of_range", key, "'" + std::string(key) + "' is too large");
    return std::nullopt;
  }
  int64_t i = v->get<int64_t>();
  if (i < min || i > max) {
    Fail("out_of_range", key,
         "'" + std::string(key) + "' must be between " + std::to_string(min) + " and " +
             std::to_string(max));
    return std::nullopt;
  }
  return i;
}

std::optional<bool> FieldReader::Boolean(std::string_view key) {
  const json* v = Field(key, false);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    Fail("wrong_type", key, "'" + std::string(key) + "' must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::string> FieldReader::Uuid(std::string_view key, bool required) {
  const json* v = Field(key, required);
  if (!v) return std::nullopt;
  std::optional<std::string> id;
  if (v->is_string()) id = NormalizeUuid(v->get_ref<const std::string&>());
  if (!id) Fail("invalid_id", key, "'" + std::string(key) + "' must be a UUID");
  return id;
}

std::optional<std::string> FieldReader::Enum(std::string_view key,
                                             std::span<const std::string_view> values,
                                             bool required) {
  const json* v = Field(key, required);
  if (!v) return std::nullopt;
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    if (std::find(values.begin(), values.end(), s) != values.end()) return s;
  }
  std::string list;
  for (auto x : values) list += (list.empty() ? "" : ", ") + std::string(x);
  Fail("invalid_enum", key, "'" + std::string(key) + "' must be one of: " + list);
  return std::nullopt;
}

std::optional<std::string> NormalizeEmail(std::string_view email) {
  std::string e = AsciiLower(Trim(email));
  auto at = e.find('@');
  if (e.empty() || e.size() > limits::kEmailMax || at == std::string::npos || at == 0 ||
      at + 1 >= e.size() || e.find('@', at + 1) != std::string::npos ||
      e.find('.', at) == std::string::npos || e.back() == '.')
    return std::nullopt;
  for (unsigned char c : e)
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';') return std::nullopt;
  return e;
}

std::optional<std::string> FieldReader::Email(std::string_view key, bool required) {
  const json* v = Field(key, required);
  if (!v) return std::nullopt;
  std::optional<std::string> e;
  if (v->is_string()) e = NormalizeEmail(v->get_ref<const std::string&>());
  if (!e) Fail("invalid_email", key, "'" + std::string(key) + "' must be an email address");
  return e;
}

std::optional<std::string> FieldReader::Timestamp(std::string_view key) {
  const json* v = Field(key, false);
  if (!v) return std::nullopt;
  std::optional<TimePoint> t;
  if (v->is_string()) t = ParseRfc3339(v->get_ref<const std::string&>());
  if (!t) {
    Fail("invalid_timestamp", key, "'" + std::string(key) + "' must be an RFC 3339 timestamp");
    return std::nullopt;
  }
  return FormatRfc3339(*t);
}

Result<std::vector<std::string>> NormalizeTags(const std::vector<std::string>& tags) {
  std::set<std::string> out;
  for (const auto& raw : tags) {
    std::string t = AsciiLower(Trim(raw));
    if (t.empty()) continue;
    if (!IsValidUtf8(t) || HasControlChars(t, false))
      return Status::Invalid("invalid_tag", "tags must not contain control characters")
          .with("field", "tags");
    if (CodePointCount(t) > limits::kTagMax)
      return Status::Invalid("invalid_tag", "tag '" + Ellipsize(t, 20) + "' is longer than " +
                                                std::to_string(limits::kTagMax) + " characters")
          .with("field", "tags");
    out.insert(std::move(t));
  }
  if (out.size() > limits::kTagsMax)
    return Status::Invalid("too_many_tags",
                           "at most " + std::to_string(limits::kTagsMax) + " tags per memory")
        .with("field", "tags");
  return std::vector<std::string>(out.begin(), out.end());
}

std::optional<std::vector<std::string>> FieldReader::Tags(std::string_view key) {
  const json* v = Field(key, false);
  if (!v) return std::nullopt;
  if (!v->is_array()) {
    Fail("wrong_type", key, "'" + std::string(key) + "' must be an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> raw;
  for (const auto& t : *v) {
    if (!t.is_string()) {
      Fail("wrong_type", key, "'" + std::string(key) + "' must be an array of strings");
      return std::nullopt;
    }
    raw.push_back(t.get<std::string>());
  }
  auto tags = NormalizeTags(raw);
  if (!tags.ok()) {
    if (status_.ok()) status_ = tags.status();
    return std::nullopt;
  }
  return std::move(tags).value();
}

namespace {

bool IsStringArray(const json& j) {
  return j.is_array() && std::all_of(j.begin(), j.end(), [](const json& x) { return x.is_string(); });
}

}  // namespace

bool NestedDeeperThan(const json& j, int levels) {
  if (!j.is_structured()) return false;
  if (levels <= 0) return true;
  for (const auto& child : j)
    if (NestedDeeperThan(child, levels - 1)) return true;
  return false;
}

Status ValidateContext(const json& context) {
  auto fail = [](std::string msg) {
    return Status::Invalid("invalid_context", std::move(msg)).with("field", "context");
  };
  if (!context.is_object()) return fail("'context' must be a JSON object");
  if (NestedDeeperThan(context, limits::kContextDepthMax))
    return fail("'context' is nested deeper than " + std::to_string(limits::kContextDepthMax));
  if (context.dump().size() > limits::kContextBytesMax)
    return fail("'context' is larger than " + std::to_string(limits::kContextBytesMax / 1024) + " KiB");
  for (const char* key : {"project_path", "git_branch", "git_commit"})
    if (auto it = context.find(key); it != context.end() && !it->is_null() && !it->is_string())
      return fail(std::string("context.") + key + " must be a string");
  for (const char* key : {"files_involved", "languages", "frameworks", "technologies"})
    if (auto it = context.find(key); it != context.end() && !it->is_null() && !IsStringArray(*it))
      return fail(std::string("context.") + key + " must be an array of strings");
  return Status::Ok();
}

std::optional<json> FieldReader::Context(std::string_view key) {
  const json* v = Field(key, false);
  if (!v) return std::nullopt;
  Status s = ValidateContext(*v);
  if (!s.ok()) {
    if (status_.ok()) status_ = s;
    return std::nullopt;
  }
  return *v;
}

namespace {
constexpr FieldReader::TextRule kTitle{1, limits::kTitleMax, false, true};
constexpr FieldReader::TextRule kSummary{0, limits::kSummaryMax, true, true};
constexpr FieldReader::TextRule kContent{0, limits::kContentMax, true, false};
constexpr FieldReader::TextRule kRelContext{0, limits::kRelContextMax, true, true};
}  // namespace

Result<Memory> ParseMemoryCreate(const json& body) {
  FieldReader r(body, {"id", "type", "title", "content", "summary", "tags", "importance",
                       "confidence", "context", "created_at"});
  Memory m;
  if (auto id = r.Uuid("id")) m.id = *id;
  if (auto t = r.Enum("type", MemoryTypes())) m.type = *t;
  if (auto t = r.Text("title", kTitle, true)) m.title = *t;
  if (auto c = r.Text("content", kContent)) m.content = *c;
  if (auto s = r.Text("summary", kSummary); s && !s->empty()) m.summary = *s;
  if (auto t = r.Tags("tags")) m.tags = *t;
  if (auto i = r.Fraction("importance")) m.importance = *i;
  if (auto c = r.Fraction("confidence")) m.confidence = *c;
  if (auto c = r.Context("context")) m.context = *c;
  if (auto at = r.Timestamp("created_at")) m.created_at = *at;
  if (!r.ok()) return r.status();
  return m;
}

bool MemoryPatch::Empty() const {
  return !type && !title && !content && !summary && !tags && !importance && !confidence && !context;
}

json MemoryPatch::ToJson() const {
  json j = json::object();
  if (base_version) j["base_version"] = *base_version;
  if (edited_at) j["edited_at"] = *edited_at;
  if (type) j["type"] = *type;
  if (title) j["title"] = *title;
  if (content) j["content"] = *content;
  if (summary) j["summary"] = *summary ? json(**summary) : json(nullptr);
  if (tags) j["tags"] = *tags;
  if (importance) j["importance"] = *importance;
  if (confidence) j["confidence"] = *confidence;
  if (context) j["context"] = *context;
  return j;
}

Result<MemoryPatch> ParseMemoryPatch(const json& body) {
  FieldReader r(body, {"base_version", "edited_at", "type", "title", "content", "summary", "tags",
                       "importance", "confidence", "context"});
  MemoryPatch p;
  p.base_version = r.Integer("base_version", 1, INT64_MAX);
  p.edited_at = r.Timestamp("edited_at");
  p.type = r.Enum("type", MemoryTypes());
  p.title = r.Text("title", kTitle);
  if (r.IsNull("title")) r.Text("title", kTitle, true);  // null title: "required"
  p.content = r.Text("content", kContent);
  if (r.IsNull("content")) p.content = std::string();
  if (r.IsNull("summary")) {
    p.summary = std::optional<std::string>();
  } else if (auto s = r.Text("summary", kSummary)) {
    p.summary = s->empty() ? std::optional<std::string>() : std::optional<std::string>(*s);
  }
  p.tags = r.Tags("tags");
  if (r.IsNull("tags")) p.tags = std::vector<std::string>();
  p.importance = r.Fraction("importance");
  p.confidence = r.Fraction("confidence");
  p.context = r.Context("context");
  if (r.IsNull("context")) p.context = json::object();
  if (!r.ok()) return r.status();
  if (p.Empty()) return Status::Invalid("empty_update", "the update changes no field");
  return p;
}

void ApplyPatch(Memory& m, const MemoryPatch& p) {
  if (p.type) m.type = *p.type;
  if (p.title) m.title = *p.title;
  if (p.content) m.content = *p.content;
  if (p.summary) m.summary = *p.summary;
  if (p.tags) m.tags = *p.tags;
  if (p.importance) m.importance = *p.importance;
  if (p.confidence) m.confidence = *p.confidence;
  if (p.context) m.context = *p.context;
}

Result<Relationship> ParseRelationshipCreate(const json& body) {
  FieldReader r(body, {"id", "from_memory_id", "to_memory_id", "type", "strength", "confidence",
                       "context", "evidence_count"});
  Relationship rel;
  if (auto id = r.Uuid("id")) rel.id = *id;
  if (auto f = r.Uuid("from_memory_id", true)) rel.from_memory_id = *f;
  if (auto t = r.Uuid("to_memory_id", true)) rel.to_memory_id = *t;
  if (auto t = r.Enum("type", RelationshipTypes(), true)) rel.type = *t;
  if (auto s = r.Fraction("strength")) rel.strength = *s;
  if (auto c = r.Fraction("confidence")) rel.confidence = *c;
  if (auto c = r.Text("context", kRelContext); c && !c->empty()) rel.context = *c;
  if (auto e = r.Integer("evidence_count", 0, 1000000000)) rel.evidence_count = *e;
  if (!r.ok()) return r.status();
  if (rel.from_memory_id == rel.to_memory_id)
    return Status::Invalid("self_relationship", "a memory cannot be related to itself")
        .with("field", "to_memory_id");
  return rel;
}

bool RelationshipPatch::Empty() const {
  return !type && !strength && !confidence && !context && !evidence_count;
}

json RelationshipPatch::ToJson() const {
  json j = json::object();
  if (base_version) j["base_version"] = *base_version;
  if (type) j["type"] = *type;
  if (strength) j["strength"] = *strength;
  if (confidence) j["confidence"] = *confidence;
  if (context) j["context"] = *context ? json(**context) : json(nullptr);
  if (evidence_count) j["evidence_count"] = *evidence_count;
  return j;
}

Result<RelationshipPatch> ParseRelationshipPatch(const json& body) {
  FieldReader r(body, {"base_version", "type", "strength", "confidence", "context", "evidence_count"});
  RelationshipPatch p;
  p.base_version = r.Integer("base_version", 1, INT64_MAX);
  p.type = r.Enum("type", RelationshipTypes());
  p.strength = r.Fraction("strength");
  p.confidence = r.Fraction("confidence");
  if (r.IsNull("context")) {
    p.context = std::optional<std::string>();
  } else if (auto c = r.Text("context", kRelContext)) {
    p.context = c->empty() ? std::optional<std::string>() : std::optional<std::string>(*c);
  }
  p.evidence_count = r.Integer("evidence_count", 0, 1000000000);
  if (!r.ok()) return r.status();
  if (p.Empty()) return Status::Invalid("empty_update", "the update changes no field");
  return p;
}

void ApplyPatch(Relationship& rel, const RelationshipPatch& p) {
  if (p.type) rel.type = *p.type;
  if (p.strength) rel.strength = *p.strength;
  if (p.confidence) rel.confidence = *p.confidence;
  if (p.context) rel.context = *p.context;
  if (p.evidence_count) rel.evidence_count = *p.evidence_count;
}

}  // namespace mgteam
