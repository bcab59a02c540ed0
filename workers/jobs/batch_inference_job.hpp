// BatchInferenceJob: the BATCH_INFERENCE handler. Picks pairs from the
// grooming_pairs read model (by default: UNVERIFIED and without an ok
// analysis by this model and prompt version), analyses each with the vision
// model (inference::PairAnalyzer, many in flight), and records every answer,
// ok or failed, as PairAnalyzed on the pair's stream. Breeds and services new
// to the catalog are registered first (BreedRegistered / ServiceRegistered on
// breed-{slug} / service-{slug}), so the projection links them.
//
// Idempotent (invariant 7): a pair's PairAnalyzed id derives from the job and
// the pair, and an attempt skips pairs whose event is already recorded — a
// retried job never analyses a pair twice nor records it twice. A pair
// either has its PairAnalyzed or nothing: never half-analysed.
//
// When the model server keeps failing (kBreakerCalls failed calls in a row,
// after the client's own retries) the job stops taking pairs and fails
// retryable: the pairs not reached stay unanalysed for the next attempt.
// With no endpoint configured it fails at once, not retryable.
//
// Payload (all optional): status (UNVERIFIED | VERIFIED | REJECTED | ANY),
// limit (1..100000, default 1000), model (must be the configured one),
// prompt_version ("pair_analysis.v1"; default: the newest), pair_ids
// (array of uuids: only these), reanalyse (true: include pairs already
// analysed by this model and prompt).
#pragma once

#include <memory>

#include "events/store/event_store.hpp"
#include "workers/inference/chat_client.hpp"
#include "workers/inference/inference_settings.hpp"
#include "workers/runtime/job_handler.hpp"
#include "workers/storage/blob_store.hpp"

namespace furrsight::workers {

class BatchInferenceJob final : public JobHandler {
 public:
  static constexpr int kBreakerCalls = 5;
  static constexpr int kDefaultLimit = 1000;
  static constexpr int kMaxLimit = 100000;

  BatchInferenceJob(inference::InferenceSettings settings, events::EventStore& store, BlobStore& blobs);
  std::string_view job_type() const override { return "BATCH_INFERENCE"; }
  JobOutcome Run(JobContext& context) override;
  // Per model endpoint (job_limits "BATCH_INFERENCE/<base_url>=N").
  std::string ConcurrencyKey(const boost::json::object& payload) const override;

 private:
  const inference::InferenceSettings settings_;
  events::EventStore& store_;
  BlobStore& blobs_;
  std::unique_ptr<inference::ChatClient> client_;  // shared by every attempt: its limit is the process's
};

}  // namespace furrsight::workers
