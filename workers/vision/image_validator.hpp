// ValidateImage: runs the ValidationRules over one downloaded image and
// reports what it measured and the first rule the image failed, in the shape
// of the ImageValidated / ImageRejected events (image.proto).
//
// The cheap checks come first and the decoder last, so a file that is too
// big, not an image, too small, a decompression bomb or an exact duplicate
// is refused from its bytes and header alone, without decoding a pixel:
//   file_size, format, min_size, max_pixels, duplicate   (bytes and header)
//   decode, too_dark, too_bright, blur, near_duplicate    (decoded pixels)
// Brightness comes before blur: an under- or over-exposed image has little
// contrast left, so it would read as blurry too, and "too dark" is the truth.
//
// SeenImages holds the images already accepted in the scope duplicates are
// judged in (a crawl job, the whole dataset); the caller fills it, e.g. from
// the images read model, and adds each image that passes. It is a plain
// container: not thread-safe, guard it or keep one per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "workers/vision/image_header.hpp"
#include "workers/vision/perceptual_hash.hpp"
#include "workers/vision/validation_rules.hpp"

namespace furrsight::workers::vision {

enum class Rule {
  kFileSize,       // "file_size": bytes > max_file_size
  kFormat,         // "format": not an image by its magic numbers, unreadable header, or not allowed
  kMinSize,        // "min_size": width < min_width or height < min_height
  kMaxPixels,      // "max_pixels": width x height > max_pixels (never decoded)
  kDuplicate,      // "duplicate": same SHA-256 as an image already seen
  kDecode,         // "decode": the decoder failed or disagreed with the header
  kBlur,           // "blur": variance of the Laplacian < min_blur
  kTooDark,        // "too_dark": mean luma < min_brightness
  kTooBright,      // "too_bright": mean luma > max_brightness
  kNearDuplicate,  // "near_duplicate": pHash within near_duplicate_distance of an image already seen
};

// The name ImageRejected.rule and ImageValidated.rules use.
std::string_view RuleName(Rule rule);

struct RuleFailure {
  Rule rule = Rule::kFormat;
  double value = 0;      // what was measured (ImageRejected.value)
  double threshold = 0;  // the limit it crossed (ImageRejected.threshold)
  std::string detail;    // a sentence for people (ImageRejected.detail)
};

struct ImageMeasurements {
  std::string sha256;  // lower-case hex of the bytes: the image-{sha256} stream id
  std::int64_t file_size = 0;
  std::optional<ImageFormat> format;  // from the magic numbers; nullopt if not an image
  int width = 0;                      // from the header; 0 if it could not be read
  int height = 0;
  // From the decoded pixels; nullopt when the image was refused before decoding.
  std::optional<double> blur;
  std::optional<double> brightness;
  std::optional<PerceptualHashValue> phash;
};

struct ValidationReport {
  ImageMeasurements measured;
  std::vector<Rule> rules_applied;     // in order; ends with the failed rule when there is one
  std::optional<RuleFailure> failure;  // the first rule failed; nullopt means ImageValidated

  bool passed() const { return !failure.has_value(); }
};

class SeenImages {
 public:
  struct NearMatch {
    std::string sha256;
    int distance = 0;
  };

  // `phash` is optional: an image known only by its bytes still counts for exact duplicates.
  void Add(std::string sha256_hex, std::optional<PerceptualHashValue> phash);
  bool ContainsSha256(std::string_view sha256_hex) const;
  // The closest known hash within `max_distance` (the earliest added on ties).
  // A linear scan: ~1 ms per million hashes.
  std::optional<NearMatch> FindNear(PerceptualHashValue phash, int max_distance) const;
  std::size_t size() const { return sha256_.size(); }

 private:
  std::unordered_set<std::string> sha256_;
  std::vector<std::pair<PerceptualHashValue, std::string>> phashes_;
};

// Never fails: an image that cannot be read is a report with a failure, not an error.
ValidationReport ValidateImage(std::string_view bytes, const ValidationRules& rules, const SeenImages& seen = {});

}  // namespace furrsight::workers::vision
