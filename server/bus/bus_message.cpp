#include "bus/bus_message.h"

#include <nlohmann/json.hpp>

namespace mgteam::server {

namespace {
constexpr size_t kMaxMessage = 4096;  // ids are short; PostgreSQL caps NOTIFY at 8000 bytes
}  // namespace

std::string EncodeBusMessage(const BusMessage& m) {
  nlohmann::json j;
  switch (m.kind) {
    case BusMessage::Kind::kAdvance: j["k"] = "advance"; break;
    case BusMessage::Kind::kWorkspaceDeleted: j["k"] = "workspace_deleted"; break;
    case BusMessage::Kind::kTokenRevoked: j["k"] = "token_revoked"; break;
    case BusMessage::Kind::kLogin:
      j["k"] = "login";
      j["addr"] = m.address;
      j["ok"] = m.success;
      break;
    case BusMessage::Kind::kPresence:
      j["k"] = "presence";
      j["user"] = m.address;
      j["n"] = m.seq;
      j["at"] = m.at;
      break;
  }
  j["o"] = m.origin;
  j["id"] = m.id;
  if (m.kind == BusMessage::Kind::kAdvance) j["seq"] = m.seq;
  return j.dump();
}

std::optional<BusMessage> DecodeBusMessage(std::string_view text) {
  if (text.size() > kMaxMessage) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto str = [&j](const char* key) -> const std::string* {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  const std::string* kind = str("k");
  const std::string* origin = str("o");
  const std::string* id = str("id");
  if (!kind || !origin || !id || id->empty()) return std::nullopt;
  BusMessage m;
  m.origin = *origin;
  m.id = *id;
  if (*kind == "advance") {
    auto seq = j.find("seq");
    if (seq == j.end() || !seq->is_number_integer() || seq->get<int64_t>() < 0) return std::nullopt;
    m.kind = BusMessage::Kind::kAdvance;
    m.seq = seq->get<int64_t>();
  } else if (*kind == "workspace_deleted") {
    m.kind = BusMessage::Kind::kWorkspaceDeleted;
  } else if (*kind == "token_revoked") {
    m.kind = BusMessage::Kind::kTokenRevoked;
  } else if (*kind == "login") {
    const std::string* address = str("addr");
    auto ok = j.find("ok");
    if (!address || address->empty() || ok == j.end() || !ok->is_boolean()) return std::nullopt;
    m.kind = BusMessage::Kind::kLogin;
    m.address = *address;
    m.success = ok->get<bool>();
  } else if (*kind == "presence") {
    const std::string* user = str("user");
    const std::string* at = str("at");
    auto n = j.find("n");
    if (!user || user->empty() || !at || n == j.end() || !n->is_number_integer() || n->get<int64_t>() < 0 ||
        n->get<int64_t>() > 1000000)
      return std::nullopt;
    m.kind = BusMessage::Kind::kPresence;
    m.address = *user;
    m.seq = n->get<int64_t>();
    m.at = *at;
  } else {
    return std::nullopt;
  }
  return m;
}

}  // namespace mgteam::server
