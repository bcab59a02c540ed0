#include "workers/jobs/image_checks.hpp"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "events/base/uuid.hpp"
#include "events/catalog/codec.hpp"
#include "workers/jobs/scrape_job.hpp"
#include "workers/vision/image_codec.hpp"
#include "workers/vision/perceptual_hash.hpp"
#include "workers/vision/vision_events.hpp"

namespace furrsight::workers {
namespace {

constexpr size_t kReadBatch = 200;
constexpr size_t kDecodedCache = 48;
inline constexpr std::string_view kEventIds = "furrsight.validate";

std::string Str(const std::string& json, std::string_view key) {
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return {};
  const auto* s = v.as_object().if_contains(key);
  return s != nullptr && s->is_string() ? std::string(s->as_string()) : std::string();
}

}  // namespace

base::Result<void> ImageChecks::Check(const std::vector<std::string>& shas, const std::function<void(size_t)>& progress) {
  for (size_t start = 0; start < shas.size(); start += kReadBatch) {
    std::vector<std::string> streams;
    for (size_t i = start; i < std::min(shas.size(), start + kReadBatch); ++i)
      if (!valid_.contains(shas[i])) streams.push_back(ImageStream(shas[i]));
    auto read = store_.ReadStreams(streams);
    if (!read) return std::unexpected(read.error());
    for (size_t i = start; i < std::min(shas.size(), start + kReadBatch); ++i) {
      const std::string& sha = shas[i];
      if (valid_.contains(sha)) continue;
      const auto& events = read->at(ImageStream(sha));
      if (events.empty() || events.front().type != "ImageDownloaded") {
        valid_[sha] = false;  // never downloaded: nothing to check
        continue;
      }
      keys_[sha] = Str(events.front().payload_json, "storage_key");
      const auto& last = events.back();
      if (last.type == "ImageValidated" || last.type == "ImageRejected") {
        const bool ok = last.type == "ImageValidated";
        valid_[sha] = ok;
        if (ok) seen_.Add(sha, vision::ParsePerceptualHashHex(Str(last.payload_json, "phash")));
        ++counts_.reused;
        continue;
      }
      auto bytes = Bytes(sha);
      if (!bytes) return std::unexpected(bytes.error());
      const vision::ValidationReport report = vision::ValidateImage(*bytes, rules_, seen_);
      auto verdict = vision::ToImageEvent(report);
      const google::protobuf::Message& payload =
          std::visit([](const auto& m) -> const google::protobuf::Message& { return m; }, verdict);
      auto event = events::MakeEventFromMessage(
          ImageStream(sha), payload,
          {context_.actor, context_.correlation_id, context_.causation_id, context_.source},
          base::UuidFromName(kEventIds, sha));
      auto appended = store_.Append(ImageStream(sha), events::ExpectedVersion::Exactly(last.stream_version),
                                    std::span(&event, 1));
      if (!appended && appended.error().code != base::ErrorCode::kConflict) return std::unexpected(appended.error());
      // A conflict: another job judged it at the same moment, by the same rules or others; ours stands for this run.
      valid_[sha] = report.passed();
      if (report.passed()) {
        seen_.Add(sha, report.measured.phash);
        ++counts_.validated;
      } else {
        ++counts_.rejected;
        ++counts_.rejected_by_rule[std::string(vision::RuleName(report.failure->rule))];
      }
    }
    if (progress) progress(std::min(shas.size(), start + kReadBatch));
  }
  return {};
}

bool ImageChecks::Valid(const std::string& sha256) const {
  auto it = valid_.find(sha256);
  return it != valid_.end() && it->second;
}

base::Result<std::string> ImageChecks::Bytes(const std::string& sha256) {
  auto key = keys_.find(sha256);
  return blobs_.Get(key != keys_.end() && !key->second.empty() ? key->second : ContentKey(sha256));
}

base::Result<cv::Mat> ImageChecks::Pixels(const std::string& sha256) {
  if (auto it = decoded_.find(sha256); it != decoded_.end()) return it->second;
  auto bytes = Bytes(sha256);
  if (!bytes) return std::unexpected(bytes.error());
  auto decoded = vision::DecodeImage(*bytes, rules_.max_pixels);
  if (!decoded) return std::unexpected(decoded.error());
  if (decoded_order_.size() >= kDecodedCache) {
    decoded_.erase(decoded_order_.front());
    decoded_order_.pop_front();
  }
  decoded_order_.push_back(sha256);
  return decoded_[sha256] = decoded->pixels;
}

}  // namespace furrsight::workers
