// /api/v1/breeds and /api/v1/services: the catalog from its read models, with
// how many pairs use each entry. Admins add grooming services (breeds are
// registered by curation and inference as they appear).
#include <boost/json.hpp>
#include <fmt/format.h>

#include "orchestrator/api/http/json_body.hpp"
#include "orchestrator/api/routes/route_support.hpp"
#include "orchestrator/api/routes/routes.hpp"

namespace furrsight::api {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

inline constexpr std::string_view kBreeds = R"~(
SELECT coalesce(json_agg(json_build_object('id', b.id, 'name', b.name, 'slug', b.slug, 'created_at', b.created_at,
                                           'pair_count', (SELECT count(*) FROM grooming_pairs p
                                                          WHERE p.dog_breed_id = b.id))
                         ORDER BY b.name), '[]')::text
FROM dog_breeds b)~";

inline constexpr std::string_view kServices = R"~(
SELECT coalesce(json_agg(json_build_object('id', s.id, 'name', s.service_name, 'slug', s.slug,
                                           'description', s.description, 'created_at', s.created_at,
                                           'pair_count', (SELECT count(*) FROM pair_service_link l
                                                          WHERE l.grooming_service_id = s.id))
                         ORDER BY s.service_name), '[]')::text
FROM grooming_services s)~";

base::Result<ApiResponse> ListCatalog(ApiServices& s, const ApiRequest& req, std::string_view sql) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  auto items = QueryJson(s.pool, "reading the catalog", "", sql);
  if (!items) return std::unexpected(items.error());
  return JsonOk(json::object{{"items", std::move(*items)}});
}

base::Result<ApiResponse> AddService(ApiServices& s, const ApiRequest& req, const Principal& who) {
  static constexpr std::string_view kFields[] = {"name", "description"};
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  auto body = ParseJsonObject(req.body, kFields);
  if (!body) return std::unexpected(body.error());
  auto name = RequiredString(*body, "name");
  auto description = OptionalString(*body, "description");
  if (!name) return std::unexpected(name.error());
  if (!description) return std::unexpected(description.error());
  auto slug = s.curation.AddService(*name, description->value_or(""), CommandContextFor(req, who, s.now_us()));
  if (!slug) return std::unexpected(slug.error());
  return ApiResponse::Json(201, json::object{{"name", *name}, {"slug", *slug}})
      .WithHeader("Location", "/api/v1/services");
}

}  // namespace

void AddCatalogRoutes(Router& router, ApiServices& s) {
  router.Add({http::verb::get, "/api/v1/breeds", roles::kReaders, false, "Dog breeds with their pair counts",
              [&s](const ApiRequest& req, const Principal&) { return ListCatalog(s, req, kBreeds); }});
  router.Add({http::verb::get, "/api/v1/services", roles::kReaders, false,
              "Grooming services with their pair counts",
              [&s](const ApiRequest& req, const Principal&) { return ListCatalog(s, req, kServices); }});
  router.Add({http::verb::post, "/api/v1/services", roles::kAdmins, false, "Add a grooming service (admins)",
              [&s](const ApiRequest& req, const Principal& who) { return AddService(s, req, who); }});
}

}  // namespace furrsight::api
