#include "domain/change_log.h"

#include "mgteam/clock.h"

namespace mgteam::server {

Result<Event> Record(Tx& tx, const Actor& actor, const std::string& workspace_id,
                     const std::string& type, const std::string& entity_type,
                     const std::string& entity_id, json entity, json extra) {
  Event e;
  e.workspace_id = workspace_id;
  e.type = type;
  e.actor = actor.user_id;
  e.actor_name = actor.name;
  e.at = NowRfc3339();
  e.entity_type = entity_type;
  e.entity_id = entity_id;
  e.entity = std::move(entity);
  e.extra = std::move(extra);
  MG_RETURN_IF_ERROR(tx.AppendEvent(e));
  return e;
}

}  // namespace mgteam::server
