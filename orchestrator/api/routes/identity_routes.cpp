// /api/v1/me: who the API takes the caller to be — subject, roles, how they
// signed in, and the actor their commands record — so a client (the curation
// page) can show it and offer only what those roles allow.
#include <boost/json.hpp>

#include "orchestrator/api/routes/route_support.hpp"
#include "orchestrator/api/routes/routes.hpp"

namespace furrsight::api {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

base::Result<ApiResponse> Me(const ApiRequest& req, const Principal& who) {
  if (auto ok = CheckQueryParams(req, {}); !ok) return std::unexpected(ok.error());
  json::array roles;
  for (const auto& r : who.roles) roles.emplace_back(r);
  return JsonOk(json::object{{"subject", who.subject},
                             {"roles", std::move(roles)},
                             {"via", who.via},
                             {"display_name", who.display_name},
                             {"email", who.email},
                             {"actor", ActorOf(who)}});
}

}  // namespace

void AddIdentityRoutes(Router& router) {
  router.Add({http::verb::get, "/api/v1/me", roles::kReaders, false,
              "Who the API takes the caller to be: subject, roles, sign-in kind, recorded actor",
              [](const ApiRequest& req, const Principal& who) { return Me(req, who); }});
}

}  // namespace furrsight::api
