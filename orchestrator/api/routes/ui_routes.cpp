// The curation page: static files from the ui/ folder (setting ui_dir),
// served without credentials — the page holds no data; it signs in with an
// API key (or a bearer token) and calls the API like any other client.
// GET / redirects to /ui/.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "orchestrator/api/http/problem.hpp"
#include "orchestrator/api/routes/route_support.hpp"
#include "orchestrator/api/routes/routes.hpp"

namespace furrsight::api {
namespace {

namespace http = boost::beast::http;
namespace fs = std::filesystem;

std::string_view ContentTypeOf(const fs::path& file) {
  const auto ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".json") return "application/json";
  return "application/octet-stream";
}

base::Result<ApiResponse> UiFile(const fs::path& root, std::string_view relative) {
  if (root.empty()) return Problem(404, "no_ui", "the curation page is not installed here (setting ui_dir)");
  // The router refuses empty, "." and ".." segments, so `relative` stays under root.
  const fs::path file = root / (relative.empty() ? std::string_view("index.html") : relative);
  std::error_code ec;
  // Resolved (symlinks too), the file must still be under the page's folder.
  const fs::path real = fs::weakly_canonical(file, ec), real_root = fs::weakly_canonical(root, ec);
  const auto [end, _] = std::mismatch(real_root.begin(), real_root.end(), real.begin(), real.end());
  if (ec || end != real_root.end() || !fs::is_regular_file(real, ec))
    return Problem(404, "not_found", fmt::format("no file {} in the curation page", relative));
  return ApiResponse::File(std::string(ContentTypeOf(real)), real).WithHeader("Cache-Control", "no-cache");
}

}  // namespace

void AddUiRoutes(Router& router, const std::filesystem::path& ui_dir) {
  router.Add({http::verb::get, "/", {}, true, "The curation page: a redirect to /ui/",
              [](const ApiRequest&, const Principal&) -> base::Result<ApiResponse> {
                return ApiResponse::Redirect("/ui/");
              }});
  router.Add({http::verb::get, "/ui/", {}, true, "The curation page (static files of ui/)",
              [ui_dir](const ApiRequest&, const Principal&) { return UiFile(ui_dir, ""); }});
  router.Add({http::verb::get, "/ui/{path...}", {}, true, "A static file of the curation page",
              [ui_dir](const ApiRequest& req, const Principal&) { return UiFile(ui_dir, req.Param("path")); }});
}

}  // namespace furrsight::api
