#include "workers/scrape/html_extract.hpp"

#include <gtest/gtest.h>

namespace furrsight::workers {
namespace {

// A grooming salon's gallery as such pages are written: a <base>, og tags, a
// before/after pair in figures with srcset, a <picture>, thumbnails linking to
// full-size files, a lazy-loaded image with a <noscript> fallback, the same
// image twice, and links of every kind.
constexpr std::string_view kGallery = R"html(<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Gallery — Bubbles &amp; Bows Grooming</title>
  <base href="https://bubbles.example/salon/">
  <meta property="og:title" content="Our before &amp; after gallery">
  <meta property="og:image" content="/media/og-cover.jpg">
  <meta property="og:image:alt" content="A freshly groomed poodle">
  <link rel="stylesheet" href="/style.css">
  <script>var gallery = "<img src='not-an-image.jpg'>";</script>
</head>
<body>
  <nav><a href="/">Home</a> <a href="services.html#prices">Prices</a> <a href="mailto:hi@bubbles.example">Mail</a>
       <a href="javascript:void(0)">Menu</a> <a href="https://other.example/blog">Blog</a></nav>
  <h1>Before and after</h1>
  <section class="pair">
    <h2>Bella, standard poodle</h2>
    <figure>
      <img src="img/bella-before-640.jpg" srcset="img/bella-before-640.jpg 640w, img/bella-before-1280.jpg 1280w, img/bella-before-320.jpg 320w"
           alt="Bella before grooming" title="Before">
      <figcaption>Before: matted coat</figcaption>
    </figure>
    <figure>
      <picture>
        <source type="image/avif" srcset="img/bella-after-800.avif 800w, img/bella-after-1600.avif 1600w">
        <source type="image/jxl" srcset="img/bella-after-4000.jxl 4000w">
        <source type="image/webp" srcset="img/bella-after-1200.webp 1200w">
        <img src="img/bella-after.jpg" alt="Bella after grooming">
      </picture>
      <figcaption>After:   full   groom, teddy-bear face</figcaption>
    </figure>
    <p>Bella came in with a fully matted coat; four hours later she left with a teddy-bear cut.</p>
  </section>
  <div class="thumbs">
    <a href="/full/max-before.JPG" title="Max before"><img src="/thumbs/max-before.jpg" alt="Max before"></a>
    <a href="/full/max-after.png">Max after the bath</a>
    <a href="/page/max">Max's story</a>
  </div>
  <div class="lazy">
    <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" data-src="img/lazy-1.webp" alt="Lazy one">
    <noscript><img src="img/noscript-2.jpg" alt="No script two"></noscript>
    <p>Shih tzu puppy cut</p>
  </div>
  <img src="img/bella-before-1280.jpg" alt="">
  <img srcset="img/dense.jpg 1x, img/dense@3x.jpg 3x, img/dense@2x.jpg 2x">
  <map><area href="area-link.html"></map>
  <a href="services.html">Services again</a>
  <a href="/price-list.PDF">Prices (PDF)</a> <a href="/feed.xml">Feed</a>
</body>
</html>)html";

class GalleryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto url = Url::Parse("https://bubbles.example/salon/gallery.html");
    ASSERT_TRUE(url);
    page_ = ExtractPage(kGallery, *url);
  }

  const ImageRef* Find(std::string_view url) const {
    for (const auto& image : page_.images)
      if (image.url.spec() == url) return &image;
    return nullptr;
  }

  ExtractedPage page_;
};

TEST_F(GalleryTest, TitleIsTheDocumentTitle) { EXPECT_EQ(page_.title, "Gallery — Bubbles & Bows Grooming"); }

TEST_F(GalleryTest, ImagesComeInDocumentOrderWithPositionsAndOgImageLast) {
  std::vector<std::string> urls;
  for (const auto& image : page_.images) urls.push_back(image.url.spec());
  EXPECT_EQ(urls, (std::vector<std::string>{
                      "https://bubbles.example/salon/img/bella-before-1280.jpg",
                      "https://bubbles.example/salon/img/bella-after-1600.avif",
                      "https://bubbles.example/full/max-before.JPG",
                      "https://bubbles.example/full/max-after.png",
                      "https://bubbles.example/salon/img/lazy-1.webp",
                      "https://bubbles.example/salon/img/noscript-2.jpg",
                      "https://bubbles.example/salon/img/dense@3x.jpg",
                      "https://bubbles.example/media/og-cover.jpg",
                  }));
  for (std::size_t i = 0; i < page_.images.size(); ++i) EXPECT_EQ(page_.images[i].context.position, static_cast<int>(i));
}

TEST_F(GalleryTest, BeforeImageHasAltTitleCaptionAndNearbyText) {
  const ImageRef* before = Find("https://bubbles.example/salon/img/bella-before-1280.jpg");
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(before->source, ImageSource::kImg);
  EXPECT_EQ(before->context.alt, "Bella before grooming");
  EXPECT_EQ(before->context.title, "Before");
  EXPECT_EQ(before->context.caption, "Before: matted coat");
  // The figure has no text of its own besides its caption: the section's,
  // without the captions.
  EXPECT_EQ(before->context.nearby_text.substr(0, 24), "Bella, standard poodle B");
  EXPECT_NE(before->context.nearby_text.find("teddy-bear cut"), std::string::npos);
  EXPECT_EQ(before->context.nearby_text.find("matted coat Before"), std::string::npos);
}

