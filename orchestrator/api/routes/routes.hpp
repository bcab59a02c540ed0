// The REST API's route groups under /api/v1 (docs/api.md). Each Add*Routes
// adds one group's routes, each with the roles it needs, to the router; the
// handlers hold a reference to `services`, which must outlive the router.
#pragma once

#include <filesystem>

#include "orchestrator/api/http/router.hpp"
#include "orchestrator/api/routes/api_services.hpp"

namespace furrsight::api {

void AddPairRoutes(Router& router, ApiServices& services);       // pairs, curation
void AddJobRoutes(Router& router, ApiServices& services);        // jobs
void AddDatasetRoutes(Router& router, ApiServices& services);    // PixCrawler's projects, crawl jobs, images, ...
void AddCatalogRoutes(Router& router, ApiServices& services);    // breeds, grooming services
void AddEventRoutes(Router& router, ApiServices& services);      // the log for auditors, SSE
void AddOperationRoutes(Router& router, ApiServices& services);  // health, metrics, projections
void AddImageRoutes(Router& router, ApiServices& services);      // images and presigned blobs
void AddIdentityRoutes(Router& router);                          // who the caller is
// The curation page's static files (ui_dir empty: every page is a 404 saying so).
void AddUiRoutes(Router& router, const std::filesystem::path& ui_dir);
// The OpenAPI 3 document of every route the router holds (call it last).
void AddOpenApiRoute(Router& router);
boost::json::object OpenApiDocument(const Router& router);

inline void AddAllRoutes(Router& router, ApiServices& services) {
  AddPairRoutes(router, services);
  AddJobRoutes(router, services);
  AddDatasetRoutes(router, services);
  AddCatalogRoutes(router, services);
  AddEventRoutes(router, services);
  AddOperationRoutes(router, services);
  AddImageRoutes(router, services);
  AddIdentityRoutes(router);
  AddOpenApiRoute(router);
}

}  // namespace furrsight::api
