#include "workers/sample_site/site_generator.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <deque>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <opencv2/core.hpp>

#include "workers/sample_site/site_pictures.hpp"
#include "workers/sample_site/synthetic_dogs.hpp"

namespace furrsight::workers::sample_site {
namespace {

using base::ErrorCode;
using base::Fail;
using base::Result;

constexpr std::string_view kSalonName = "Happy Paws Grooming";
constexpr std::string_view kHtml = "text/html; charset=utf-8";
constexpr std::string_view kJpeg = "image/jpeg";
constexpr std::string_view kPng = "image/png";
constexpr std::size_t kFixedPages = 14;  // the pages BuildSalon always makes, besides the content pages
constexpr int kFlatPerPage = 250;
constexpr int kFlatBasePhotos = 24;
constexpr int kFlatQuality = 80;
constexpr int kNearDuplicateQuality = 55;
constexpr std::size_t kHugePrefixBytes = 4096;
constexpr int kBombSide = 50000;
// A 1x1 transparent GIF, the placeholder of lazy-loaded images.
constexpr std::string_view kPlaceholder =
    "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

constexpr std::array kNames = {"Bella",  "Max",    "Luna",    "Charlie", "Daisy",  "Milo",   "Lucy",   "Rocky",
                               "Coco",   "Teddy",  "Bailey",  "Rosie",   "Oscar",  "Ruby",   "Biscuit", "Maple",
                               "Winston", "Pepper", "Hazel",  "Murphy",  "Nala",   "Toby",   "Willow", "Ziggy",
                               "Olive",  "Bruno",  "Penny",   "Gus",     "Lola",   "Finn",   "Poppy",  "Archie",
                               "Mochi",  "Louie",  "Sadie",   "Otis",    "Frankie", "Benny", "Honey",  "Scout",
                               "Juniper", "Waffles", "Pickles", "Dottie", "Buster", "Fudge",  "Clover", "Noodle"};
constexpr std::array kBreeds = {"Poodle",          "Shih Tzu",        "Golden Retriever", "Cocker Spaniel",
                                "Miniature Schnauzer", "Yorkshire Terrier", "Bichon Frise", "Maltese",
                                "Labradoodle",     "Cockapoo",        "Old English Sheepdog", "Samoyed",
                                "West Highland Terrier", "Pomeranian", "Havanese",        "Lhasa Apso"};
constexpr std::array kGalleryTitles = {"Spring makeovers", "Teddy-bear trims", "Doodle days", "Coat rescues",
                                       "Summer shave-downs", "Puppy's first groom", "Show-ring finishes",
                                       "Bath and tidy", "Hand-stripped terriers", "Fluffy to tidy"};
constexpr std::array kBlogTitles = {"What a full groom includes", "How often should a doodle be groomed",
                                    "Matting: why it happens", "Our favourite brushes", "Grooming an anxious dog",
                                    "De-shedding season", "Nail care at home", "Ear cleaning basics",
                                    "Choosing a haircut", "A day at the salon"};
constexpr std::array kServices = {"Full groom", "Bath and brush", "De-shedding", "Puppy intro", "Hand stripping",
                                  "Nail trim", "Teeth brushing", "Ear cleaning"};
constexpr std::array kStories = {
    "came in with a coat that had not seen a brush in months and left light on the feet.",
    "had a bath, a blow-dry and a full scissor finish.",
    "sat beautifully for the whole appointment and earned extra treats.",
    "needed a careful dematting session; we went slowly and took breaks.",
    "asked (through the owner) for a short, practical summer cut.",
    "is a regular: every six weeks for a tidy of the face, feet and sanitary areas.",
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string Slug(std::string_view s) {
  std::string out;
  for (char c : Lower(s)) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out += c;
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::uint64_t SplitMix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint32_t Crc32(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string EncodeOrThrow(const cv::Mat& image, const std::string& extension, int quality) {
  std::string bytes = Encode(image, extension, quality);
  if (bytes.empty()) throw std::runtime_error("OpenCV could not encode a " + extension + " image");
  return bytes;
}

// A JPEG whose SOF0 declares kBombSide x kBombSide: a real small JPEG with its size patched.
std::string JpegBomb(const cv::Mat& small) {
  std::string bytes = EncodeOrThrow(small, ".jpg", 80);
  for (std::size_t i = 2; i + 9 < bytes.size(); ++i) {
    if (static_cast<unsigned char>(bytes[i]) == 0xFF && static_cast<unsigned char>(bytes[i + 1]) == 0xC0) {
      bytes[i + 5] = static_cast<char>(kBombSide >> 8);
      bytes[i + 6] = static_cast<char>(kBombSide & 0xFF);
      bytes[i + 7] = static_cast<char>(kBombSide >> 8);
      bytes[i + 8] = static_cast<char>(kBombSide & 0xFF);
      return bytes;
    }
  }
  throw std::runtime_error("no SOF0 marker in OpenCV's JPEG");
}

// A PNG whose IHDR declares kBombSide x kBombSide (CRC fixed, so the header is valid).
std::string PngBomb(const cv::Mat& small) {
  std::string bytes = EncodeOrThrow(small, ".png", 0);
  if (bytes.size() < 33 || bytes.compare(12, 4, "IHDR") != 0) throw std::runtime_error("OpenCV's PNG has no IHDR first");
  for (int field = 0; field < 2; ++field)
    for (int k = 0; k < 4; ++k)
      bytes[16 + 4 * field + k] = static_cast<char>((static_cast<std::uint32_t>(kBombSide) >> (24 - 8 * k)) & 0xFF);
  const std::uint32_t crc = Crc32(std::string_view(bytes).substr(12, 17));
  for (int k = 0; k < 4; ++k) bytes[29 + k] = static_cast<char>((crc >> (24 - 8 * k)) & 0xFF);
  return bytes;
}

using MatMaker = std::function<cv::Mat()>;
using BytesMaker = std::function<std::string()>;

struct ImageJob {
  std::string path;
  BytesMaker make;
};

int ThreadCount(int wanted) {
  return wanted > 0 ? wanted : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// make(i) for every i < count on `threads` threads; each result lands in its own slot, so the
// output does not depend on the thread count. name(i) says what failed.
template <class T>
Result<std::vector<T>> RunParallel(std::size_t count, int threads, const std::function<T(std::size_t)>& make,
                                   const std::function<std::string(std::size_t)>& name) {
  std::vector<T> out(count);
  std::atomic<std::size_t> next{0};
  std::mutex error_mutex;
  std::string error;  // guarded by error_mutex
  auto work = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        out[i] = make(i);
      } catch (const std::exception& e) {
        std::lock_guard lock(error_mutex);
        if (error.empty()) error = fmt::format("drawing {}: {}", name(i), e.what());
      }
    }
  };
  const int n = std::max(1, std::min<int>(ThreadCount(threads), static_cast<int>(count)));
  std::vector<std::jthread> pool;
  for (int t = 1; t < n; ++t) pool.emplace_back(work);
  work();
  pool.clear();
  if (!error.empty()) return Fail(ErrorCode::kInternal, error);
  return out;
}

struct Dog {
  std::uint32_t seed = 0;
  std::string name;
  std::string breed;
  std::string pronoun;  // "her" / "his"
};

// One HTML page before it is rendered.
struct Page {
  std::string path;
  std::string title;
  std::string main;  // the inside of <main>, after the <h1>
  std::string description;
  std::string og_image;
  std::vector<std::string> links;  // site paths this page links to (for the depth); nav links are added
  std::vector<std::pair<std::string, std::string>> headers;
  std::string meta_robots;
  bool slow = false;
  bool rate_limited_first = false;
};

enum class ContentKind { kAlt, kCaption, kFilename, kAdjacent, kCompositeSide, kCompositeStacked, kDecoy, kNews };
constexpr std::array kContentCycle = {ContentKind::kAlt,           ContentKind::kCaption,
                                      ContentKind::kFilename,      ContentKind::kAdjacent,
                                      ContentKind::kCompositeSide, ContentKind::kCompositeStacked,
                                      ContentKind::kDecoy,         ContentKind::kNews};

struct PageRef {
  std::string path;
  std::string title;
};

class Builder {
 public:
  explicit Builder(const SiteOptions& options)
      : o_(options),
        state_(0xF0221D06ULL ^ (std::uint64_t{options.seed} << 17)),
        photo_(std::max(16, static_cast<int>(std::lround(kBasePhotoWidth * options.scale))),
               std::max(12, static_cast<int>(std::lround(kBasePhotoHeight * options.scale)))) {
    site_.options = options;
    site_.truth.seed = options.seed;
  }

  Result<Site> BuildSalon();
  Result<Site> BuildFlat();

 private:
  // ---- randomness (SplitMix64: the same on every platform and library) ----
  std::uint64_t Next() { return SplitMix(state_); }
  int Uniform(int low, int high) { return low + static_cast<int>(Next() % static_cast<std::uint64_t>(high - low)); }
  template <class A>
  auto Pick(const A& items) {
    return items[static_cast<std::size_t>(Uniform(0, static_cast<int>(std::size(items))))];
  }
  std::string Hex(int digits) {
    std::string s = fmt::format("{:016x}", Next());
    return s.substr(0, static_cast<std::size_t>(digits));
  }
  Dog NewDog() {
    Dog d;
    do d.seed = static_cast<std::uint32_t>(1 + Next() % 2000000000ULL);
    while (!dog_seeds_.insert(d.seed).second);
    d.name = Pick(kNames);
    d.breed = Pick(kBreeds);
    d.pronoun = Uniform(0, 2) == 0 ? "her" : "his";
    return d;
  }
  std::string NeutralImagePath(std::string_view folder = "/media/", std::string_view ext = ".jpg") {
    std::string p;
    do p = fmt::format("{}{}{}", folder, Hex(10), ext);
    while (site_.resources.contains(p) || reserved_.contains(p));
    reserved_.insert(p);
    return p;
  }
  // A unique path from a wished-for name: "/x/bella-before.jpg", else "/x/bella-2-before.jpg".
  std::string UniquePath(std::string_view folder, std::string_view stem, std::string_view suffix) {
    for (int n = 1;; ++n) {
      std::string p = n == 1 ? fmt::format("{}{}{}", folder, stem, suffix) : fmt::format("{}{}-{}{}", folder, stem, n, suffix);
      if (!site_.resources.contains(p) && !reserved_.contains(p)) {
        reserved_.insert(p);
        return p;
      }
    }
  }

  // ---- images ----
  MatMaker BeforeMaker(std::uint32_t seed) const {
    return [seed, size = photo_] { return ResizedTo(BeforePhoto(seed), size); };
  }
  MatMaker AfterMaker(std::uint32_t seed) const {
    return [seed, size = photo_] { return ResizedTo(AfterPhoto(seed), size); };
  }
  void AddImage(const std::string& path, MatMaker make, bool png = false) {
    const int quality = o_.jpeg_quality;
    mats_[path] = make;
    jobs_.push_back({path, [make, png, quality] { return EncodeOrThrow(make(), png ? ".png" : ".jpg", quality); }});
    Resource r;
    r.content_type = std::string(png ? kPng : kJpeg);
    site_.resources[path] = std::move(r);
  }
  void AddBytesJob(const std::string& path, std::string_view content_type, BytesMaker make) {
    jobs_.push_back({path, std::move(make)});
    Resource r;
    r.content_type = std::string(content_type);
    site_.resources[path] = std::move(r);
  }
  void AddStatic(const std::string& path, std::string_view content_type, std::string body, int status = 200) {
    Resource r;
    r.status = status;
    r.content_type = std::string(content_type);
    r.body = std::make_shared<const std::string>(std::move(body));
    site_.resources[path] = std::move(r);
  }
  void NoteImage(const std::string& path) {
    if (std::ranges::find(site_.truth.images, path) == site_.truth.images.end()) site_.truth.images.push_back(path);
  }

  // ---- HTML ----
  static std::string Img(const std::string& src, std::string_view alt, cv::Size size, std::string_view extra = "") {
    return fmt::format(R"(<img src="{}" alt="{}" width="{}" height="{}" loading="lazy"{}>)", Escape(src), Escape(alt),
                       size.width, size.height, extra);
  }
  std::string Render(const Page& page) const;
  void AddPage(Page page);
  std::string Story(const Dog& dog) { return fmt::format("{} the {} {}", dog.name, dog.breed, Pick(kStories)); }

  // ---- content ----
  void AddPair(const std::string& page, const std::string& before, const std::string& after, Cue cue, const Dog& dog,
               int divider = 0) {
    site_.truth.pairs.push_back({page, before, after, cue, dog.name, dog.breed, dog.seed, divider, 0});
  }
  PageRef AltPage(std::string path, std::string title, int pairs, bool slow = false, bool rate_limited = false);
  PageRef CaptionPage(int number, std::string path, std::string title, int pairs, bool slow = false);
  PageRef FilenamePage(int number);
  PageRef AdjacentPage(int number);
  PageRef CompositePage(int number, bool stacked);
  PageRef DecoyPage(int number);
  PageRef NewsPage(int number);
  void HazardPage();
  void PolicyAndPrivatePages();
  std::string BlogPath(int number, std::string_view title) {
    return fmt::format("/blog/2024/{:02}/{}.html", 1 + number % 12, Slug(title));
  }
  void AddUnrelated(const std::string& path, std::string kind, const std::string& page) {
    for (UnrelatedImage& u : site_.truth.unrelated)
      if (u.path == path) {
        if (std::ranges::find(u.page_paths, page) == u.page_paths.end()) u.page_paths.push_back(page);
        return;
      }
    site_.truth.unrelated.push_back({path, std::move(kind), {page}});
  }

  Result<Site> Finish();
  void ComputeDepths();

  const SiteOptions& o_;
  std::uint64_t state_;
  cv::Size photo_;
  Site site_;
  std::vector<ImageJob> jobs_;
  std::map<std::string, MatMaker> mats_;  // how each photo was drawn (for near duplicates)
  std::set<std::uint32_t> dog_seeds_;
  std::set<std::string> reserved_;
  std::map<std::string, std::vector<std::string>> page_links_;
  std::vector<Page> pending_pages_;  // rendered in Finish, once every page is known
  std::string logo_path_ = "/static/logo.png";
  bool flat_ = false;  // the flat site: no salon navigation, no logo
};

std::string Builder::Render(const Page& page) const {
  if (flat_)
    return fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n</head>\n<body>\n"
        "<main>\n<h1>{}</h1>\n{}</main>\n</body>\n</html>\n",
        Escape(page.title), Escape(page.title), page.main);
  std::string head;
  head += fmt::format("<title>{} | {}</title>\n", Escape(page.title), kSalonName);
  if (!page.description.empty())
    head += fmt::format("<meta name=\"description\" content=\"{}\">\n", Escape(page.description));
  if (!page.meta_robots.empty()) head += fmt::format("<meta name=\"robots\" content=\"{}\">\n", page.meta_robots);
  if (!page.og_image.empty()) {
    head += fmt::format("<meta property=\"og:title\" content=\"{}\">\n", Escape(page.title));
    head += fmt::format("<meta property=\"og:image\" content=\"{}\">\n", Escape(page.og_image));
  }
  return fmt::format(R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{}<link rel="stylesheet" href="/static/site.css">
</head>
<body>
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header">
<a href="/" class="brand"><img src="{}" alt="{} logo" width="240" height="80"></a>
<nav aria-label="Main">
<ul>
<li><a href="/">Home</a></li>
<li><a href="/gallery/">Gallery</a></li>
<li><a href="/blog/">Blog</a></li>
<li><a href="/services.html">Services</a></li>
<li><a href="/about.html">About us</a></li>
<li><a href="/contact.html">Contact</a></li>
</ul>
</nav>
</header>
<main id="main">
<h1>{}</h1>
{}
</main>
<footer class="site-footer">
<p>&copy; 2024 {}. 12 Meadow Lane, Brookfield. Open Tuesday to Saturday, 8:00 to 17:00.</p>
<p><a href="/ai-policy.html">Photo and AI policy</a> &middot; <a href="/contact.html">Contact</a></p>
</footer>
</body>
</html>
)",
                     head, logo_path_, kSalonName, Escape(page.title), page.main, kSalonName);
}

void Builder::AddPage(Page page) {
  static const std::vector<std::string> kNav = {"/", "/gallery/", "/blog/", "/services.html", "/about.html",
                                                "/contact.html", "/ai-policy.html"};
  std::vector<std::string> links = flat_ ? std::vector<std::string>{} : kNav;
  links.insert(links.end(), page.links.begin(), page.links.end());
  page_links_[page.path] = links;
  site_.truth.pages.push_back(page.path);
  if (!flat_) AddUnrelated(logo_path_, "logo", page.path);
  reserved_.insert(page.path);
  pending_pages_.push_back(std::move(page));
}

PageRef Builder::AltPage(std::string path, std::string title, int pairs, bool slow, bool rate_limited) {
  Page page;
  page.path = std::move(path);
  page.title = std::move(title);
  page.slow = slow;
  page.rate_limited_first = rate_limited;
  page.description = "Before and after photos from our grooming table.";
  page.main = "<p>Every dog here went home happier than they came in. Click a photo to see it full size.</p>\n";
  for (int k = 0; k < pairs; ++k) {
    const Dog dog = NewDog();
    const std::string before = NeutralImagePath();
    const std::string after = NeutralImagePath();
    AddImage(before, BeforeMaker(dog.seed));
    AddImage(after, AfterMaker(dog.seed));
    std::string before_alt;
    std::string after_alt;
    switch (Uniform(0, 3)) {
      case 0:
        before_alt = fmt::format("{} before {} groom", dog.name, dog.pronoun);
        after_alt = fmt::format("{} after {} groom", dog.name, dog.pronoun);
        break;
      case 1:
        before_alt = fmt::format("Before: {} the {}, matted and shaggy", dog.name, dog.breed);
        after_alt = fmt::format("After: {} the {} with a fresh trim", dog.name, dog.breed);
        break;
      default:
        before_alt = fmt::format("{} the {} before grooming", dog.name, dog.breed);
        after_alt = fmt::format("{} the {} after grooming", dog.name, dog.breed);
    }
    std::string before_extra;
    std::string after_extra;
    if (k % 2 == 0) {  // responsive images: the crawler takes the widest candidate, the full-size photo
      const cv::Size small(photo_.width / 2, photo_.height / 2);
      for (const auto& [full, extra] : {std::pair{before, &before_extra}, std::pair{after, &after_extra}}) {
        const std::string variant = full.substr(0, full.size() - 4) + fmt::format("-{}w.jpg", small.width);
        AddImage(variant, [make = mats_[full], small] { return ResizedTo(make(), small); });
        *extra = fmt::format(R"( srcset="{} {}w, {} {}w" sizes="(max-width: 600px) 100vw, {}px")", variant,
                             small.width, full, photo_.width, photo_.width);
        site_.truth.duplicates.push_back({DuplicateKind::kSrcsetVariant, full, variant, page.path});
      }
    }
    page.main += fmt::format(
        "<section class=\"transformation\" aria-labelledby=\"dog-{0}\">\n<h2 id=\"dog-{0}\">{1}</h2>\n<p>{2}</p>\n"
        "<div class=\"photos\">\n{3}\n{4}\n</div>\n</section>\n",
        k + 1, Escape(dog.name), Escape(Story(dog)), Img(before, before_alt, photo_, before_extra),
        Img(after, after_alt, photo_, after_extra));
    AddPair(page.path, before, after, Cue::kAlt, dog);
    NoteImage(before);
    NoteImage(after);
  }
  PageRef ref{page.path, page.title};
  AddPage(std::move(page));
  return ref;
}

PageRef Builder::CaptionPage(int number, std::string path, std::string title, int pairs, bool slow) {
  Page page;
  page.path = std::move(path);
  page.title = std::move(title);
  page.slow = slow;
  page.description = "Grooming results, with notes from the groomer.";
  page.main = "<p>Notes from the grooming table, with a photo of each visit.</p>\n";
  for (int k = 0; k < pairs; ++k) {
    const Dog dog = NewDog();
    const bool png = k == 0 && number % 2 == 0;
    const std::string ext = png ? ".png" : ".jpg";
    const std::string before = NeutralImagePath("/media/", ext);
    const std::string after = NeutralImagePath("/media/", ext);
    AddImage(before, BeforeMaker(dog.seed), png);
    AddImage(after, AfterMaker(dog.seed), png);
    std::string before_caption;
    std::string after_caption;
    switch (Uniform(0, 3)) {
      case 0:
        before_caption = fmt::format("Before: {} arrived with a tangled, overgrown coat.", dog.name);
        after_caption = "After: bathed, brushed out and trimmed.";
        break;
      case 1:
        before_caption = fmt::format("{} before grooming", dog.name);
        after_caption = fmt::format("{} after grooming", dog.name);
        break;
      default:
        before_caption = fmt::format("{}, the {}, before {} spa day", dog.name, dog.breed, dog.pronoun);
        after_caption = fmt::format("And after: {} looks brand new", dog.name);
    }
    page.main += fmt::format(
        "<article class=\"visit\">\n<h2>{}</h2>\n<div class=\"photos\">\n"
        "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>\n<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>\n"
        "</div>\n</article>\n",
        Escape(dog.name), Img(before, fmt::format("Photo of {}", dog.name), photo_), Escape(before_caption),
        Img(after, fmt::format("Photo of {}", dog.name), photo_), Escape(after_caption));
    AddPair(page.path, before, after, Cue::kCaption, dog);
    NoteImage(before);
    NoteImage(after);
  }
  PageRef ref{page.path, page.title};
  AddPage(std::move(page));
  return ref;
}

PageRef Builder::FilenamePage(int number) {
  Page page;
  page.title = fmt::format("{} ({})", kBlogTitles[static_cast<std::size_t>(number) % kBlogTitles.size()], number);
  page.path = BlogPath(number, page.title);
  page.description = "From the grooming blog.";
  page.main = "<p class=\"byline\">Posted by the grooming team</p>\n"
              "<p>A few of this month's regulars, photographed at the salon.</p>\n";
  const std::string folder = fmt::format("/wp-content/uploads/2024/{:02}/", 1 + number % 12);
  const bool picture = number % 2 == 1;
  for (int k = 0; k < 3; ++k) {
    const Dog dog = NewDog();
    const std::string stem = Slug(dog.name);
    std::string before;
    std::string after;
    switch (Uniform(0, 3)) {
      case 0: {
        before = UniquePath(folder, stem, "-before.jpg");
        after = before.substr(0, before.size() - std::string_view("-before.jpg").size()) + "-after.jpg";
        break;
      }
      case 1: {
        before = UniquePath(folder, "before-" + stem, ".jpg");
        after = folder + "after-" + before.substr(folder.size() + 7);
        break;
      }
      default: {
        before = UniquePath(folder, stem, "_before_groom.jpg");
        after = before.substr(0, before.size() - std::string_view("_before_groom.jpg").size()) + "_after_groom.jpg";
      }
    }
    reserved_.insert(after);
    AddImage(before, BeforeMaker(dog.seed));
    AddImage(after, AfterMaker(dog.seed));
    const std::string alt = fmt::format("{} the {} at {}", dog.name, dog.breed, kSalonName);
    auto image = [&](const std::string& src) {
      if (!picture) return Img(src, alt, photo_);
      return fmt::format("<picture>\n<source srcset=\"{}\" type=\"image/jpeg\">\n{}\n</picture>", src,
                         Img(src, alt, photo_));
    };
    page.main += fmt::format("<h2>{}</h2>\n<p>{}</p>\n<p class=\"photos\">\n{}\n{}\n</p>\n", Escape(dog.name),
                             Escape(Story(dog)), image(before), image(after));
    AddPair(page.path, before, after, Cue::kFilename, dog);
    NoteImage(before);
    NoteImage(after);
  }
  PageRef ref{page.path, page.title};
  AddPage(std::move(page));
  return ref;
}

PageRef Builder::AdjacentPage(int number) {
  Page page;
  page.title = fmt::format("Salon photos, week {}", 1 + number);
  page.path = fmt::format("/gallery/week-{}.html", 1 + number);
  page.description = "Photos from the salon.";
  const bool lazy = number % 2 == 0;
  std::string items;
  int position = 0;
  for (int k = 0; k < 3; ++k) {
    const Dog dog = NewDog();
    const std::string first = NeutralImagePath("/media/gallery/");
    const std::string second = NeutralImagePath("/media/gallery/");
    AddImage(first, BeforeMaker(dog.seed));
    AddImage(second, AfterMaker(dog.seed));
    for (const std::string& src : {first, second}) {
      ++position;
      const std::string alt = fmt::format("Salon photo {} of 6", position);
      items += "<li>";
      items += lazy ? fmt::format(R"(<img src="{}" data-src="{}" alt="{}" width="{}" height="{}" class="lazy">)",
                                  kPlaceholder, src, alt, photo_.width, photo_.height)
                    : Img(src, alt, photo_);
      items += "</li>\n";
      NoteImage(src);
    }
    AddPair(page.path, first, second, Cue::kAdjacent, dog);
  }
  page.main = fmt::format(
      "<p>A look around the salon this week.</p>\n<ul class=\"gallery\" aria-label=\"Photo gallery\">\n{}</ul>\n",
      items);
  PageRef ref{page.path, page.title};
  AddPage(std::move(page));
  return ref;
}

PageRef Builder::CompositePage(int number, bool stacked) {
  Page page;
  page.title = fmt::format("{} transformations, part {}", stacked ? "Top-to-bottom" : "Side-by-side", 1 + number);
  page.path = fmt::format("/gallery/{}-{}.html", stacked ? "stacked" : "side-by-side", 1 + number);
  page.description = "Grooming transformations in one picture.";
  page.main = "<p>Each picture shows the same dog when it arrived and when it went home.</p>\n";
  static const cv::Scalar kDividers[] = {{255, 255, 255}, {20, 20, 20}, {200, 200, 200}, {60, 120, 220}};
  for (int k = 0; k < 2; ++k) {
    const Dog dog = NewDog();
    const int divider = k == 0 ? Uniform(4, 13) : 0;
    const cv::Scalar colour = kDividers[Uniform(0, 4)];
    const std::string path = NeutralImagePath("/media/composites/");
    MatMaker before = BeforeMaker(dog.seed);
    MatMaker after = AfterMaker(dog.seed);
    AddImage(path, [before, after, stacked, divider, colour] {
      return stacked ? TopBottom(before(), after(), divider, colour) : SideBySide(before(), after(), divider, colour);
    });
    const cv::Size size = stacked ? cv::Size(photo_.width, 2 * photo_.height + divider)
                                  : cv::Size(2 * photo_.width + divider, photo_.height);
    if (number == 0 && k == 0) page.og_image = path;
    page.main += fmt::format("<figure class=\"composite\">\n{}\n<figcaption>{} the {}</figcaption>\n</figure>\n",
                             Img(path, fmt::format("{}'s grooming transformation", dog.name), size),
                             Escape(dog.name), Escape(dog.breed));
    AddPair(page.path, path, path, stacked ? Cue::kCompositeStacked : Cue::kCompositeSide, dog, divider);
    NoteImage(path);
  }
  PageRef ref{page.path, page.title};
  AddPage(std::move(page));
  return ref;
}

PageRef Builder::DecoyPage(int number) {
  Page page;
  page.title = fmt::format("Client stories ({})", 1 + number);
  page.path = BlogPath(number, fmt::format("client-stories-{}", 1 + number));
  page.description = "Stories from our clients.";
  // Labelled before/after, but two different dogs.
  const Dog a = NewDog();
  const Dog b = NewDog();
  const std::string first = NeutralImagePath();
  const std::string second = NeutralImagePath();
  AddImage(first, BeforeMaker(a.seed));
  AddImage(second, AfterMaker(b.seed));
  const bool same_name = number % 2 == 0;
  const std::string first_alt = fmt::format("{} before {} groom", a.name, a.pronoun);
  const std::string second_alt =
      same_name ? fmt::format("{} after {} groom", a.name, a.pronoun) : fmt::format("{} after the salon", b.name);
  page.main += fmt::format("<h2>Two regulars</h2>\n<p>{}</p>\n<div class=\"photos\">\n{}\n{}\n</div>\n",
                           Escape(Story(a)), Img(first, first_alt, photo_), Img(second, second_alt, photo_));
  site_.truth.decoys.push_back({page.path, first, second, DecoyKind::kLabelledDifferentDogs});
  // Consecutive in a gallery block, two different dogs.
  const Dog c = NewDog();
  const Dog d = NewDog();
  const std::string third = NeutralImagePath("/media/gallery/");
  const std::string fourth = NeutralImagePath("/media/gallery/");
  AddImage(third, AfterMaker(c.seed));
  AddImage(fourth, BeforeMaker(d.seed));
  page.main += fmt::format(
      "<h2>More happy clients</h2>\n<ul class=\"gallery\" aria-label=\"Photo gallery\">\n<li>{}</li>\n<li>{}</li>\n"
      "</ul>\n",
      Img(third, "Client photo 1 of 2", photo_), Img(fourth, "Client photo 2 of 2", photo_));
  site_.truth.decoys.push_back({page.path, third, fourth, DecoyKind::kAdjacentDifferentDogs});
  // Unrelated: the walk by the lake.
  const std::string landscape = NeutralImagePath("/media/scenery/");
  AddImage(landscape, [seed = static_cast<std::uint32_t>(Next()), size = photo_] { return LandscapePhoto(seed, size); });
  page.main += fmt::format("<h2>After-work walks</h2>\n<p>Our favourite walk after closing time.</p>\n{}\n",
                           Img(landscape, "A lake below wooded hills at sunset", photo_));
  AddUnrelated(landscape, "landscape", page.path);
  for (const std::string& p : {first, second, third, fourth, landscape}) NoteImage(p);
  PageRef ref{page.path, page.title};
  AddPage(std::move(page));
  return ref;
}

PageRef Builder::NewsPage(int number) {
  Page page;
  page.title = fmt::format("Salon news ({})", 1 + number);
  page.path = BlogPath(number, fmt::format("salon-news-{}", 1 + number));
  page.description = "News from the salon.";
  page.main = "<p>Throwbacks from our archive this month.</p>\n";
  const std::string folder = fmt::format("/wp-content/uploads/2024/{:02}/", 1 + number % 12);
  // The pairs already on the site, by cue; a news page reuses photos of them.
  auto nth = [&](Cue cue, int n) -> const TruePair* {
    std::vector<const TruePair*> of;
    for (const TruePair& p : site_.truth.pairs)
      if (p.cue == cue) of.push_back(&p);
    if (of.empty()) return nullptr;
    return of[static_cast<std::size_t>(n) % of.size()];
  };
  if (const TruePair* p = nth(Cue::kAlt, number)) {  // exact: same bytes, new URL
    const std::string copy = UniquePath(folder, "throwback-" + Slug(p->dog_name), ".jpg");
    AddImage(copy, mats_.at(p->before_path));
    page.main += fmt::format("<h2>Throwback</h2>\n{}\n", Img(copy, fmt::format("{} on a visit", p->dog_name), photo_));
    site_.truth.duplicates.push_back({DuplicateKind::kExact, p->before_path, copy, page.path});
    NoteImage(copy);
  }
  if (const TruePair* p = nth(Cue::kCaption, number)) {  // the same URL on a second page
    page.main += fmt::format("<h2>Fresh from the salon</h2>\n{}\n",
                             Img(p->after_path, fmt::format("{} at the salon", p->dog_name), photo_));
    site_.truth.duplicates.push_back({DuplicateKind::kSameUrl, p->after_path, p->after_path, page.path});
  }
  if (const TruePair* p = nth(Cue::kFilename, number)) {  // re-encoded at a lower quality
    const std::string copy = NeutralImagePath("/wp-content/uploads/cache/");
    MatMaker make = mats_.at(p->after_path);
    AddBytesJob(copy, kJpeg, [make] { return EncodeOrThrow(make(), ".jpg", kNearDuplicateQuality); });
    page.main += fmt::format("<h2>Groom of the month</h2>\n{}\n",
                             Img(copy, fmt::format("{}, groom of the month", p->dog_name), photo_));
    site_.truth.duplicates.push_back({DuplicateKind::kNearReencoded, p->after_path, copy, page.path});
    NoteImage(copy);
  }
  if (const TruePair* p = nth(Cue::kAdjacent, number)) {  // downscaled
    const std::string copy = NeutralImagePath("/wp-content/uploads/cache/");
    const cv::Size small(photo_.width * 3 / 4, photo_.height * 3 / 4);
    AddImage(copy, [make = mats_.at(p->before_path), small] { return ResizedTo(make(), small); });
    page.main += fmt::format("<h2>Remember this coat?</h2>\n{}\n",
                             Img(copy, fmt::format("{} on an earlier visit", p->dog_name), small));
    site_.truth.duplicates.push_back({DuplicateKind::kNearResized, p->before_path, copy, page.path});
    NoteImage(copy);
  }
  PageRef ref{page.path, page.title};
  AddPage(std::move(page));
  return ref;
}

void Builder::HazardPage() {
  Page page;
  page.path = "/gallery/archive.html";
  page.title = "Photo archive";
  page.description = "Older photos, some of them no longer available.";
  std::string items;
  auto item = [&](const std::string& path, std::string_view kind, std::string_view alt, std::string target = "") {
    items += fmt::format("<li>{}</li>\n", Img(path, alt, photo_));
    site_.truth.hazards.push_back({path, std::string(kind), page.path, std::move(target)});
    NoteImage(path);
  };
  // A real JPEG header, so the first bytes sniff as an image, then generated filler.
  const MatMaker poster = [seed = static_cast<std::uint32_t>(Next()), size = photo_] {
    return ResizedTo(BeforePhoto(seed), size);
  };
  const std::uint64_t huge = o_.huge_bytes;
  for (const auto& [path, chunked] : {std::pair{std::string("/media/archive/poster-full.jpg"), true},
                                      std::pair{std::string("/media/archive/poster-print.jpg"), false}}) {
    AddBytesJob(path, kJpeg, [poster, quality = o_.jpeg_quality] {
      std::string bytes = EncodeOrThrow(poster(), ".jpg", quality);
      bytes.resize(std::min(bytes.size(), kHugePrefixBytes));
      return bytes;
    });
    Resource& r = site_.resources[path];
    r.chunked = chunked;
    r.filler_bytes = huge > kHugePrefixBytes ? huge - kHugePrefixBytes : 0;
    item(path, chunked ? "huge-streamed" : "huge-declared", "Salon poster, full resolution");
  }
  const MatMaker tiny = [seed = static_cast<std::uint32_t>(Next())] { return ResizedTo(BeforePhoto(seed), {64, 48}); };
  AddBytesJob("/media/archive/panorama.jpg", kJpeg, [tiny] { return JpegBomb(tiny()); });
  item("/media/archive/panorama.jpg", "bomb-jpeg", "Panorama of the salon");
  AddBytesJob("/media/archive/panorama.png", kPng, [tiny] { return PngBomb(tiny()); });
  item("/media/archive/panorama.png", "bomb-png", "Panorama of the salon, lossless");
  AddBytesJob("/media/archive/truncated.jpg", kJpeg, [poster, quality = o_.jpeg_quality] {
    std::string bytes = EncodeOrThrow(poster(), ".jpg", quality);
    bytes.resize(bytes.size() * 45 / 100);
    return bytes;
  });
  item("/media/archive/truncated.jpg", "truncated", "Old photo of a poodle");
  {
    std::uint64_t s = Next();
    std::string garbage(8192, '\0');
    for (char& c : garbage) c = static_cast<char>(SplitMix(s) & 0xFF);
    garbage[0] = 'G';  // never a valid signature by chance
    AddStatic("/media/archive/garbage.jpg", kJpeg, std::move(garbage));
    item("/media/archive/garbage.jpg", "garbage", "Old photo of a terrier");
  }
  const std::string soft_404 =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head>\n"
      "<body><h1>Sorry, this photo has moved</h1><p><a href=\"/gallery/\">Back to the gallery</a></p></body></html>\n";
  AddStatic("/media/archive/missing.jpg", kHtml, soft_404);
  item("/media/archive/missing.jpg", "html-at-jpg", "Old photo of a spaniel");
  AddStatic("/media/archive/missing-2.jpg", kJpeg, soft_404);
  item("/media/archive/missing-2.jpg", "html-as-jpeg", "Old photo of a schnauzer");
  AddStatic("/media/archive/gone.jpg", kHtml, soft_404, 404);
  item("/media/archive/gone.jpg", "not-found", "Old photo of a collie");
  // Redirects into private address space.
  for (const auto& [path, target] :
       {std::pair{std::string("/media/redirect/metadata.jpg"), std::string("http://169.254.169.254/latest/meta-data")},
        std::pair{std::string("/media/redirect/internal.jpg"), std::string("http://10.0.0.1/x.jpg")}}) {
    AddStatic(path, kHtml, "", 302);
    site_.resources[path].headers.emplace_back("Location", target);
    item(path, "redirect-private", "Photo from our partner", target);
    site_.truth.never_fetch.push_back({target, "private-redirect-target", page.path});
  }
  // An image that opts out of AI use in its own response.
  {
    const std::string path = NeutralImagePath("/media/archive/");
    AddImage(path, BeforeMaker(NewDog().seed));
    site_.resources[path].headers.emplace_back("X-Robots-Tag", "noai, noimageai");
    item(path, "noai-header", "A client's dog, shared with permission");
  }
  // An image under a robots.txt Disallow, shown on a public page.
  {
    const std::string path = "/private/img/unreleased-before.jpg";
    AddImage(path, BeforeMaker(NewDog().seed));
    items += fmt::format("<li>{}</li>\n", Img(path, "A preview of next month's gallery", photo_));
    site_.truth.never_fetch.push_back({path, "robots", page.path});
    NoteImage(path);
  }
  page.main = fmt::format("<p>Older photos. Some may no longer be available.</p>\n<ul class=\"archive\">\n{}</ul>\n",
                          items);
  AddPage(std::move(page));
}

void Builder::PolicyAndPrivatePages() {
  {  // A page whose images opt out of AI use (header and meta tag).
    Page page;
    page.path = "/ai-policy.html";
    page.title = "Photo and AI policy";
    page.headers.emplace_back("X-Robots-Tag", "noai, noimageai");
    page.meta_robots = "noai, noimageai";
    page.description = "How we share photos of your dog.";
    const Dog dog = NewDog();
    const std::string before = NeutralImagePath("/media/policy/");
    const std::string after = NeutralImagePath("/media/policy/");
    AddImage(before, BeforeMaker(dog.seed));
    AddImage(after, AfterMaker(dog.seed));
    page.main = fmt::format(
        "<p>We share photos only with the owner's permission, and we do not allow them to be used to train AI "
        "models.</p>\n<div class=\"photos\">\n{}\n{}\n</div>\n",
        Img(before, fmt::format("{} before {} groom", dog.name, dog.pronoun), photo_),
        Img(after, fmt::format("{} after {} groom", dog.name, dog.pronoun), photo_));
    for (const std::string& p : {before, after}) {
      site_.truth.never_fetch.push_back({p, "noai-page", page.path});
      NoteImage(p);
    }
    site_.truth.hazards.push_back({page.path, "noai-page", "/", ""});
    AddPage(std::move(page));
  }
  {  // robots.txt: Disallow /private/. A staff page and a drafts page, each with a pair.
    Page staff;
    staff.path = "/private/staff.html";
    staff.title = "Staff area";
    staff.links = {"/private/drafts.html"};
    const Dog dog = NewDog();
    const std::string before = "/private/img/" + Slug(dog.name) + "-before.jpg";
    const std::string after = "/private/img/" + Slug(dog.name) + "-after.jpg";
    AddImage(before, BeforeMaker(dog.seed));
    AddImage(after, AfterMaker(dog.seed));
    staff.main = fmt::format(
        "<p>For staff only. <a href=\"/private/drafts.html\">Gallery drafts</a></p>\n<div class=\"photos\">\n{}\n{}\n"
        "</div>\n",
        Img(before, fmt::format("{} before {} groom", dog.name, dog.pronoun), photo_),
        Img(after, fmt::format("{} after {} groom", dog.name, dog.pronoun), photo_));
    for (const std::string& p : {before, after}) {
      site_.truth.never_fetch.push_back({p, "robots", staff.path});
      NoteImage(p);
    }
    site_.truth.never_fetch.push_back({staff.path, "robots", "/about.html"});
    const std::string staff_path = staff.path;
    AddPage(std::move(staff));

    Page drafts;
    drafts.path = "/private/drafts.html";
    drafts.title = "Gallery drafts";
    const Dog other = NewDog();
    const std::string composite = "/private/img/draft-" + Hex(8) + ".jpg";
    AddImage(composite, [b = BeforeMaker(other.seed), a = AfterMaker(other.seed)] { return SideBySide(b(), a(), 0); });
    drafts.main = fmt::format("<p>Not published yet.</p>\n{}\n",
                              Img(composite, fmt::format("{}'s transformation", other.name),
                                  {2 * photo_.width, photo_.height}));
    site_.truth.never_fetch.push_back({composite, "robots", drafts.path});
    site_.truth.never_fetch.push_back({drafts.path, "robots", staff_path});
    NoteImage(composite);
    AddPage(std::move(drafts));
  }
}

Result<Site> Builder::BuildSalon() {
  site_.robots_txt =
      "# robots.txt for the sample grooming salon\n"
      "User-agent: *\n"
      "Disallow: /private/\n"
      "Disallow: /cart\n"
      "\n"
      "User-agent: BadBot\n"
      "Disallow: /\n"
      "\n"
      "Sitemap: /sitemap.xml\n";
  AddStatic("/static/site.css", "text/css; charset=utf-8",
            "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:0 1rem;color:#222}\n"
            ".skip-link{position:absolute;left:-999px}.skip-link:focus{left:1rem}\n"
            "nav ul{display:flex;gap:1rem;list-style:none;padding:0}\n"
            ".photos,.gallery{display:flex;flex-wrap:wrap;gap:1rem;list-style:none;padding:0}\n"
            "img{max-width:100%;height:auto}\n");
  AddImage(logo_path_, [seed = o_.seed] { return LogoPicture(seed, std::string(kSalonName)); }, true);
  const std::string banner = "/static/banner.jpg";
  AddImage(banner, [seed = o_.seed] { return BannerPicture(seed, "Grooming with care since 2009"); });
  const std::string about_photo = "/static/salon-view.jpg";
  AddImage(about_photo, [seed = o_.seed, size = photo_] { return LandscapePhoto(seed + 7, size); });

  // Content pages, in a fixed cycle of kinds.
  const int content = o_.pages - static_cast<int>(kFixedPages);
  std::vector<PageRef> gallery;
  std::vector<PageRef> blog;
  std::array<int, kContentCycle.size()> made{};
  for (int i = 0; i < content; ++i) {
    const std::size_t kind_index = static_cast<std::size_t>(i) % kContentCycle.size();
    const int n = made[kind_index]++;
    switch (kContentCycle[kind_index]) {
      case ContentKind::kAlt: {
        const std::string_view theme = kGalleryTitles[static_cast<std::size_t>(n) % kGalleryTitles.size()];
        gallery.push_back(AltPage(fmt::format("/gallery/{}-{}.html", Slug(theme), 1 + n),
                                  fmt::format("{}, part {}", theme, 1 + n), 3));
        break;
      }
      case ContentKind::kCaption:
        gallery.push_back(CaptionPage(n, fmt::format("/gallery/groomer-notes-{}.html", 1 + n),
                                      fmt::format("Groomer's notes, part {}", 1 + n), 3));
        break;
      case ContentKind::kFilename: blog.push_back(FilenamePage(n)); break;
      case ContentKind::kAdjacent: gallery.push_back(AdjacentPage(n)); break;
      case ContentKind::kCompositeSide: gallery.push_back(CompositePage(n, false)); break;
      case ContentKind::kCompositeStacked: gallery.push_back(CompositePage(n, true)); break;
      case ContentKind::kDecoy: blog.push_back(DecoyPage(n)); break;
      case ContentKind::kNews: blog.push_back(NewsPage(n)); break;
    }
  }
  HazardPage();
  PolicyAndPrivatePages();

  // Special pages: slow, rate-limited.
  const PageRef booking = CaptionPage(1000, "/slow/booking.html", "Book an appointment", 1, true);
  const PageRef waitlist = AltPage("/slow/waitlist.html", "Join the waiting list", 1, true);
  const PageRef busy = AltPage("/busy.html", "This week's most popular grooms", 2, false, true);
  for (const PageRef& p : {booking, waitlist}) site_.truth.hazards.push_back({p.path, "slow", "/", ""});
  site_.truth.hazards.push_back({busy.path, "rate-limited", "/", ""});

  // A link that redirects to the cloud metadata address.
  AddStatic("/go/partner-offer", kHtml, "", 302);
  site_.resources["/go/partner-offer"].headers.emplace_back("Location", "http://169.254.169.254/latest/meta-data");
  site_.truth.hazards.push_back({"/go/partner-offer", "redirect-private", "/", "http://169.254.169.254/latest/meta-data"});
  if (std::ranges::none_of(site_.truth.never_fetch,
                           [](const NeverFetch& n) { return n.url == "http://169.254.169.254/latest/meta-data"; }))
    site_.truth.never_fetch.push_back({"http://169.254.169.254/latest/meta-data", "private-redirect-target", "/"});

  auto list = [](const std::vector<PageRef>& pages) {
    std::string out = "<ul class=\"page-list\">\n";
    for (const PageRef& p : pages) out += fmt::format("<li><a href=\"{}\">{}</a></li>\n", p.path, Escape(p.title));
    return out + "</ul>\n";
  };
  auto paths = [](const std::vector<PageRef>& pages) {
    std::vector<std::string> out;
    for (const PageRef& p : pages) out.push_back(p.path);
    return out;
  };
  {  // The home page.
    Page page;
    page.path = "/";
    page.title = "Dog grooming in Brookfield";
    page.og_image = banner;
    page.description = "Dog grooming salon: full grooms, baths, de-shedding and puppy intros.";
    page.main = fmt::format(
        "{}\n<p>Welcome! We are a small, friendly grooming salon. See our <a href=\"/gallery/\">before and after "
        "gallery</a> and read <a href=\"/blog/\">the blog</a>.</p>\n"
        "<ul>\n<li><a href=\"{}\">This week's most popular grooms</a></li>\n<li><a href=\"{}\">Book an "
        "appointment</a></li>\n<li><a href=\"{}\">Join the waiting list</a></li>\n"
        "<li><a href=\"/go/partner-offer\">Partner offer: 10% off shampoo</a></li>\n</ul>\n",
        Img(banner, "Grooming with care since 2009", {640, 160}), busy.path, booking.path, waitlist.path);
    page.links = {busy.path, booking.path, waitlist.path, "/go/partner-offer"};
    AddUnrelated(banner, "banner", page.path);
    NoteImage(banner);
    AddPage(std::move(page));
  }
  {
    Page page;
    page.path = "/gallery/";
    page.title = "Before and after gallery";
    page.main = "<p>Our grooming transformations, newest first.</p>\n" + list(gallery) +
                "<p><a href=\"/gallery/archive.html\">Photo archive</a></p>\n";
    page.links = paths(gallery);
    page.links.push_back("/gallery/archive.html");
    AddPage(std::move(page));
  }
  {  // The blog: recent posts on its index, older ones one level deeper.
    const std::size_t recent = blog.size() - blog.size() / 4;
    const std::vector<PageRef> newer(blog.begin(), blog.begin() + static_cast<std::ptrdiff_t>(recent));
    const std::vector<PageRef> older(blog.begin() + static_cast<std::ptrdiff_t>(recent), blog.end());
    Page index;
    index.path = "/blog/";
    index.title = "Grooming blog";
    index.main = list(newer) + "<p><a href=\"/blog/archive.html\">Older posts</a></p>\n";
    index.links = paths(newer);
    index.links.push_back("/blog/archive.html");
    AddPage(std::move(index));
    Page archive;
    archive.path = "/blog/archive.html";
    archive.title = "Older posts";
    archive.main = list(older);
    archive.links = paths(older);
    AddPage(std::move(archive));
  }
  {
    Page page;
    page.path = "/services.html";
    page.title = "Services and prices";
    std::string rows;
    for (std::size_t i = 0; i < kServices.size(); ++i)
      rows += fmt::format("<tr><th scope=\"row\">{}</th><td>from &pound;{}</td></tr>\n", kServices[i], 15 + 5 * i);
    page.main = fmt::format(
        "<table>\n<caption>Our services</caption>\n<thead><tr><th scope=\"col\">Service</th><th "
        "scope=\"col\">Price</th></tr></thead>\n<tbody>\n{}</tbody>\n</table>\n",
        rows);
    AddPage(std::move(page));
  }
  {
    Page page;
    page.path = "/about.html";
    page.title = "About us";
    page.main = fmt::format(
        "<p>Founded in 2009 by two groomers who wanted a calmer salon.</p>\n<figure>\n{}\n<figcaption>The view from our "
        "grooming room</figcaption>\n</figure>\n<p><a href=\"/private/staff.html\">Staff area</a></p>\n",
        Img(about_photo, "Hills and a lake seen from the salon window", photo_));
    page.links = {"/private/staff.html"};
    AddUnrelated(about_photo, "landscape", page.path);
    NoteImage(about_photo);
    AddPage(std::move(page));
  }
  {
    Page page;
    page.path = "/contact.html";
    page.title = "Contact";
    page.main =
        "<address>12 Meadow Lane, Brookfield<br>Telephone: 01234 567890</address>\n"
        "<form action=\"/cart\" method=\"post\"><label for=\"email\">Email</label> <input id=\"email\" name=\"email\" "
        "type=\"email\"> <button type=\"submit\">Send</button></form>\n";
    AddPage(std::move(page));
  }
  return Finish();
}

Result<Site> Builder::BuildFlat() {
  flat_ = true;
  site_.robots_txt = "User-agent: *\nDisallow:\n";
  const int n = o_.flat_images;
  const cv::Size size(std::max(16, static_cast<int>(std::lround(256 * o_.scale))),
                      std::max(12, static_cast<int>(std::lround(192 * o_.scale))));
  // A few drawings, each image one of them with its own number stamped on it.
  std::vector<std::uint32_t> bases;
  for (int i = 0; i < std::min(n, kFlatBasePhotos); ++i) bases.push_back(NewDog().seed);
  auto drawn = RunParallel<cv::Mat>(
      bases.size(), o_.threads,
      [&](std::size_t i) {
        return ResizedTo(i % 2 == 0 ? BeforePhoto(bases[i]) : AfterPhoto(bases[i]), size);
      },
      [](std::size_t i) { return fmt::format("base photo {}", i); });
  if (!drawn) return std::unexpected(drawn.error());
  const std::vector<cv::Mat> pool = std::move(*drawn);
  std::string index_items;
  std::vector<std::string> page_items(static_cast<std::size_t>((n + kFlatPerPage - 1) / kFlatPerPage));
  for (int i = 0; i < n; ++i) {
    const std::string path = fmt::format("/flat/img-{:06}.jpg", i);
    const cv::Mat& base = pool[static_cast<std::size_t>(i) % pool.size()];
    AddBytesJob(path, kJpeg, [base, i] { return EncodeOrThrow(Stamped(base, fmt::format("#{:06}", i)), ".jpg", kFlatQuality); });
    const std::string img = fmt::format("<li>{}</li>\n", Img(path, fmt::format("Test image {}", i), size));
    index_items += img;
    page_items[static_cast<std::size_t>(i / kFlatPerPage)] += img;
    site_.truth.images.push_back(path);
  }
  Page index;
  index.path = "/";
  index.title = fmt::format("{} test images", n);
  std::string page_list;
  for (std::size_t k = 0; k < page_items.size(); ++k) {
    const std::string path = fmt::format("/flat/page-{}.html", k + 1);
    page_list += fmt::format("<li><a href=\"{}\">Images {} to {}</a></li>\n", path, k * kFlatPerPage,
                             std::min<std::size_t>(static_cast<std::size_t>(n), (k + 1) * kFlatPerPage) - 1);
    index.links.push_back(path);
    Page page;
    page.path = path;
    page.title = fmt::format("Test images, page {}", k + 1);
    page.main = fmt::format("<ul class=\"gallery\">\n{}</ul>\n", page_items[k]);
    AddPage(std::move(page));
  }
  index.main = fmt::format("<p>Every image, then the same images in pages of {}.</p>\n<ul class=\"gallery\">\n{}</ul>\n"
                           "<ul>\n{}</ul>\n",
                           kFlatPerPage, index_items, page_list);
  AddPage(std::move(index));
  site_.truth.flat_images = n;
  return Finish();
}

void Builder::ComputeDepths() {
  std::map<std::string, int> depth{{"/", 0}};
  std::deque<std::string> queue{"/"};
  while (!queue.empty()) {
    const std::string page = queue.front();
    queue.pop_front();
    const auto it = page_links_.find(page);
    if (it == page_links_.end()) continue;
    for (const std::string& link : it->second)
      if (page_links_.contains(link) && !depth.contains(link)) {
        depth[link] = depth[page] + 1;
        queue.push_back(link);
      }
  }
  for (TruePair& p : site_.truth.pairs) {
    const auto it = depth.find(p.page_path);
    p.depth = it == depth.end() ? -1 : it->second;
  }
}

Result<Site> Builder::Finish() {
  for (const Page& page : pending_pages_) {
    Resource r;
    r.content_type = std::string(kHtml);
    r.body = std::make_shared<const std::string>(Render(page));
    r.headers = page.headers;
    r.slow = page.slow;
    r.rate_limited_first = page.rate_limited_first;
    site_.resources[page.path] = std::move(r);
  }
  AddStatic("/robots.txt", "text/plain; charset=utf-8", site_.robots_txt);
  auto bytes = RunParallel<std::string>(
      jobs_.size(), o_.threads, [&](std::size_t i) { return jobs_[i].make(); },
      [&](std::size_t i) { return jobs_[i].path; });
  if (!bytes) return std::unexpected(bytes.error());
  // Exact duplicates share their bytes (and prove they are the same).
  // Keys view the shared strings' own bytes, so no image is held twice.
  std::map<std::string_view, std::shared_ptr<const std::string>> by_content;
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    auto it = by_content.find((*bytes)[i]);
    if (it == by_content.end()) {
      auto shared = std::make_shared<const std::string>(std::move((*bytes)[i]));
      it = by_content.emplace(std::string_view(*shared), shared).first;
    }
    site_.resources.at(jobs_[i].path).body = it->second;
  }
  ComputeDepths();
  return std::move(site_);
}

}  // namespace

