// Operations: health, readiness, the OpenAPI document.
#include "openapi.h"
#include "routes/routes.h"

namespace mgteam::server {
namespace {

Result<Reply> Healthz(Request&) { return Reply{200, {{"status", "ok"}, {"version", MGTEAM_VERSION}}}; }

Result<Reply> Readyz(Request& r) {
  Status s = r.store().Ping();
  if (!s.ok()) return Status::Unavailable("not_ready", "the store is not answering: " + s.message());
  return Reply{200, {{"status", "ready"}}};
}

Result<Reply> OpenApi(Request& r) {
  json doc = json::parse(OpenApiDocument(), nullptr, false);
  if (doc.is_discarded()) return Status::Internal("the built-in OpenAPI document is malformed");
  doc["servers"] = json::array({{{"url", r.config().public_url}}});
  doc["info"]["version"] = MGTEAM_VERSION;
  return Reply{200, doc};
}

}  // namespace

void AddOpsRoutes(Router& router) {
  router.Add({"GET", "/healthz", Access::kPublic, {}, "", "Liveness", Healthz});
  router.Add({"GET", "/readyz", Access::kPublic, {}, "", "Readiness (the store answers)", Readyz});
  router.Add({"GET", "/api/v1/openapi.json", Access::kPublic, {}, "", "This API's OpenAPI document",
              OpenApi});
}

void AddAllRoutes(Router& router) {
  AddOpsRoutes(router);
  AddAuthRoutes(router);
  AddWorkspaceRoutes(router);
  AddMemberRoutes(router);
  AddMemoryRoutes(router);
  AddRelationshipRoutes(router);
  AddBatchRoutes(router);
  AddConflictRoutes(router);
  AddActivityRoutes(router);
  AddSyncRoutes(router);
}

}  // namespace mgteam::server
