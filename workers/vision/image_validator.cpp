#include "workers/vision/image_validator.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "events/base/sha256.hpp"
#include "workers/vision/image_codec.hpp"
#include "workers/vision/image_quality.hpp"

namespace furrsight::workers::vision {
namespace {

std::string FormatList(const std::vector<ImageFormat>& formats) {
  std::string out;
  for (ImageFormat f : formats) out += fmt::format("{}{}", out.empty() ? "" : ", ", FormatName(f));
  return out;
}

}  // namespace

std::string_view RuleName(Rule rule) {
  switch (rule) {
    case Rule::kFileSize: return "file_size";
    case Rule::kFormat: return "format";
    case Rule::kMinSize: return "min_size";
    case Rule::kMaxPixels: return "max_pixels";
    case Rule::kDuplicate: return "duplicate";
    case Rule::kDecode: return "decode";
    case Rule::kBlur: return "blur";
    case Rule::kTooDark: return "too_dark";
    case Rule::kTooBright: return "too_bright";
    case Rule::kNearDuplicate: return "near_duplicate";
  }
  return "unknown";
}

void SeenImages::Add(std::string sha256_hex, std::optional<PerceptualHashValue> phash) {
  if (phash) phashes_.emplace_back(*phash, sha256_hex);
  sha256_.insert(std::move(sha256_hex));
}

bool SeenImages::ContainsSha256(std::string_view sha256_hex) const { return sha256_.contains(std::string(sha256_hex)); }

std::optional<SeenImages::NearMatch> SeenImages::FindNear(PerceptualHashValue phash, int max_distance) const {
  std::optional<NearMatch> best;
  for (const auto& [known, sha256] : phashes_) {
    const int distance = HammingDistance(phash, known);
    if (distance <= max_distance && (!best || distance < best->distance)) best = NearMatch{sha256, distance};
  }
  return best;
}

ValidationReport ValidateImage(std::string_view bytes, const ValidationRules& rules, const SeenImages& seen) {
  ValidationReport report;
  ImageMeasurements& m = report.measured;
  m.sha256 = base::Sha256Hex(bytes);
  m.file_size = static_cast<std::int64_t>(bytes.size());

  // Records `rule` as applied (once, however many checks it takes); on failure, the report ends here.
  auto check = [&report](Rule rule, bool failed, double value, double threshold, std::string detail) {
    if (report.rules_applied.empty() || report.rules_applied.back() != rule) report.rules_applied.push_back(rule);
    if (failed) report.failure = RuleFailure{rule, value, threshold, std::move(detail)};
    return failed;
  };

  // From the bytes and the header: nothing is decoded yet.
  if (check(Rule::kFileSize, m.file_size > rules.max_file_size, static_cast<double>(m.file_size),
            static_cast<double>(rules.max_file_size),
            fmt::format("{} bytes is more than the limit of {}", m.file_size, rules.max_file_size)))
    return report;
  m.format = SniffFormat(bytes);
  auto header = SniffImageHeader(bytes);
  if (check(Rule::kFormat, !header, 0, 0, header ? "" : header.error().message)) return report;
  m.width = header->width;
  m.height = header->height;
  const bool allowed = std::ranges::find(rules.formats, header->format) != rules.formats.end();
  if (check(Rule::kFormat, !allowed, 0, 0,
            fmt::format("{} is not an allowed format (allowed: {})", FormatName(header->format),
                        FormatList(rules.formats))))
    return report;
  if (m.width < rules.min_width) {
    check(Rule::kMinSize, true, m.width, rules.min_width,
          fmt::format("width {} is below the minimum of {}", m.width, rules.min_width));
    return report;
  }
  if (check(Rule::kMinSize, m.height < rules.min_height, m.height, rules.min_height,
            fmt::format("height {} is below the minimum of {}", m.height, rules.min_height)))
    return report;
  const std::int64_t pixels = header->PixelCount();
  if (check(Rule::kMaxPixels, pixels > rules.max_pixels, static_cast<double>(pixels),
            static_cast<double>(rules.max_pixels),
            fmt::format("the header declares {}x{} = {} pixels, more than the limit of {}; not decoded", m.width,
                        m.height, pixels, rules.max_pixels)))
    return report;
  if (rules.reject_duplicates &&
      check(Rule::kDuplicate, seen.ContainsSha256(m.sha256), 0, 0, "the same bytes were already seen"))
    return report;

  // From the pixels.
  auto decoded = DecodeImage(bytes, rules.max_pixels);
  if (check(Rule::kDecode, !decoded, 0, 0, decoded ? "" : decoded.error().message)) return report;
  auto quality = MeasureQuality(decoded->pixels);
  auto phash = PerceptualHash(decoded->pixels);
  if (!quality || !phash) {
    check(Rule::kDecode, true, 0, 0, quality ? phash.error().message : quality.error().message);
    return report;
  }
  m.blur = quality->blur;
  m.brightness = quality->brightness;
  m.phash = *phash;
  if (check(Rule::kTooDark, quality->brightness < rules.min_brightness, quality->brightness, rules.min_brightness,
            fmt::format("mean luma {:.1f} is below {:.1f}: too dark", quality->brightness, rules.min_brightness)))
    return report;
  if (check(Rule::kTooBright, quality->brightness > rules.max_brightness, quality->brightness, rules.max_brightness,
            fmt::format("mean luma {:.1f} is above {:.1f}: too bright", quality->brightness, rules.max_brightness)))
    return report;
  if (rules.min_blur > 0 &&
      check(Rule::kBlur, quality->blur < rules.min_blur, quality->blur, rules.min_blur,
            fmt::format("variance of the Laplacian {:.1f} is below {:.1f}: too blurry", quality->blur, rules.min_blur)))
    return report;
  if (rules.reject_near_duplicates) {
    const auto near = seen.FindNear(*phash, rules.near_duplicate_distance);
    if (check(Rule::kNearDuplicate, near.has_value(), near ? near->distance : 0, rules.near_duplicate_distance,
              near ? fmt::format("perceptual hash {} bits from image {}", near->distance, near->sha256) : ""))
      return report;
  }
  return report;
}

}  // namespace furrsight::workers::vision
