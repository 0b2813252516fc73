// The API's routes, one file per resource. Each Add*Routes declares its
// routes (path, access, permission) on the router; see http/router.h for
// what happens before a handler runs.
#pragma once

#include "http/router.h"

namespace mgteam::server {

void AddAuthRoutes(Router& router);
void AddWorkspaceRoutes(Router& router);
void AddMemberRoutes(Router& router);
void AddMemoryRoutes(Router& router);
void AddRelationshipRoutes(Router& router);
void AddBatchRoutes(Router& router);
void AddSyncRoutes(Router& router);
void AddConflictRoutes(Router& router);
void AddActivityRoutes(Router& router);
void AddOpsRoutes(Router& router);

// All of the above, in the order the OpenAPI document lists them.
void AddAllRoutes(Router& router);

}  // namespace mgteam::server
