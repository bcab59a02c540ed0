// The OpenAPI 3 document, generated from the route table itself so it can
// never list a route that does not exist or miss one that does. Each
// operation carries its summary, path parameters, the roles it needs
// (x-roles) and the security schemes (bearer JWT, X-API-Key); errors share
// one Problem schema. docs/openapi.json is this document (a test compares).
#include <boost/json.hpp>
#include <fmt/format.h>

#include "orchestrator/api/routes/route_support.hpp"
#include "orchestrator/api/routes/routes.hpp"

namespace furrsight::api {

namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

std::string OpenApiPath(const std::string& pattern, json::array& parameters) {
  std::string path;
  std::size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] != '{') {
      path += pattern[i++];
      continue;
    }
    const auto close = pattern.find('}', i);
    std::string name = pattern.substr(i + 1, close - i - 1);
    if (name.ends_with("...")) name.resize(name.size() - 3);
    path += "{" + name + "}";
    parameters.emplace_back(json::object{
        {"name", name}, {"in", "path"}, {"required", true}, {"schema", json::object{{"type", "string"}}}});
    i = close + 1;
  }
  return path;
}

json::object ProblemResponse(std::string_view description) {
  return json::object{
      {"description", description},
      {"content", json::object{{"application/problem+json",
                                json::object{{"schema", json::object{{"$ref", "#/components/schemas/Problem"}}}}}}}};
}

}  // namespace

json::object OpenApiDocument(const Router& router) {
  json::object paths;
  for (const auto& route : router.routes()) {
    if (route.pattern == "/" || route.pattern.starts_with("/ui/")) continue;  // the curation page's files are not API
    json::array parameters;
    const auto path = OpenApiPath(route.pattern, parameters);
    json::object responses{{"200", json::object{{"description", "OK"}}},
                           {"400", ProblemResponse("invalid input (invalid_argument)")}};
    json::object op{{"summary", route.summary},
                    {"operationId", fmt::format("{}_{}", std::string(http::to_string(route.method)), path)},
                    {"parameters", std::move(parameters)}};
    if (route.public_route) {
      op["security"] = json::array();
    } else {
      responses["401"] = ProblemResponse("no or bad credentials (unauthenticated)");
      responses["403"] = ProblemResponse("a role is missing (forbidden)");
      json::array roles;
      for (const auto& r : route.roles) roles.emplace_back(r);
      op["x-roles"] = std::move(roles);
    }
    op["responses"] = std::move(responses);
    std::string method(http::to_string(route.method));
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto& item = paths[path];
    if (!item.is_object()) item = json::object();
    item.as_object()[method] = std::move(op);
  }
  return json::object{
      {"openapi", "3.0.3"},
      {"info", json::object{{"title", "FurrSight API"},
                            {"version", "1"},
                            {"description", "Before/after dog-grooming pairs: reads, curation, jobs, the event log "
                                            "and operations. Errors are application/problem+json."}}},
      {"servers", json::array{json::object{{"url", "/"}}}},
      {"security", json::array{json::object{{"bearer", json::array()}}, json::object{{"apiKey", json::array()}}}},
      {"paths", std::move(paths)},
      {"components",
       json::object{
           {"securitySchemes",
            json::object{{"bearer", json::object{{"type", "http"}, {"scheme", "bearer"}, {"bearerFormat", "JWT"}}},
                         {"apiKey", json::object{{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}}}},
           {"schemas",
            json::object{{"Problem",
                          json::object{{"type", "object"},
                                       {"required", json::array{"type", "title", "status", "code", "detail"}},
                                       {"properties", json::object{{"type", json::object{{"type", "string"}}},
                                                                   {"title", json::object{{"type", "string"}}},
                                                                   {"status", json::object{{"type", "integer"}}},
                                                                   {"code", json::object{{"type", "string"}}},
                                                                   {"detail", json::object{{"type", "string"}}},
                                                                   {"request_id",
                                                                    json::object{{"type", "string"}}}}}}}}}}}};
}

void AddOpenApiRoute(Router& router) {
  // Built from the table as it is when asked (all routes are added by then).
  router.Add({http::verb::get, "/api/v1/openapi.json", roles::kReaders, false, "This OpenAPI 3 document",
              [&router](const ApiRequest&, const Principal&) -> base::Result<ApiResponse> {
                return ApiResponse::Json(200, OpenApiDocument(router));
              }});
}

}  // namespace furrsight::api
