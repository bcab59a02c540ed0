#include "workers/jobs/pair_job.hpp"

#include <set>

#include <fmt/format.h>

#include "events/base/sha256.hpp"
#include "events/base/uuid.hpp"
#include "events/catalog/codec.hpp"
#include "workers/jobs/job_payload.hpp"
#include "workers/jobs/crawl_findings.hpp"
#include "workers/jobs/image_checks.hpp"
#include "workers/jobs/scrape_job.hpp"
#include "workers/vision/composite_split.hpp"
#include "workers/vision/vision_events.hpp"

namespace furrsight::workers {
namespace {

namespace v1 = ::furrsight::events::v1;
using base::ErrorCode;

inline constexpr std::string_view kPairIds = "furrsight.pair";
inline constexpr std::string_view kEventIds = "furrsight.pairing";

base::Result<vision::ValidationRules> RulesOf(const boost::json::object& p) {
  const auto* rules = p.if_contains("validation_rules");
  if (rules == nullptr) return vision::ValidationRules{};
  return vision::ParseValidationRules(*rules);
}

struct Tally {
  int proposed = 0, already_proposed = 0, not_same_dog = 0, near_duplicates = 0, invalid_images = 0, composites = 0,
      unscorable = 0;
};

class Pairing {
 public:
  Pairing(events::EventStore& store, BlobStore& blobs, JobContext& context, ImageChecks& checks,
          const vision::PairScoreOptions& scoring, std::string crawl_job_id)
      : store_(store), blobs_(blobs), context_(context), checks_(checks), scoring_(scoring),
        crawl_job_id_(std::move(crawl_job_id)) {}

  // Scores a candidate and proposes it if it passes.
  base::Result<void> Consider(const std::string& before_sha, const std::string& after_sha, const std::string& before_url,
                              const std::string& after_url, const std::string& page_url, const std::string& cue) {
    if (!checks_.Valid(before_sha) || !checks_.Valid(after_sha)) {
      ++tally.invalid_images;
      return {};
    }
    auto before = checks_.Pixels(before_sha);
    auto after = checks_.Pixels(after_sha);
    if (!before || !after) {
      ++tally.unscorable;
      return {};
    }
    auto score = vision::ScorePair(*before, *after, scoring_);
    if (!score) {
      ++tally.unscorable;
      return {};
    }
    if (score->near_duplicate) {
      ++tally.near_duplicates;
      return {};
    }
    if (!score->same_dog) {
      ++tally.not_same_dog;
      return {};
    }
    v1::PairProposed proposed;
    proposed.set_before_image_sha256(before_sha);
    proposed.set_after_image_sha256(after_sha);
    proposed.set_before_image_url(before_url);
    proposed.set_after_image_url(after_url);
    proposed.set_source_url(page_url);
    proposed.set_cue(cue);
    vision::SetPairScores(*score, proposed);
    const std::string pair_id = PairId(before_sha, after_sha);
    auto event = events::MakeEventFromMessage("pair-" + pair_id, proposed, MetadataOf(context_),
                                              base::UuidFromName(kEventIds, "proposed/" + pair_id));
    auto r = store_.Append("pair-" + pair_id, events::ExpectedVersion::NoStream(), std::span(&event, 1));
    if (r) ++tally.proposed;
    else if (r.error().code == ErrorCode::kConflict) ++tally.already_proposed;
    else return std::unexpected(r.error());
    return {};
  }

  // A composite holding both halves: cut, store the halves, check and score them.
  base::Result<void> TryComposite(const CrawlImage& image) {
    auto pixels = checks_.Pixels(image.sha256);
    if (!pixels) return {};
    auto split = vision::DetectCompositeSplit(*pixels);
    if (!split || !*split) return {};
    auto halves = vision::CropAndEncodeHalves(*pixels, **split);
    if (!halves) return {};
    ++tally.composites;
    const bool side = (*split)->orientation == vision::SplitOrientation::kSideBySide;
    const std::string names[2] = {side ? "left" : "top", side ? "right" : "bottom"};
    const cv::Rect rects[2] = {(*split)->first, (*split)->second};
    const vision::EncodedImage* encoded[2] = {&halves->first, &halves->second};
    std::string shas[2], urls[2];
    for (int i = 0; i < 2; ++i) {
      const std::string& bytes = encoded[i]->bytes;
      auto stored = blobs_.PutContent(bytes, "image/jpeg");
      if (!stored) return std::unexpected(stored.error());
      shas[i] = base::Sha256Hex(bytes);
      urls[i] = image.url + "#" + names[i];
      v1::ImageDownloaded half;
      half.set_url(urls[i]);
      half.set_page_url(image.page_url);
      half.set_width(encoded[i]->width);
      half.set_height(encoded[i]->height);
      half.set_file_size(static_cast<std::int64_t>(bytes.size()));
      half.set_format("jpeg");
      half.set_content_type("image/jpeg");
      half.set_storage_key(stored->key);
      half.set_sha256(shas[i]);
      half.set_crawl_job_id(crawl_job_id_);  // the halves belong to the crawl that found the composite
      half.set_derived_from_sha256(image.sha256);
      half.set_derived_region(
          fmt::format("{}:{},{},{},{}", names[i], rects[i].x, rects[i].y, rects[i].width, rects[i].height));
      auto event = events::MakeEventFromMessage(ImageStream(shas[i]), half, MetadataOf(context_),
                                                base::UuidFromName(kEventIds, "half/" + shas[i]));
      auto r = store_.Append(ImageStream(shas[i]), events::ExpectedVersion::NoStream(), std::span(&event, 1));
      if (!r && r.error().code != ErrorCode::kConflict) return std::unexpected(r.error());
    }
    if (auto ok = checks_.Check({shas[0], shas[1]}); !ok) return ok;
    return Consider(shas[0], shas[1], urls[0], urls[1], image.page_url, side ? "composite-side" : "composite-stacked");
  }