TEST_F(GalleryTest, PictureTakesItsLargestSourceOfAUsableType) {
  const ImageRef* after = Find("https://bubbles.example/salon/img/bella-after-1600.avif");
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->source, ImageSource::kPicture);
  EXPECT_EQ(after->context.alt, "Bella after grooming");
  EXPECT_EQ(after->context.caption, "After: full groom, teddy-bear face");
  EXPECT_EQ(Find("https://bubbles.example/salon/img/bella-after-4000.jxl"), nullptr);
}

TEST_F(GalleryTest, LinksToImageFilesAreImagesAndReplaceTheirThumbnails) {
  const ImageRef* max_before = Find("https://bubbles.example/full/max-before.JPG");
  ASSERT_NE(max_before, nullptr);
  EXPECT_EQ(max_before->source, ImageSource::kLinkedImage);
  EXPECT_EQ(max_before->context.alt, "Max before");
  EXPECT_EQ(max_before->context.title, "Max before");
  EXPECT_EQ(Find("https://bubbles.example/thumbs/max-before.jpg"), nullptr);
  const ImageRef* max_after = Find("https://bubbles.example/full/max-after.png");
  ASSERT_NE(max_after, nullptr);
  EXPECT_EQ(max_after->context.alt, "Max after the bath");  // a bare link: its text
}

TEST_F(GalleryTest, LazyAndNoscriptImagesAreFound) {
  const ImageRef* lazy = Find("https://bubbles.example/salon/img/lazy-1.webp");
  ASSERT_NE(lazy, nullptr);
  EXPECT_EQ(lazy->context.alt, "Lazy one");
  EXPECT_EQ(lazy->context.nearby_text, "Shih tzu puppy cut");
  const ImageRef* noscript = Find("https://bubbles.example/salon/img/noscript-2.jpg");
  ASSERT_NE(noscript, nullptr);
  EXPECT_EQ(noscript->context.alt, "No script two");
  EXPECT_EQ(noscript->context.nearby_text, "Shih tzu puppy cut");
}

TEST_F(GalleryTest, DuplicateImagesAreMergedIntoTheFirst) {
  int count = 0;
  for (const auto& image : page_.images) count += image.url.spec() == "https://bubbles.example/salon/img/bella-before-1280.jpg";
  EXPECT_EQ(count, 1);
}

TEST_F(GalleryTest, OgImageCarriesOgAltAndTitle) {
  const ImageRef* og = Find("https://bubbles.example/media/og-cover.jpg");
  ASSERT_NE(og, nullptr);
  EXPECT_EQ(og->source, ImageSource::kOgImage);
  EXPECT_EQ(og->context.alt, "A freshly groomed poodle");
  EXPECT_EQ(og->context.title, "Our before & after gallery");
}

TEST_F(GalleryTest, LinksAreResolvedAgainstBaseNormalisedAndDeduplicated) {
  std::vector<std::string> links;
  for (const auto& link : page_.links) links.push_back(link.spec());
  EXPECT_EQ(links, (std::vector<std::string>{
                       "https://bubbles.example/",
                       "https://bubbles.example/salon/services.html",
                       "https://other.example/blog",
                       "https://bubbles.example/page/max",
                       "https://bubbles.example/salon/area-link.html",
                   }));
}

TEST(HtmlExtract, MetaRobotsForTheProductTokenOrEveryone) {
  auto url = *Url::Parse("http://a.example/");
  auto page = ExtractPage(R"(<meta name="robots" content="noimageai"><meta name="FurrSightBot" content="nofollow">
                             <meta name="otherbot" content="noai">)",
                          url);
  EXPECT_TRUE(page.robots.noimageai);
  EXPECT_TRUE(page.robots.nofollow);
  EXPECT_FALSE(page.robots.noai);
}

TEST(HtmlExtract, HostileInputIsHandled) {
  auto url = *Url::Parse("http://a.example/");
  std::string deep;
  for (int i = 0; i < 2000; ++i) deep += "<div>";
  deep += "<img src=deep.jpg>";
  auto page = ExtractPage(deep, url);  // no stack overflow; too deep to be seen
  EXPECT_TRUE(page.images.empty());
  EXPECT_TRUE(ExtractPage("", url).images.empty());
  EXPECT_TRUE(ExtractPage(std::string_view("\x00\xff<img src=\"\">", 14), url).images.empty());
}

TEST(Srcset, CommasInsideUrlsAndDescriptorsAreParsed) {
  auto candidates = ParseSrcset("https://cdn.example/c_fill,w_300/a.jpg 300w, https://cdn.example/c_fill,w_900/a.jpg 900w,"
                                "small.jpg 100w");
  ASSERT_EQ(candidates.size(), 3u);
  EXPECT_EQ(candidates[0].url, "https://cdn.example/c_fill,w_300/a.jpg");
  EXPECT_EQ(candidates[1].width, 900);
  EXPECT_EQ(PickLargest(candidates)->url, "https://cdn.example/c_fill,w_900/a.jpg");
}

TEST(Srcset, DensityWinsWhenThereAreNoWidths) {
  auto candidates = ParseSrcset("a.jpg, b.jpg 2x, c.jpg 1.5x");
  ASSERT_EQ(candidates.size(), 3u);
  EXPECT_EQ(candidates[0].density, 1.0);
  EXPECT_EQ(PickLargest(candidates)->url, "b.jpg");
  EXPECT_FALSE(PickLargest(ParseSrcset(" , ")).has_value());
}

}  // namespace
}  // namespace furrsight::workers
