#include "workers/scrape/html_extract.hpp"

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace furrsight::workers {
namespace {

// Deeper elements are not visited: a hostile page cannot exhaust the stack.
constexpr int kMaxTreeDepth = 400;
// How many enclosing elements are tried for nearby text and captions.
constexpr int kMaxContextAscent = 4;
constexpr std::array<std::string_view, 9> kImageTypes = {"image/jpeg", "image/jpg", "image/pjpeg", "image/png",
                                                         "image/gif",  "image/webp", "image/avif", "image/bmp",
                                                         "image/apng"};
// Attributes lazy-loading scripts keep the real image in, in order of preference.
constexpr std::array<const char*, 4> kLazySrc = {"data-src", "data-lazy-src", "data-original", "data-lazy"};
// Inline elements: an image's nearby text comes from the closest element not among these.
constexpr std::array<std::string_view, 17> kInline = {"a",    "span", "picture", "em",  "strong", "b",
                                                      "i",    "u",    "small",   "source", "noscript", "mark",
                                                      "abbr", "cite", "font",    "sup", "sub"};
// Links to these are not pages: they are never followed (nor fetched).
constexpr std::array<std::string_view, 33> kNotPageExtensions = {
    ".pdf", ".zip", ".gz",  ".tgz", ".tar", ".rar", ".7z",   ".exe", ".dmg",  ".msi",  ".apk",
    ".mp3", ".mp4", ".m4a", ".m4v", ".mov", ".avi", ".mkv",  ".webm", ".wav", ".ogg",  ".flac",
    ".css", ".js",  ".json", ".xml", ".rss", ".svg", ".ico", ".woff", ".woff2", ".ttf", ".docx"};
constexpr std::array<std::string_view, 6> kOgImageProperties = {
    "og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src", "image_src"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Collapses whitespace runs (and no-break spaces) to one space and trims.
void AppendCollapsed(std::string& out, std::string_view text, std::size_t cap) {
  for (std::size_t i = 0; i < text.size() && out.size() < cap; ++i) {
    char c = text[i];
    bool space = IsSpace(c);
    if (c == '\xC2' && i + 1 < text.size() && text[i + 1] == '\xA0') {
      space = true;
      ++i;
    }
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
}

// Trims and cuts to `cap` bytes without splitting a UTF-8 sequence.
std::string Finish(std::string text, std::size_t cap) {
  if (text.size() > cap) {
    std::size_t cut = cap;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  std::size_t first = text.find_first_not_of(' ');
  return first == std::string::npos ? std::string() : text.substr(first);
}

std::string Collapse(std::string_view text, std::size_t cap) {
  std::string out;
  AppendCollapsed(out, text, cap + 1);
  return Finish(std::move(out), cap);
}

bool IsElement(const GumboNode* node) {
  return node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE;
}

std::string TagName(const GumboNode* node) {
  if (!IsElement(node)) return "";
  const GumboElement& element = node->v.element;
  if (element.tag != GUMBO_TAG_UNKNOWN) return gumbo_normalized_tagname(element.tag);
  GumboStringPiece piece = element.original_tag;
  gumbo_tag_from_original_text(&piece);
  return Lower(std::string_view(piece.data, piece.length));
}

const char* Attribute(const GumboNode* node, const char* name) {
  if (!IsElement(node)) return nullptr;
  const GumboAttribute* attribute = gumbo_get_attribute(&node->v.element.attributes, name);
  return attribute == nullptr ? nullptr : attribute->value;
}

std::string AttributeOr(const GumboNode* node, const char* name) {
  const char* value = Attribute(node, name);
  return value == nullptr ? std::string() : std::string(value);
}

template <class F>
void ForEachChild(const GumboNode* node, F&& f) {
  if (!IsElement(node) && node->type != GUMBO_NODE_DOCUMENT) return;
  const GumboVector& children =
      node->type == GUMBO_NODE_DOCUMENT ? node->v.document.children : node->v.element.children;
  for (unsigned i = 0; i < children.length; ++i) f(static_cast<const GumboNode*>(children.data[i]));
}

// Text of `node` and its descendants, without scripts, styles and (unless
// asked for) figcaptions, up to `cap` bytes.
void CollectText(const GumboNode* node, std::string& out, std::size_t cap, bool skip_figcaption, int depth = 0) {
  if (out.size() >= cap || depth > kMaxTreeDepth) return;
  if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA || node->type == GUMBO_NODE_WHITESPACE) {
    AppendCollapsed(out, node->v.text.text, cap);
    return;
  }
  if (!IsElement(node)) return;
  GumboTag tag = node->v.element.tag;
  if (tag == GUMBO_TAG_SCRIPT || tag == GUMBO_TAG_STYLE || tag == GUMBO_TAG_NOSCRIPT || tag == GUMBO_TAG_TEMPLATE)
    return;
  if (skip_figcaption && tag == GUMBO_TAG_FIGCAPTION) return;
  bool block = tag != GUMBO_TAG_UNKNOWN && std::find(kInline.begin(), kInline.end(), TagName(node)) == kInline.end();
  if (block && !out.empty() && out.back() != ' ') out += ' ';
  ForEachChild(node, [&](const GumboNode* child) { CollectText(child, out, cap, skip_figcaption, depth + 1); });
  if (block && !out.empty() && out.back() != ' ') out += ' ';
}

bool IsUsableImageType(std::string_view type) {
  if (type.empty()) return true;
  std::string lower = Lower(type.substr(0, type.find(';')));
  return std::find(kImageTypes.begin(), kImageTypes.end(), lower) != kImageTypes.end();
}

std::optional<double> ParseNumber(std::string_view text) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || !(value > 0)) return std::nullopt;
  return value;
}

class Extractor {
 public:
  Extractor(const Url& page_url, const ExtractOptions& options)
      : base_(page_url), options_(options), token_(Lower(options.product_token)) {}

  ExtractedPage Run(const GumboNode* document) {
    Walk(document, 0);
    for (auto& og : og_images_) AddImage(std::move(og));
    for (std::size_t i = 0; i < page_.images.size(); ++i) page_.images[i].context.position = static_cast<int>(i);
    return std::move(page_);
  }

 private:
  // The <a href> to an image file that the elements being walked are inside.
  struct ImageLink {
    Url url;
    std::string title;
    bool used = false;  // an <img> inside took its URL
  };

  void Walk(const GumboNode* node, int depth) {
    if (depth > kMaxTreeDepth) return;
    if (node->type == GUMBO_NODE_DOCUMENT) {
      ForEachChild(node, [&](const GumboNode* child) { Walk(child, depth + 1); });
      return;
    }
    if (!IsElement(node)) return;
    GumboTag tag = node->v.element.tag;
    switch (tag) {
      case GUMBO_TAG_SCRIPT:
      case GUMBO_TAG_STYLE:
      case GUMBO_TAG_TEMPLATE:
        return;
      case GUMBO_TAG_BASE: OnBase(node); return;
      case GUMBO_TAG_TITLE:
        if (page_.title.empty()) {
          std::string text;
          CollectText(node, text, options_.max_text + 1, false);
          page_.title = Finish(std::move(text), options_.max_text);
        }
        return;
      case GUMBO_TAG_META: OnMeta(node); return;
      case GUMBO_TAG_IMG: OnImg(node, node); return;
      case GUMBO_TAG_NOSCRIPT: OnNoscript(node, depth); return;
      case GUMBO_TAG_A:
      case GUMBO_TAG_AREA: OnAnchor(node, depth); return;
      default: break;
    }
    if (TagName(node) == "picture") {
      OnPicture(node);
      return;
    }
    ForEachChild(node, [&](const GumboNode* child) { Walk(child, depth + 1); });
  }

  void OnBase(const GumboNode* node) {
    if (base_set_) return;
    base_set_ = true;
    if (const char* href = Attribute(node, "href"))
      if (auto url = Url::Resolve(base_, href)) base_ = std::move(*url);
  }

  void OnMeta(const GumboNode* node) {
    std::string name = Lower(AttributeOr(node, "name"));
    std::string property = Lower(AttributeOr(node, "property"));
    std::string content = AttributeOr(node, "content");
    if (name == "robots" || (!name.empty() && name == token_))
      page_.robots.Merge(ParseRobotsDirectives(content, token_));
    std::string key = property.empty() ? name : property;
    if (key == "og:image:alt" || key == "twitter:image:alt") {
      if (og_alt_.empty()) og_alt_ = Collapse(content, options_.max_text);
      for (auto& og : og_images_)
        if (og.context.alt.empty()) og.context.alt = og_alt_;
    } else if (key == "og:title" && og_title_.empty()) {
      og_title_ = Collapse(content, options_.max_text);
    } else if (std::find(kOgImageProperties.begin(), kOgImageProperties.end(), key) != kOgImageProperties.end()) {
      const char* value = content.empty() ? Attribute(node, "href") : content.c_str();
      if (value == nullptr) return;
      if (auto url = Url::Resolve(base_, value)) {
        ImageRef ref{*url, ImageSource::kOgImage, {}};
        ref.context.alt = og_alt_;
        ref.context.title = og_title_;
        og_images_.push_back(std::move(ref));
      }
    }
  }

  // Every URL an <img> may show: its srcset candidates and its src (or the
  // lazy-loading attribute that stands in for it).
  std::vector<SrcsetCandidate> ImgCandidates(const GumboNode* img) {
    std::vector<SrcsetCandidate> candidates;
    AddSrcset(candidates, Attribute(img, "srcset"));
    AddSrcset(candidates, Attribute(img, "data-srcset"));
    std::string src = AttributeOr(img, "src");
    if (src.empty() || src.starts_with("data:")) {
      src.clear();
      for (const char* lazy : kLazySrc)
        if (const char* value = Attribute(img, lazy); value != nullptr && *value != '\0') {
          src = value;
          break;
        }
    }
    if (!src.empty()) candidates.push_back({src, 0, 1.0});
    return candidates;
  }

  void AddSrcset(std::vector<SrcsetCandidate>& out, const char* srcset) {
    if (srcset == nullptr) return;
    for (auto& candidate : ParseSrcset(srcset)) out.push_back(std::move(candidate));
  }

  // The largest candidate that resolves to an http(s) URL.
  std::optional<Url> Best(std::vector<SrcsetCandidate> candidates) {
    while (!candidates.empty()) {
      auto best = PickLargest(candidates);
      if (auto url = Url::Resolve(base_, best->url)) return *url;
      std::erase_if(candidates, [&](const SrcsetCandidate& c) { return c.url == best->url; });
    }
    return std::nullopt;
  }

  void OnImg(const GumboNode* img, const GumboNode* context_node) {
    std::optional<Url> url = Best(ImgCandidates(img));
    ImageSource source = ImageSource::kImg;
    if (link_ != nullptr) {  // <a href="full.jpg"><img src="thumb.jpg"></a>: the full size
      url = link_->url;
      link_->used = true;
      source = ImageSource::kLinkedImage;
    }
    if (!url) return;
    ImageRef ref{std::move(*url), source, Context(img, context_node)};
    if (ref.context.title.empty() && link_ != nullptr) ref.context.title = link_->title;
    AddImage(std::move(ref));
  }

  void OnPicture(const GumboNode* picture) {
    std::vector<SrcsetCandidate> candidates;
    const GumboNode* img = nullptr;
    ForEachChild(picture, [&](const GumboNode* child) {
      if (!IsElement(child)) return;
      if (child->v.element.tag == GUMBO_TAG_SOURCE && IsUsableImageType(AttributeOr(child, "type"))) {
        AddSrcset(candidates, Attribute(child, "srcset"));
        AddSrcset(candidates, Attribute(child, "data-srcset"));
      }
      if (child->v.element.tag == GUMBO_TAG_IMG && img == nullptr) img = child;
    });
    if (img != nullptr)
      for (auto& candidate : ImgCandidates(img)) candidates.push_back(std::move(candidate));
    std::optional<Url> url = Best(candidates);
    ImageSource source = ImageSource::kPicture;
    if (link_ != nullptr) {
      url = link_->url;
      link_->used = true;
      source = ImageSource::kLinkedImage;
    }
    if (!url) return;
    const GumboNode* context_node = img != nullptr ? img : picture;
    ImageRef ref{std::move(*url), source, Context(context_node, picture)};
    AddImage(std::move(ref));
  }

  // Lazy-loading pages put the real <img> in <noscript>, which gumbo keeps as
  // text: parse it as a fragment; the context comes from around the <noscript>.
  void OnNoscript(const GumboNode* noscript, int depth) {
    std::string markup;
    ForEachChild(noscript, [&](const GumboNode* child) {
      if (child->type == GUMBO_NODE_TEXT || child->type == GUMBO_NODE_WHITESPACE) markup += child->v.text.text;
    });
    if (markup.find("<img") == std::string::npos && markup.find("<IMG") == std::string::npos) {
      ForEachChild(noscript, [&](const GumboNode* child) { Walk(child, depth + 1); });
      return;
    }
    GumboOptions options = kGumboDefaultOptions;
    options.max_errors = 0;
    options.fragment_context = GUMBO_TAG_DIV;
    std::unique_ptr<GumboOutput, void (*)(GumboOutput*)> fragment(
        gumbo_parse_with_options(&options, markup.data(), markup.size()),
        [](GumboOutput* out) { gumbo_destroy_output(&kGumboDefaultOptions, out); });
    WalkNoscriptImages(fragment->root, noscript, 0);
  }

  void WalkNoscriptImages(const GumboNode* node, const GumboNode* noscript, int depth) {
    if (depth > kMaxTreeDepth || !IsElement(node)) return;
    if (node->v.element.tag == GUMBO_TAG_IMG) {
      OnImg(node, noscript);
      return;
    }
    ForEachChild(node, [&](const GumboNode* child) { WalkNoscriptImages(child, noscript, depth + 1); });
  }

  void OnAnchor(const GumboNode* anchor, int depth) {
    const char* href = Attribute(anchor, "href");
    std::optional<Url> url;
    if (href != nullptr)
      if (auto resolved = Url::Resolve(base_, href)) url = std::move(*resolved);
    if (!url || !url->HasImageExtension() || link_ != nullptr) {
      if (url) AddLink(std::move(*url));
      ForEachChild(anchor, [&](const GumboNode* child) { Walk(child, depth + 1); });
      return;
    }
    ImageLink link{*url, Collapse(AttributeOr(anchor, "title"), options_.max_text)};
    link_ = &link;
    ForEachChild(anchor, [&](const GumboNode* child) { Walk(child, depth + 1); });
    link_ = nullptr;
    if (link.used) return;
    ImageRef ref{std::move(link.url), ImageSource::kLinkedImage, Context(nullptr, anchor)};
    std::string text;
    CollectText(anchor, text, options_.max_text + 1, true);
    ref.context.alt = Finish(std::move(text), options_.max_text);
    ref.context.title = link.title;
    AddImage(std::move(ref));
  }

  // alt and title from `img` (when there is one); caption and nearby text
  // from around `anchor`.
  ImageContext Context(const GumboNode* img, const GumboNode* anchor) {
    ImageContext context;
    if (img != nullptr) {
      context.alt = Collapse(AttributeOr(img, "alt"), options_.max_text);
      context.title = Collapse(AttributeOr(img, "title"), options_.max_text);
    }
    const GumboNode* node = anchor->parent;
    for (int up = 0; node != nullptr && IsElement(node) && up < kMaxContextAscent; node = node->parent) {
      if (node->v.element.tag == GUMBO_TAG_FIGURE) {
        ForEachChild(node, [&](const GumboNode* child) {
          if (context.caption.empty() && IsElement(child) && child->v.element.tag == GUMBO_TAG_FIGCAPTION) {
            std::string text;
            CollectText(child, text, options_.max_text + 1, false);
            context.caption = Finish(std::move(text), options_.max_text);
          }
        });
        break;
      }
      if (node->v.element.tag == GUMBO_TAG_BODY) break;
      if (std::find(kInline.begin(), kInline.end(), TagName(node)) == kInline.end()) ++up;
    }
    node = anchor->parent;
    for (int up = 0; node != nullptr && IsElement(node) && up < kMaxContextAscent; node = node->parent) {
      if (node->v.element.tag == GUMBO_TAG_BODY) break;
      if (std::find(kInline.begin(), kInline.end(), TagName(node)) != kInline.end()) continue;
      ++up;
      const std::string& text = BlockText(node);
      if (!text.empty()) {
        context.nearby_text = text;
        break;
      }
    }
    return context;
  }

  const std::string& BlockText(const GumboNode* node) {
    auto it = block_text_.find(node);
    if (it != block_text_.end()) return it->second;
    std::string text;
    CollectText(node, text, options_.max_text + 1, true);
    return block_text_.emplace(node, Finish(std::move(text), options_.max_text)).first->second;
  }

  void AddImage(ImageRef ref) {
    if (page_.images.size() >= options_.max_images) return;
    if (!image_urls_.insert(ref.url.spec()).second) {
      // Seen before: fill in what the first occurrence lacked.
      for (auto& existing : page_.images) {
        if (existing.url != ref.url) continue;
        auto fill = [](std::string& to, const std::string& from) {
          if (to.empty()) to = from;
        };
        fill(existing.context.alt, ref.context.alt);
        fill(existing.context.title, ref.context.title);
        fill(existing.context.caption, ref.context.caption);
        fill(existing.context.nearby_text, ref.context.nearby_text);
        break;
      }
      return;
    }
    page_.images.push_back(std::move(ref));
  }

  static bool IsNotAPage(const Url& url) {
    std::string last = Lower(std::string_view(url.path()).substr(url.path().rfind('/') + 1));
    return std::any_of(kNotPageExtensions.begin(), kNotPageExtensions.end(),
                       [&](std::string_view ext) { return last.ends_with(ext); });
  }

  void AddLink(Url url) {
    if (page_.links.size() >= options_.max_links || IsNotAPage(url)) return;
    if (link_urls_.insert(url.spec()).second) page_.links.push_back(std::move(url));
  }

  Url base_;
  const ExtractOptions& options_;
  std::string token_;
  bool base_set_ = false;
  ImageLink* link_ = nullptr;
  std::string og_alt_;
  std::string og_title_;
  std::vector<ImageRef> og_images_;
  std::unordered_set<std::string> image_urls_;
  std::unordered_set<std::string> link_urls_;
  std::unordered_map<const GumboNode*, std::string> block_text_;
  ExtractedPage page_;
};

}  // namespace

std::string_view ImageSourceName(ImageSource source) {
  switch (source) {
    case ImageSource::kImg: return "img";
    case ImageSource::kPicture: return "picture";
    case ImageSource::kLinkedImage: return "link";
    case ImageSource::kOgImage: return "og:image";
    case ImageSource::kSearchResult: return "search";
    case ImageSource::kPageUrl: return "page_url";
  }
  return "img";
}

std::vector<SrcsetCandidate> ParseSrcset(std::string_view s) {
  std::vector<SrcsetCandidate> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (IsSpace(s[i]) || s[i] == ',')) ++i;
    if (i >= s.size()) break;
    std::size_t start = i;
    while (i < s.size() && !IsSpace(s[i])) ++i;
    std::string_view url = s.substr(start, i - start);
    SrcsetCandidate candidate;
    if (url.ends_with(',')) {
      while (url.ends_with(',')) url.remove_suffix(1);
    } else {
      // Descriptors run to the next comma outside parentheses.
      std::size_t begin = i;
      int parens = 0;
      while (i < s.size() && (s[i] != ',' || parens > 0)) {
        if (s[i] == '(') ++parens;
        if (s[i] == ')' && parens > 0) --parens;
        ++i;
      }
      std::string_view descriptors = s.substr(begin, i - begin);
      std::size_t d = 0;
      while (d < descriptors.size()) {
        while (d < descriptors.size() && IsSpace(descriptors[d])) ++d;
        std::size_t token_start = d;
        while (d < descriptors.size() && !IsSpace(descriptors[d])) ++d;
        std::string_view token = descriptors.substr(token_start, d - token_start);
        if (token.size() < 2) continue;
        auto value = ParseNumber(token.substr(0, token.size() - 1));
        if (!value) continue;
        if (token.back() == 'w') candidate.width = *value;
        if (token.back() == 'x') candidate.density = *value;
      }
    }
    if (url.empty()) continue;
    candidate.url = std::string(url);
    out.push_back(std::move(candidate));
  }
  return out;
}

std::optional<SrcsetCandidate> PickLargest(const std::vector<SrcsetCandidate>& candidates) {
  const SrcsetCandidate* best = nullptr;
  bool any_width = std::any_of(candidates.begin(), candidates.end(), [](const auto& c) { return c.width > 0; });
  for (const auto& c : candidates) {
    if (any_width) {
      if (c.width > 0 && (best == nullptr || c.width > best->width)) best = &c;
    } else if (best == nullptr || c.density > best->density) {
      best = &c;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

ExtractedPage ExtractPage(std::string_view html, const Url& page_url, const ExtractOptions& options) {
  GumboOptions gumbo_options = kGumboDefaultOptions;
  gumbo_options.max_errors = 0;
  if (html.empty()) html = " ";
  std::unique_ptr<GumboOutput, void (*)(GumboOutput*)> output(
      gumbo_parse_with_options(&gumbo_options, html.data(), html.size()),
      [](GumboOutput* out) { gumbo_destroy_output(&kGumboDefaultOptions, out); });
  Extractor extractor(page_url, options);
  return extractor.Run(output->document);
}

}  // namespace furrsight::workers
