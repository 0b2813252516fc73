// The change log: the one rule of mgteam's server is that every accepted
// change appends exactly one event to its workspace's log, inside the same
// transaction as the change. Domain functions call Record(); nothing else
// appends events.
#pragma once

#include "mgteam/model.h"
#include "store/store.h"

#include <string>

namespace mgteam::server {

// Who is making a change.
struct Actor {
  std::string user_id;
  std::string name;
};

// Appends `type` for `entity` to the log of `workspace_id` and returns the
// event with its seq. `entity_type` names the key the entity travels under
// (memory, relationship, member, workspace).
Result<Event> Record(Tx& tx, const Actor& actor, const std::string& workspace_id,
                     const std::string& type, const std::string& entity_type,
                     const std::string& entity_id, json entity, json extra = json::object());

}  // namespace mgteam::server
