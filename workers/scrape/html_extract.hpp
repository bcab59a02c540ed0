// HTML extraction with gumbo: the links of a page and its images with their
// context, in document order.
//   - Images: <img> (the largest srcset candidate, else src; lazy-loading
//     data-srcset/data-src/data-lazy-src/data-original when src is missing or
//     a data: URI), <picture> (one image: the largest candidate among its
//     <source srcset> of a usable type and its <img>), <a href> to an image file
//     (.jpg .jpeg .png .gif .webp .avif .bmp; when it wraps an <img>, the link's
//     target replaces the thumbnail), <img> inside <noscript>, and og:image /
//     twitter:image (appended last: it is not a place on the page).
//   - Context: alt and title; caption = the <figcaption> of the enclosing
//     <figure>; nearby text = the text of the closest enclosing block that has
//     any (figcaptions, scripts and styles left out), whitespace collapsed and
//     cut to ExtractOptions::max_text bytes; position = index among the page's
//     images, from 0, after duplicates (same URL) are merged into the first.
//   - Links: <a href> and <area href>, resolved against <base href>,
//     normalised (Url), deduplicated, http/https only; links to files that
//     are no pages (.pdf .zip .mp4 .css .js .xml .svg ...) are left out.
//   - <meta name="robots"> and <meta name="<product token>">: robots directives.
// A pure function of its input: thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workers/scrape/robots_directives.hpp"
#include "workers/scrape/url.hpp"

namespace furrsight::workers {

enum class ImageSource {
  kImg,
  kPicture,
  kLinkedImage,
  kOgImage,
  kSearchResult,  // not from a page: a search provider's img_src (see Crawler)
  kPageUrl,       // not from a page's markup: a page URL that served an image
};
// "img", "picture", "link", "og:image", "search", "page_url"
std::string_view ImageSourceName(ImageSource source);

struct ImageContext {
  std::string alt;  // for a bare <a href> to an image: the link's text
  std::string title;
  std::string caption;
  std::string nearby_text;
  int position = 0;
};

struct ImageRef {
  Url url;
  ImageSource source = ImageSource::kImg;
  ImageContext context;
};

struct ExtractedPage {
  std::string title;
  std::vector<Url> links;
  std::vector<ImageRef> images;
  RobotsDirectives robots;  // from <meta>
};

struct ExtractOptions {
  std::string product_token = "FurrSightBot";  // for <meta name="furrsightbot">
  std::size_t max_links = 1000;
  std::size_t max_images = 500;
  std::size_t max_text = 300;  // bytes of caption / nearby text / title kept
};

ExtractedPage ExtractPage(std::string_view html, const Url& page_url, const ExtractOptions& options = {});

// One candidate of a srcset attribute: "img-640.jpg 640w" or "img@2x.jpg 2x".
struct SrcsetCandidate {
  std::string url;       // as written (maybe relative)
  double width = 0;      // the w descriptor, 0 when none
  double density = 1.0;  // the x descriptor, 1 when none
};

// WHATWG srcset parsing (URLs may contain commas; descriptors may not).
std::vector<SrcsetCandidate> ParseSrcset(std::string_view srcset);
// The largest candidate: the widest among those with a w descriptor, else the
// highest density; the first on ties. nullopt when there is none.
std::optional<SrcsetCandidate> PickLargest(const std::vector<SrcsetCandidate>& candidates);

}  // namespace furrsight::workers
