#include "tests/support/grooming_dataset.hpp"

#include <random>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "events/base/text.hpp"
#include "events/base/uuid.hpp"
#include "workers/vision/image_codec.hpp"
#include "workers/vision/perceptual_hash.hpp"

namespace furrsight::testing {
namespace {

namespace json = boost::json;
namespace vision = workers::vision;

constexpr const char* kBreeds[] = {"Poodle", "Shih Tzu", "Golden Retriever", "Schnauzer", "Bichon Frise"};
constexpr const char* kServices[] = {"full groom", "bath", "nail trim", "haircut", "de-shedding"};

// A "dog": a few random ellipses on a random background.
cv::Mat Picture(std::mt19937& rng, int w, int h) {
  std::uniform_int_distribution<int> c(0, 255), x(0, w - 1), y(0, h - 1), r(8, std::max(9, w / 3));
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(c(rng), c(rng), c(rng)));
  for (int i = 0; i < 6; ++i)
    cv::ellipse(img, cv::Point(x(rng), y(rng)), cv::Size(r(rng), r(rng)), c(rng), 0, 360,
                cv::Scalar(c(rng), c(rng), c(rng)), -1);
  return img;
}

events::NewEvent Event(const std::string& stream, const std::string& type, const json::object& payload,
                       const std::string& actor) {
  events::NewEvent e;
  e.event_id = base::NewUuid();
  e.stream_id = stream;
  e.type = type;
  e.payload_json = json::serialize(payload);
  e.metadata = {actor, "corr-" + e.event_id.substr(0, 8), "cmd-" + e.event_id.substr(0, 8), "test"};
  return e;
}

}  // namespace

base::Result<GroomingDataset> GenerateGroomingDataset(events::EventStore& store, workers::BlobStore& blobs,
                                                      const GroomingDatasetOptions& o) {
  GroomingDataset out;
  std::mt19937 rng(o.seed);
  std::vector<cv::Mat> befores;
  for (int i = 0; i < o.pairs; ++i) {
    GeneratedPair p;
    cv::Mat before = Picture(rng, o.width, o.height);
    int before_quality = 90;
    if (o.near_duplicate_every > 0 && i > 0 && i % o.near_duplicate_every == 0) {
      p.near_duplicate_of = static_cast<int>(rng() % static_cast<unsigned>(i));
      before = befores[p.near_duplicate_of].clone();
      before_quality = 70;  // another encoding of the same picture, marked so no two copies are the same bytes
      cv::rectangle(before, cv::Rect(0, 0, 2, 2), cv::Scalar(i % 256, (i / 256) % 256, 7), -1);
    }
    befores.push_back(before);
    cv::Mat after = before.clone();
    cv::GaussianBlur(after, after, cv::Size(5, 5), 0);  // "groomed": smoother
    std::vector<events::NewEvent> batch;
    std::vector<events::StreamExpectation> streams;
    std::string shas[2];
    int k = 0;
    for (auto [mat, quality] : {std::pair{&before, before_quality}, std::pair{&after, 90}}) {
      auto encoded = vision::EncodeImage(*mat, vision::ImageFormat::kJpeg, quality);
      if (!encoded) return std::unexpected(encoded.error());
      auto stored = blobs.PutContent(encoded->bytes, "image/jpeg");
      if (!stored) return std::unexpected(stored.error());
      auto phash = vision::PerceptualHash(*mat);
      if (!phash) return std::unexpected(phash.error());
      const std::string sha = stored->sha256;
      const std::string stream = "image-" + sha;
      shas[k++] = sha;
      out.image_bytes += encoded->bytes.size();
      if (out.phash_of.contains(sha)) continue;  // the same bytes twice: one image
      out.phash_of[sha] = vision::PerceptualHashHex(*phash);
      batch.push_back(Event(stream, "ImageDownloaded",
                            {{"url", fmt::format("https://groomers.example/img/{}.jpg", sha.substr(0, 12))},
                             {"page_url", fmt::format("https://groomers.example/gallery/{}", i)},
                             {"width", o.width}, {"height", o.height},
                             {"file_size", static_cast<std::int64_t>(encoded->bytes.size())},
                             {"format", "jpeg"}, {"content_type", "image/jpeg"},
                             {"storage_key", stored->key}, {"sha256", sha}, {"crawl_job_id", o.crawl_job_id}},
                            "worker:test"));
      batch.push_back(Event(stream, "ImageValidated",
                            {{"rules", json::array{"min_size", "blur"}}, {"width", o.width}, {"height", o.height},
                             {"blur", 120.0}, {"brightness", 110.0}, {"phash", out.phash_of[sha]}},
                            "worker:test"));
      streams.push_back({stream, events::ExpectedVersion::Any()});
    }
    p.before_sha256 = shas[0];
    p.after_sha256 = shas[1];
    p.id = base::UuidFromName("furrsight.test.pair", shas[0] + shas[1]);
    p.breed = kBreeds[rng() % std::size(kBreeds)];
    p.services = {kServices[rng() % std::size(kServices)]};
    if (rng() % 2 == 0) {
      std::string extra = kServices[rng() % std::size(kServices)];
      if (extra != p.services[0]) p.services.push_back(extra);
    }
    p.status = o.rejected_every > 0 && i % o.rejected_every == o.rejected_every - 1 ? "REJECTED"
               : o.unverified_every > 0 && i % o.unverified_every == o.unverified_every - 1 ? "UNVERIFIED"
                                                                                          : "VERIFIED";
    const std::string pair = "pair-" + p.id;
    const std::string researcher = "user:7c9e6679-7425-40de-944b-e07fc1f90ae7";
    batch.push_back(Event(pair, "PairProposed",
                          {{"before_image_sha256", shas[0]}, {"after_image_sha256", shas[1]},
                           {"before_image_url", fmt::format("https://groomers.example/img/{}.jpg", shas[0].substr(0, 12))},
                           {"after_image_url", fmt::format("https://groomers.example/img/{}.jpg", shas[1].substr(0, 12))},
                           {"source_url", fmt::format("https://groomers.example/gallery/{}", i)},
                           {"cue", "alt"}, {"similarity", 0.8}},
                          "worker:test"));
    json::array names, slugs;
    for (const auto& s : p.services) {
      names.emplace_back(s);
      slugs.emplace_back(base::Slug(s));
    }
    batch.push_back(Event(pair, "PairBreedSet", {{"breed", p.breed}, {"breed_slug", base::Slug(p.breed)}}, researcher));
    batch.push_back(Event(pair, "PairServicesSet", {{"services", names}, {"service_slugs", slugs}}, researcher));
    if (p.status == "VERIFIED") batch.push_back(Event(pair, "PairVerified", {}, researcher));
    if (p.status == "REJECTED") batch.push_back(Event(pair, "PairRejected", {{"reason", "not the same dog"}}, researcher));
    streams.push_back({pair, events::ExpectedVersion::NoStream()});
    if (auto ok = store.Append(streams, batch); !ok) return std::unexpected(ok.error());
    out.pairs.push_back(std::move(p));
  }
  return out;
}

}  // namespace furrsight::testing
