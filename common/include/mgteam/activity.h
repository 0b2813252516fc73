// The activity feed's view of a change-log event (brief §4, issue 6): who
// did what to which entity, with a title to show. Pure, so the server's
// activity route and the CLI's live `activity --follow` (which reads raw
// events from the stream) describe events the same way.
#pragma once

#include "mgteam/model.h"

#include <optional>
#include <string>

namespace mgteam {

// {seq, at, type, action, entity_type, entity_id, actor, actor_name, title,
//  detail}. `action` is the event type without its entity prefix
// ("memory_created" -> "created", "member_role_changed" -> "role_changed").
json ActivityEntry(const Event& e);

// The entity types and actions the feed can be filtered by.
bool IsActivityEntityType(const std::string& t);
bool IsActivityAction(const std::string& a);

// "bob@example.com" -> "b***@example.com": invitations are announced to the
// whole team, the invitee's address is not.
std::string MaskEmail(const std::string& email);

}  // namespace mgteam
