// Page- and response-level robots directives: the value of an X-Robots-Tag
// header or of <meta name="robots"> (or <meta name="<product token>">).
// A value is comma-separated directives; "agent: directive" scopes the
// directives after it (up to the next agent) to that crawler, e.g.
//   X-Robots-Tag: noimageai
//   X-Robots-Tag: furrsightbot: noai, otherbot: noindex
// Directives the crawler acts on: noai and noimageai (the image is not used),
// nofollow and none (links are not followed); noindex is recorded.
// Pure functions: thread-safe.
#pragma once

#include <string_view>

namespace furrsight::workers {

struct RobotsDirectives {
  bool noindex = false;
  bool nofollow = false;
  bool noai = false;
  bool noimageai = false;

  // Either AI directive: the images it covers are skipped.
  bool ForbidsImageAi() const { return noai || noimageai; }
  void Merge(const RobotsDirectives& other);
};

// The directives in `value` that apply to `product_token` (case-insensitive):
// the unscoped ones and those scoped to that token.
RobotsDirectives ParseRobotsDirectives(std::string_view value, std::string_view product_token);

}  // namespace furrsight::workers
