// ValidationRules: the thresholds an image must meet to enter the dataset,
// one struct with documented defaults, read from PixCrawler's
// `validation_jobs.validation_rules` JSONB (e.g. {"min_width": 100,
// "min_height": 100}). Every field is optional; an absent field keeps its
// default, so `{}` means "the defaults". An unknown field, a wrong type or an
// out-of-range value is refused with a message naming the field.
//
// docs/vision.md explains each rule, its formula and how the defaults were chosen.
// A plain value type; thread-compatible.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "events/base/error.hpp"
#include "workers/vision/image_codec.hpp"
#include "workers/vision/image_header.hpp"
#include "workers/vision/perceptual_hash.hpp"

namespace furrsight::workers::vision {

struct ValidationRules {
  // min_width / min_height: pixels, from the header (PixCrawler's own example rule).
  int min_width = 100;
  int min_height = 100;
  // formats: the formats accepted, by magic number, never by Content-Type.
  // GIF is sniffed but cannot be decoded by OpenCV 4.6, so it cannot be allowed.
  std::vector<ImageFormat> formats = {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kWebp, ImageFormat::kBmp};
  // max_file_size: bytes of the encoded file (20 MiB).
  std::int64_t max_file_size = 20 * 1024 * 1024;
  // max_pixels: width x height from the header; above it the file is never decoded.
  std::int64_t max_pixels = kDefaultMaxPixels;
  // min_brightness / max_brightness: mean luma 0-255; below is "too_dark", above is "too_bright".
  double min_brightness = 35.0;
  double max_brightness = 225.0;
  // min_blur: variance of the Laplacian at <= 512 px (image_quality.hpp); below is "blur". 0 disables.
  // Checked after brightness: a dark or washed-out image has little contrast, so reads as blurry too.
  double min_blur = 40.0;
  // reject_duplicates: refuse an image whose SHA-256 was already seen.
  bool reject_duplicates = true;
  // reject_near_duplicates / near_duplicate_distance: refuse an image whose
  // perceptual hash is within this Hamming distance (0-64) of one already seen.
  bool reject_near_duplicates = true;
  int near_duplicate_distance = kDefaultNearDuplicateDistance;
};

// `json` must be an object (or null, meaning the defaults).
base::Result<ValidationRules> ParseValidationRules(const boost::json::value& json);
// The same from JSON text; a syntax error is kInvalidArgument too.
base::Result<ValidationRules> ParseValidationRulesText(std::string_view json_text);
// Every field, so a job can record the rules it applied; parses back to the same rules.
boost::json::object ToJson(const ValidationRules& rules);

}  // namespace furrsight::workers::vision
