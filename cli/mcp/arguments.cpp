#include "arguments.h"

#include <cmath>
#include <sstream>

namespace mgteam::mcp {
namespace {

using nlohmann::json;

std::string Show(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

bool HasType(const json& v, const std::string& type) {
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  if (type == "number") return v.is_number();
  // JSON has no integers: 3.0 is one, 3.5 is not.
  if (type == "integer")
    return v.is_number_integer() || (v.is_number_float() && std::isfinite(v.get<double>()) &&
                                     std::floor(v.get<double>()) == v.get<double>());
  return true;
}

std::string Article(const std::string& type) {
  return type == "integer" || type == "array" || type == "object" ? "an " + type : "a " + type;
}

std::string Range(const json& s) {
  std::ostringstream out;
  if (s.contains("minimum") && s.contains("maximum"))
    out << " from " << s["minimum"].dump() << " to " << s["maximum"].dump();
  else if (s.contains("minimum"))
    out << " of at least " << s["minimum"].dump();
  else if (s.contains("maximum"))
    out << " of at most " << s["maximum"].dump();
  return out.str();
}

std::string Choices(const json& e) {
  std::string out;
  for (const auto& c : e) out += (out.empty() ? "" : ", ") + (c.is_string() ? c.get<std::string>() : c.dump());
  return out;
}

Status Bad(const std::string& msg) { return Status::Invalid("invalid_arguments", msg); }

// `path` names the value: "depth", "kinds[1]".
Status CheckValue(const std::string& path, const json& s, const json& v) {
  const std::string name = "argument '" + path + "'";
  const std::string type = s.value("type", "");
  if (!type.empty() && !HasType(v, type)) return Bad(name + " must be " + Article(type) + Range(s) + ", not " + Show(v));
  if (s.contains("enum")) {
    bool found = false;
    for (const auto& c : s["enum"]) found = found || c == v;
    if (!found) return Bad(name + " must be one of: " + Choices(s["enum"]) + " (not " + Show(v) + ")");
  }
  if (v.is_number()) {
    double x = v.get<double>();
    if ((s.contains("minimum") && x < s["minimum"].get<double>()) ||
        (s.contains("maximum") && x > s["maximum"].get<double>()))
      return Bad(name + " must be " + Article(type.empty() ? "number" : type) + Range(s) + ", not " + Show(v));
  }
  if (v.is_string()) {
    // Characters, not bytes: count UTF-8 lead bytes.
    size_t chars = 0;
    for (unsigned char c : v.get_ref<const std::string&>()) chars += (c & 0xC0) != 0x80;
    if (s.contains("minLength") && chars < s["minLength"].get<size_t>())
      return Bad(name + " must not be empty");
    if (s.contains("maxLength") && chars > s["maxLength"].get<size_t>())
      return Bad(name + " is too long: at most " + s["maxLength"].dump() + " characters (it has " +
                 std::to_string(chars) + ")");
  }
  if (v.is_array() && s.contains("items")) {
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>())
      return Bad(name + " takes at most " + s["maxItems"].dump() + " items");
    for (size_t i = 0; i < v.size(); ++i)
      MG_RETURN_IF_ERROR(CheckValue(path + "[" + std::to_string(i) + "]", s["items"], v[i]));
  }
  return Status::Ok();
}

}  // namespace

Status CheckArguments(const json& schema, const json& args) {
  if (!args.is_object()) return Bad("arguments must be a JSON object, not " + Show(args));
  const json props = schema.value("properties", json::object());
  // Unknown names first: a misspelt required argument ("memoryId") is
  // better answered with the right spelling than with "missing".
  for (const auto& [name, value] : args.items()) {
    if (props.contains(name)) continue;
    std::string takes;
    for (const auto& [k, _] : props.items()) takes += (takes.empty() ? "" : ", ") + k;
    return Bad("unknown argument '" + name + "'; this tool takes: " + takes);
  }
  for (const auto& name : schema.value("required", json::array()))
    if (!args.contains(name.get<std::string>()) || args[name.get<std::string>()].is_null())
      return Bad("missing argument '" + name.get<std::string>() + "' (required: " + Choices(schema["required"]) + ")");
  for (const auto& [name, value] : args.items()) {
    // null stands for "not given", as many clients send it for optional ones.
    if (value.is_null()) continue;
    MG_RETURN_IF_ERROR(CheckValue(name, props[name], value));
  }
  return Status::Ok();
}

}  // namespace mgteam::mcp
