// ApiRequest: one HTTP request as the router and the handlers see it, with no
// socket in it (the server fills it from the wire; tests build one by hand).
// A plain value owned by whoever handles the request; not shared between
// threads while it is being handled.
#pragma once

#include <map>
#include <optional>
#include <ostream>  // Boost 1.81's core/detail/string_view.hpp uses std::ostream without including it
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/verb.hpp>

namespace furrsight::api {

struct ApiRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target;  // as sent: "/api/v1/pairs?limit=5"
  std::string path;    // the target before '?', not decoded: "/api/v1/pairs"
  // Filled by Router::Handle from the matched pattern, percent-decoded.
  std::map<std::string, std::string, std::less<>> path_params;
  std::map<std::string, std::string, std::less<>> query;  // percent-decoded; '+' is a space
  std::string body;
  // From a well-formed incoming X-Request-Id, else generated; echoed back.
  std::string request_id;
  // Header names lower-cased, in the order received; repeated names repeat.
  std::vector<std::pair<std::string, std::string>> headers;
  // Filled by Router::Handle: the matched route's pattern, "" if none
  // matched (used as the metrics label, so it never holds raw paths).
  std::string route_pattern;

  // The first value of header `name` (case-insensitive), "" if absent.
  std::string_view Header(std::string_view name) const;
  void AddHeader(std::string_view name, std::string value);
  // The path parameter `name`, "" if the pattern has none of that name.
  std::string_view Param(std::string_view name) const;
  std::optional<std::string_view> Query(std::string_view name) const;

  // Sets target, path and query from a request target. Malformed
  // percent-escapes are kept as they are.
  void SetTarget(std::string_view request_target);
};

// Decodes %XX escapes (and '+' as a space when `plus_is_space`); a '%' not
// followed by two hex digits is kept literally.
std::string PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace furrsight::api
