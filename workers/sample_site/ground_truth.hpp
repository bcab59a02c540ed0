// GroundTruth: what the sample site generator put on the site, so a test can
// score a crawl and the pairing against it: every true before/after pair and
// its cue, the decoys, the unrelated images, the duplicates, the hazards
// (huge, broken, misnamed, redirecting, slow, rate-limited, noai) and the URLs
// a polite, SSRF-safe crawler must never request.
//
// Paths are the site's own ("/gallery/bella.html"); ToJson turns them into
// absolute URLs on a base ("http://127.0.0.1:8080"). Targets off the site
// (private redirect targets) are absolute already and stay as they are.
// A plain value: copyable, not synchronised (read it from any thread once
// built; the generator builds it and nothing changes it after).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace furrsight::workers::sample_site {

// How a pair can be told from the page.
enum class Cue {
  kAlt,               // <img alt="Bella before her groom"> / "... after ..."
  kCaption,           // <figure><figcaption>Before: ...</figcaption></figure>
  kFilename,          // bella-before.jpg / bella-after.jpg, neutral alt text
  kAdjacent,          // two consecutive images of the same dog in a gallery block, neutral text
  kCompositeSide,     // one image holding both halves, before on the left
  kCompositeStacked,  // one image holding both halves, before on top
};
inline constexpr Cue kAllCues[] = {Cue::kAlt,      Cue::kCaption,       Cue::kFilename,
                                   Cue::kAdjacent, Cue::kCompositeSide, Cue::kCompositeStacked};
std::string_view CueName(Cue cue);  // "alt" "caption" "filename" "adjacent" "composite-side" "composite-stacked"

struct TruePair {
  std::string page_path;
  std::string before_path;  // for a composite: the composite image
  std::string after_path;   // for a composite: the same image as before_path
  Cue cue = Cue::kAlt;
  std::string dog_name;
  std::string breed;            // as the page names it
  std::uint32_t dog_seed = 0;   // synthetic_dogs' Dog::seed
  int divider_px = 0;           // composites: the divider's width (0: the halves touch)
  int depth = 0;                // link depth of page_path from "/"
};

enum class DecoyKind {
  kLabelledDifferentDogs,  // labelled before/after (alt or caption) but two different dogs
  kAdjacentDifferentDogs,  // consecutive in a gallery block, two different dogs
};
std::string_view DecoyKindName(DecoyKind kind);  // "labelled-different-dogs" "adjacent-different-dogs"

struct Decoy {
  std::string page_path;
  std::string first_path;
  std::string second_path;
  DecoyKind kind = DecoyKind::kLabelledDifferentDogs;
};

// Images that are no dog photo at all (logo, banner, landscape).
struct UnrelatedImage {
  std::string path;
  std::string kind;  // "logo" "banner" "landscape"
  std::vector<std::string> page_paths;
};

enum class DuplicateKind {
  kExact,           // the same bytes at another URL on another page
  kSameUrl,         // the same URL on a second page
  kNearReencoded,   // the same pixels, encoded again at a lower quality
  kNearResized,     // the same picture, downscaled
  kSrcsetVariant,   // a smaller srcset candidate of a pair's image
};
std::string_view DuplicateKindName(DuplicateKind kind);  // "exact" "same-url" "near-reencoded" "near-resized" "srcset-variant"

struct Duplicate {
  DuplicateKind kind = DuplicateKind::kExact;
  std::string original_path;
  std::string copy_path;       // == original_path for kSameUrl
  std::string copy_page_path;  // where the copy is shown
};

// Responses a fetcher must survive. `kind` is one of:
//   huge-streamed (chunked, no Content-Length, larger than the cap), huge-declared (Content-Length above the
//   cap), bomb-jpeg / bomb-png (header declaring 50000x50000), truncated (a JPEG cut short), garbage (random
//   bytes as image/jpeg), html-at-jpg (a soft 404 page at a .jpg URL; text/html), html-as-jpeg (the same
//   served as image/jpeg), not-found (404), redirect-private (302 to a private address), noai-header (an image
//   answered with X-Robots-Tag: noai), noai-page (a page answered with X-Robots-Tag: noai), slow (answered
//   after the configured delay), rate-limited (429 + Retry-After the first time, then 200).
struct Hazard {
  std::string path;
  std::string kind;
  std::string page_path;  // where it is linked or shown from
  std::string target;     // redirect-private: the Location
};

// A URL no request may ever reach. reason: "robots" (under a Disallow of robots.txt), "private-redirect-target"
// (an address the SSRF guard must refuse), "noai-page" (an image of a page that opted out of AI use).
struct NeverFetch {
  std::string url;  // a site path, or an absolute URL off the site
  std::string reason;
  std::string page_path;  // where it is linked or shown from
};

struct GroundTruth {
  std::uint32_t seed = 0;
  std::vector<TruePair> pairs;
  std::vector<Decoy> decoys;
  std::vector<UnrelatedImage> unrelated;
  std::vector<Duplicate> duplicates;
  std::vector<Hazard> hazards;
  std::vector<NeverFetch> never_fetch;
  std::vector<std::string> pages;   // every HTML page path, robots-disallowed ones included
  std::vector<std::string> images;  // every image path a page shows (hazards and never_fetch included)
  int flat_images = 0;              // flat mode: the number of images listed on "/"

  std::size_t CountPairs(Cue cue) const;
};

// `base_url` has no trailing slash: "http://127.0.0.1:8080". See docs/sample-site.md for the format.
boost::json::object ToJson(const GroundTruth& truth, std::string_view base_url);
// A site path on `base_url`; an absolute URL unchanged.
std::string AbsoluteUrl(std::string_view base_url, std::string_view path_or_url);

}  // namespace furrsight::workers::sample_site