  Tally tally;

 private:
  events::EventStore& store_;
  BlobStore& blobs_;
  JobContext& context_;
  ImageChecks& checks_;
  const vision::PairScoreOptions& scoring_;
  const std::string crawl_job_id_;
};

// The crawl's downloaded images, the largest files first: of two near
// duplicates (a resized or re-encoded copy) the better one is kept.
std::vector<std::string> LargestFirst(std::vector<CrawlImage> images) {
  std::stable_sort(images.begin(), images.end(), [](const CrawlImage& a, const CrawlImage& b) {
    return a.file_size != b.file_size ? a.file_size > b.file_size : a.sha256 < b.sha256;
  });
  std::vector<std::string> shas;
  std::set<std::string> listed;
  for (const auto& i : images)
    if (i.derived_from_sha256.empty() && listed.insert(i.sha256).second) shas.push_back(i.sha256);
  return shas;
}

boost::json::object CountsJson(const CheckCounts& c) {
  boost::json::object by_rule;
  for (const auto& [rule, n] : c.rejected_by_rule) by_rule[rule] = n;
  return {{"images_validated", c.validated},
          {"images_rejected", c.rejected},
          {"verdicts_reused", c.reused},
          {"rejected_by_rule", by_rule}};
}

}  // namespace

std::string PairId(const std::string& before_sha256, const std::string& after_sha256) {
  return base::UuidFromName(kPairIds, before_sha256 + "/" + after_sha256);
}

JobOutcome PairJob::Run(JobContext& context) {
  const std::string crawl = StringOr(context.payload(), "crawl_job_id");
  if (crawl.empty())
    return Failed{"PROCESS_IMAGE_PAIR needs payload.crawl_job_id (pairing by page_urls alone is not supported)", false};
  auto rules = RulesOf(context.payload());
  if (!rules) return Failed{rules.error().message, false};
  auto candidates = LoadCandidates(store_, crawl);
  auto images = LoadCrawlImages(store_, crawl);
  if (!candidates) return Failed{candidates.error().message, true};
  if (!images) return Failed{images.error().message, true};

  // Every image involved: the crawl's, then candidates' images found by earlier crawls.
  std::vector<std::string> shas = LargestFirst(*images);
  std::set<std::string> listed(shas.begin(), shas.end());
  for (const auto& c : *candidates)
    for (const auto* sha : {&c.before_sha256, &c.after_sha256})
      if (listed.insert(*sha).second) shas.push_back(*sha);
  const size_t work = shas.size() + candidates->size() + images->size() + 1;

  ImageChecks checks(store_, blobs_, std::move(*rules), context.command_context());
  auto checked = checks.Check(shas, [&](size_t done) {
    context.Progress(static_cast<int>(100 * done / work), {{"images_checked", static_cast<std::int64_t>(done)}});
  });
  if (!checked) return Failed{checked.error().message, true};
  if (context.stopping()) return Stopped{};

  Pairing pairing(store_, blobs_, context, checks, scoring_, crawl);
  size_t done = shas.size();
  for (const auto& c : *candidates) {
    if (context.stopping()) return Stopped{};
    auto ok = pairing.Consider(c.before_sha256, c.after_sha256, c.before_url, c.after_url, c.page_url, c.cue);
    if (!ok) return Failed{ok.error().message, true};
    context.Progress(static_cast<int>(100 * ++done / work), {{"pairs_proposed", pairing.tally.proposed}});
  }
  for (const auto& image : *images) {
    if (context.stopping()) return Stopped{};
    ++done;
    // Every image may be a composite, also one that is a candidate with a neighbour.
    if (!image.derived_from_sha256.empty() || !checks.Valid(image.sha256)) continue;
    auto ok = pairing.TryComposite(image);
    if (!ok) return Failed{ok.error().message, true};
    context.Progress(static_cast<int>(100 * done / work), {{"pairs_proposed", pairing.tally.proposed}});
  }
  Completed result{CountsJson(checks.counts())};
  const Tally& t = pairing.tally;
  result.result["candidates"] = static_cast<std::int64_t>(candidates->size());
  result.result["pairs_proposed"] = t.proposed;
  result.result["pairs_already_proposed"] = t.already_proposed;
  result.result["not_same_dog"] = t.not_same_dog;
  result.result["near_duplicates"] = t.near_duplicates;
  result.result["invalid_images"] = t.invalid_images;
  result.result["unscorable"] = t.unscorable;
  result.result["composites"] = t.composites;
  return result;
}

JobOutcome ValidateJob::Run(JobContext& context) {
  const std::string crawl = StringOr(context.payload(), "crawl_job_id");
  auto rules = RulesOf(context.payload());
  if (!rules) return Failed{rules.error().message, false};
  auto images = LoadCrawlImages(store_, crawl);
  if (!images) return Failed{images.error().message, true};
  const std::vector<std::string> shas = LargestFirst(*images);
  ImageChecks checks(store_, blobs_, std::move(*rules), context.command_context());
  auto checked = checks.Check(shas, [&](size_t done) {
    context.Progress(static_cast<int>(100 * done / std::max<size_t>(1, shas.size())),
                     {{"images_checked", static_cast<std::int64_t>(done)}});
  });
  if (!checked) return Failed{checked.error().message, true};
  Completed result{CountsJson(checks.counts())};
  result.result["images"] = static_cast<std::int64_t>(shas.size());
  return result;
}

}  // namespace furrsight::workers
