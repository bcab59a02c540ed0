// Router: the API's request handling as a pure function, with no sockets in
// it. Handle() matches the path against the route patterns, authenticates
// (unless the route is public), checks roles, calls the handler and turns
// every failure into a problem response:
//   unknown path → 404 not_found; known path, other method → 405
//   method_not_allowed with Allow; bad credentials → 401 unauthenticated with
//   WWW-Authenticate: Bearer; missing role → 403 forbidden; a handler's error
//   → ProblemFromError; a handler's exception → 500 internal (logged).
// Every response carries X-Request-Id.
//
// Routes are added before the server starts; after that Handle() is const
// and called from several worker threads at once.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "events/base/error.hpp"
#include "orchestrator/api/http/api_request.hpp"
#include "orchestrator/api/http/api_response.hpp"
#include "orchestrator/api/http/authenticator.hpp"
#include "orchestrator/api/http/principal.hpp"

namespace furrsight::api {

struct Route {
  boost::beast::http::verb method;
  // "/api/v1/pairs/{id}/verify": "{name}" matches one segment; a last
  // "{name...}" matches the rest of the path (one or more segments).
  std::string pattern;
  std::vector<std::string> roles;  // any one of them suffices; empty: any authenticated principal
  bool public_route = false;       // no authentication at all (e.g. /healthz)
  std::string summary;
  std::function<base::Result<ApiResponse>(const ApiRequest&, const Principal&)> handler;
};

class Router {
 public:
  explicit Router(Authenticator& authenticator);

  // A pattern must start with '/'; a duplicate method+pattern is a bug and
  // throws std::logic_error.
  void Add(Route route);
  const std::vector<Route>& routes() const { return routes_; }

  // Fills request.path_params, request.route_pattern and (when empty)
  // request.request_id, then answers.
  ApiResponse Handle(ApiRequest& request) const;

 private:
  ApiResponse Dispatch(ApiRequest& request) const;

  Authenticator& authenticator_;
  std::vector<Route> routes_;
  std::vector<std::vector<std::string>> segments_;  // routes_[i]'s pattern split at '/'
};

// A request id: the incoming X-Request-Id if it is 1-128 characters of
// [A-Za-z0-9._-], else a new UUID.
std::string RequestIdFor(std::string_view incoming);

}  // namespace furrsight::api
