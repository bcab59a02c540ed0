// GenerateQueriesJob: the GENERATE_QUERIES handler (the seed's Phase 1). Asks
// the language model for `count` image-search queries about `topic`
// (inference::QueryGenerator), records the answer as QueriesGenerated on
// queries-{job id} — a refused answer too, with its raw text — and, with
// start_scrape, submits one SCRAPE_URL job crawling from those queries
// through the search provider (idempotency key queries/<job id>/SCRAPE_URL,
// so a retried attempt never starts a second crawl).
//
// Payload: topic (required), count (1..100, default 10), start_scrape
// (default false), and for the crawl max_depth, max_pages, max_images.
// An answer refused twice or a failed call fails the attempt retryable; no
// endpoint configured fails it at once, not retryable.
#pragma once

#include <memory>

#include "events/store/event_store.hpp"
#include "workers/inference/chat_client.hpp"
#include "workers/inference/inference_settings.hpp"
#include "workers/runtime/job_handler.hpp"

namespace furrsight::workers {

class GenerateQueriesJob final : public JobHandler {
 public:
  static constexpr int kDefaultCount = 10;

  GenerateQueriesJob(inference::InferenceSettings settings, events::EventStore& store);
  std::string_view job_type() const override { return "GENERATE_QUERIES"; }
  JobOutcome Run(JobContext& context) override;
  std::string ConcurrencyKey(const boost::json::object& payload) const override;

 private:
  const inference::InferenceSettings settings_;
  events::EventStore& store_;
  std::unique_ptr<inference::ChatClient> client_;
};

}  // namespace furrsight::workers
