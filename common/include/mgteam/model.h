// The domain model (design brief §3): users, workspaces, memberships,
// memories, relationships and change-log events, with their JSON forms as the
// API sends them. Enumerations are kept as validated strings so that the wire
// form, the database form and the in-memory form are the same text.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mgteam {

using json = nlohmann::json;

// Fields of JSON from the other side of the wire (the server, for the agent
// and the CLI): a missing field, a field of another type, or a document that
// is not an object at all reads as the fallback instead of throwing, so a
// broken or hostile peer cannot crash the reader. (json::value() throws on a
// wrong type; operator[] on a missing key of a const document is undefined.)
std::string StringField(const json& j, std::string_view key, std::string fallback = "");
int64_t IntField(const json& j, std::string_view key, int64_t fallback = 0);
bool BoolField(const json& j, std::string_view key, bool fallback = false);
// The field when it is an array (object), else an empty one.
const json& ArrayField(const json& j, std::string_view key);
const json& ObjectField(const json& j, std::string_view key);

// The 13 MemoryGraph memory types.
std::span<const std::string_view> MemoryTypes();
bool IsMemoryType(std::string_view t);
// The 35 MemoryGraph relationship types.
std::span<const std::string_view> RelationshipTypes();
bool IsRelationshipType(std::string_view t);

struct User {
  std::string id;
  std::string email;
  std::string name;
  std::string created_at;

  json ToJson() const;
};

struct Workspace {
  std::string id;
  std::string kind;  // "personal" | "team"
  std::string name;
  std::string slug;
  std::string owner_id;
  std::string epoch;     // changes when the change log is rebuilt; cursors from another epoch reset
  int64_t head_seq = 0;  // last seq appended to this workspace's change log
  std::string created_at;
  std::string updated_at;

  // `role` is the caller's role, added when known.
  json ToJson(std::optional<std::string_view> role = std::nullopt) const;
};

struct Member {
  std::string workspace_id;
  std::string user_id;
  std::string role;  // owner | admin | member | viewer
  std::string joined_at;
  std::string name;   // from the user, for display
  std::string email;  // from the user

  json ToJson() const;
};

struct Memory {
  std::string id;
  std::string workspace_id;
  std::string type = "general";
  std::string title;
  std::string content;
  std::optional<std::string> summary;
  std::vector<std::string> tags;  // lowercased, unique, sorted
  double importance = 0.5;
  double confidence = 0.8;
  json context = json::object();
  std::string created_by;
  std::string updated_by;
  std::string created_at;
  std::string updated_at;
  int64_t version = 0;
  bool deleted = false;

  json ToJson() const;
  // Reads the form ToJson writes (trusted input: the change log, a replica).
  static std::optional<Memory> FromJson(const json& j);
};

struct Relationship {
  std::string id;
  std::string workspace_id;
  std::string from_memory_id;
  std::string to_memory_id;
  std::string type;
  double strength = 0.5;
  double confidence = 0.8;
  std::optional<std::string> context;  // MemoryGraph keeps a free-text note here
  int64_t evidence_count = 1;
  std::string created_by;
  std::string updated_by;
  std::string created_at;
  std::string updated_at;
  int64_t version = 0;
  bool deleted = false;

  json ToJson() const;
  static std::optional<Relationship> FromJson(const json& j);
};

// Who made an edit and when they made it (the client's edit time, clamped to
// the server's clock). `name` is for display only.
struct EditStamp {
  std::string user_id;
  std::string edited_at;  // RFC 3339, UTC, fixed width: compares as text
  std::string name;

  json ToJson() const;
  static EditStamp FromJson(const json& j);
};

// A conflict record (design brief §6, docs/conflicts.md): a value that lost a
// merge, kept so it can be restored. Kinds:
//   field                 the same field changed on both sides; `lost` is the
//                         losing value, `kept` the one in the memory
//   update_after_delete   an update reached a deleted memory; `lost` is the
//                         update's fields
//   delete_over_update    a delete based on an older version removed changes
//                         its author never saw; `lost` is the memory's state
//                         just before the delete
struct Conflict {
  std::string id;
  std::string workspace_id;
  std::string memory_id;
  std::string kind;
  std::string field;  // "title", ..., "context.<key>"; empty for the delete kinds
  std::string title;  // the memory's title when recorded, for display
  json kept;
  json lost;
  EditStamp kept_by;
  EditStamp lost_by;
  int64_t seq = 0;             // the log event that recorded it
  int64_t memory_version = 0;  // the memory's version after that event
  std::string status = "open";  // open | resolved
  std::string resolution;       // kept | lost | value
  std::string resolved_by;
  std::string resolved_at;
  std::string created_at;

  json ToJson() const;
  static std::optional<Conflict> FromJson(const json& j);
};

// One entry of a workspace's change log. `entity` is the full state of the
// changed thing after the change, under the key named by `entity_type`.
struct Event {
  std::string workspace_id;
  int64_t seq = 0;
  std::string type;         // memory_created, member_joined, ...
  std::string actor;        // user id
  std::string actor_name;   // display name at the time
  std::string at;           // RFC 3339
  std::string entity_type;  // memory | relationship | member | workspace | conflict
  std::string entity_id;
  json entity;
  json extra = json::object();  // type-specific fields, e.g. {"changed": ["title"]}

  // The wire form, identical on the stream, the polling route and replay:
  // {type, workspace_id, seq, actor, actor_name, at, <entity_type>: entity,
  // ...extra}.
  json ToJson() const;
  static std::optional<Event> FromJson(const json& j);
  // Same, moving the entity out of `j` instead of copying it.
  static std::optional<Event> FromJson(json&& j);
};

}  // namespace mgteam