const Resource* Site::Find(std::string_view path) const {
  const auto it = resources.find(path);
  return it == resources.end() ? nullptr : &it->second;
}

Result<Site> GenerateSite(const SiteOptions& options) {
  if (options.flat_images < 0 || options.flat_images > kMaxFlatImages)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("flat_images must be from 0 to {}", kMaxFlatImages));
  if (options.flat_images == 0 && (options.pages < kMinPages || options.pages > kMaxPages))
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("pages must be from {} to {} (got {})", kMinPages, kMaxPages, options.pages));
  if (!(options.scale >= 0.25 && options.scale <= 8.0))
    return Fail(ErrorCode::kInvalidArgument, fmt::format("scale must be from 0.25 to 8 (got {})", options.scale));
  if (options.jpeg_quality < 1 || options.jpeg_quality > 100)
    return Fail(ErrorCode::kInvalidArgument, "jpeg_quality must be from 1 to 100");
  if (options.slow_delay.count() < 0 || options.retry_after_seconds < 0)
    return Fail(ErrorCode::kInvalidArgument, "slow_delay and retry_after_seconds must not be negative");
  try {
    Builder builder(options);
    return options.flat_images > 0 ? builder.BuildFlat() : builder.BuildSalon();
  } catch (const cv::Exception& e) {
    return Fail(ErrorCode::kInternal, fmt::format("OpenCV failed while drawing the site: {}", e.what()));
  }
}

}  // namespace furrsight::workers::sample_site
