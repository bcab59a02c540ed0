// Pair analysis: what the vision model is asked about a before/after pair,
// and what its answer becomes (a v1::PairAnalyzed payload).
//
//   PairAnalysisSchema()  the JSON schema sent as response_format json_schema
//                         (strict) and checked again on the answer
//   BuildPairRequest()    system + one user message: the prompt's text and
//                         both images (before, then after), each decoded,
//                         downscaled to options.downscale.max_side and sent
//                         as a base64 JPEG data URL
//   ParsePairAnswer()     the answer's text -> PairAnswer, or why it is not one
//   PairAnalyzer          one pair end to end: request, call, validation,
//                         one more call when the answer is invalid, and a
//                         PairAnalysis that is either ok or says why not,
//                         with the raw text kept (never a throw, never a drop)
//
// Free functions are pure and thread-safe. PairAnalyzer holds a reference
// to its transport (which must outlive it) and is immutable after
// construction: Analyze() may run on many threads at once.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"
#include <furrsight/events/v1/pair.pb.h>
#include "workers/inference/chat_client.hpp"
#include "workers/inference/prompts.hpp"
#include "workers/inference/structured_answer.hpp"
#include "workers/vision/image_codec.hpp"

namespace furrsight::workers::inference {

inline constexpr std::string_view kPairSchemaName = "pair_analysis";
inline constexpr std::string_view kPairPromptName = "pair_analysis";
inline constexpr std::string_view kUnknownBreed = "unknown";
inline constexpr int kMaxServices = 12;
inline constexpr int kMaxNotesLength = 500;

// {is_grooming_pair, same_dog, breed, services, confidence, notes}: all
// required, nothing else allowed.
const boost::json::object& PairAnalysisSchema();

struct PairAnswer {
  bool is_grooming_pair = false;
  bool same_dog = false;
  std::string breed;                  // catalog spelling when it matches one (same slug), else trimmed
  std::vector<std::string> services;  // likewise; duplicates removed, order kept
  double confidence = 0.0;            // 0-1
  std::string notes;
};

struct PairAnalysisOptions {
  vision::DownscaleOptions downscale;   // max_side: the setting inference_image_max_side
  std::vector<std::string> services;    // the grooming_services catalog (display names)
  std::vector<std::string> breeds;      // the dog_breeds catalog (display names)
  int max_tokens = 512;
  double temperature = 0.0;
  std::int64_t max_image_pixels = vision::kDefaultMaxPixels;
};

// Encoded image bytes (any format DecodeImage reads), as loaded from the blob store.
struct PairImages {
  std::string_view before;
  std::string_view after;
};

// "data:image/jpeg;base64,..." of the image downscaled for the model.
base::Result<std::string> ImageDataUrl(std::string_view image_bytes, const vision::DownscaleOptions& downscale,
                                       std::int64_t max_pixels = vision::kDefaultMaxPixels);

// The chat-completions body (without "model"). kInvalidArgument when an image
// cannot be read (naming which) or the prompt does not render.
base::Result<boost::json::object> BuildPairRequest(const Prompt& prompt, const PairImages& images,
                                                   const PairAnalysisOptions& options);

// kInvalidArgument: "invalid JSON: ..." or "schema violation: $.confidence: ...".
// A ```json fence around the object is tolerated. Names are matched to the
// catalogs in `options` (case-insensitive) and take the catalog's spelling.
base::Result<PairAnswer> ParsePairAnswer(std::string_view content, const PairAnalysisOptions& options);

// ModelCalls (ok, error, raw_answer, model, prompt_version "pair_analysis.v1",
// latency, tokens, model_calls) plus the answer.
struct PairAnalysis : ModelCalls {
  PairAnswer answer;                      // when ok
  bool breed_is_new = false;              // not in the catalog and not "unknown"
  std::vector<std::string> new_services;  // services not in the catalog
};

class PairAnalyzer {
 public:
  PairAnalyzer(ChatTransport& transport, Prompt prompt, PairAnalysisOptions options);

  // Never throws for an expected failure: unreadable images, a failed call
  // (after the transport's retries) or an answer that is invalid twice give
  // ok = false with the reason and the raw text.
  PairAnalysis Analyze(const PairImages& images) const;

  const Prompt& prompt() const { return prompt_; }

 private:
  ChatTransport& transport_;
  Prompt prompt_;
  PairAnalysisOptions options_;
};

// The event payload: every field of the analysis.
events::v1::PairAnalyzed ToPairAnalyzed(const PairAnalysis& analysis);

}  // namespace furrsight::workers::inference
