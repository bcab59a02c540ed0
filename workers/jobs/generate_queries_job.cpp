#include "workers/jobs/generate_queries_job.hpp"

#include <fmt/format.h>

#include "events/base/uuid.hpp"
#include "events/catalog/codec.hpp"
#include "workers/inference/query_generation.hpp"
#include "workers/jobs/job_payload.hpp"

namespace furrsight::workers {
namespace {

namespace json = boost::json;
namespace inference = workers::inference;

inline constexpr std::string_view kEventIds = "furrsight.queries";

events::v1::QueriesGenerated ToQueriesGenerated(const inference::QueryGeneration& g, const std::string& topic,
                                                int requested) {
  events::v1::QueriesGenerated e;
  e.set_topic(topic);
  for (const auto& q : g.queries) e.add_queries(q);
  e.set_requested(requested);
  e.set_model(g.model);
  e.set_prompt_version(g.prompt_version);
  e.set_latency_ms(g.latency.count());
  e.set_prompt_tokens(g.prompt_tokens);
  e.set_completion_tokens(g.completion_tokens);
  e.set_raw_answer(g.raw_answer);
  e.set_ok(g.ok);
  e.set_error(g.error);
  return e;
}

}  // namespace

GenerateQueriesJob::GenerateQueriesJob(inference::InferenceSettings settings, events::EventStore& store)
    : settings_(std::move(settings)), store_(store),
      client_(std::make_unique<inference::ChatClient>(settings_.client)) {}

std::string GenerateQueriesJob::ConcurrencyKey(const boost::json::object&) const { return settings_.client.base_url; }

JobOutcome GenerateQueriesJob::Run(JobContext& context) {
  if (!settings_.configured()) return Failed{std::string(inference::kNoEndpointError), false};
  const auto& p = context.payload();
  const std::string topic = StringOr(p, "topic");
  const auto count = IntOr(p, "count", kDefaultCount);
  if (count < 1 || count > inference::kMaxQueryCount)
    return Failed{fmt::format("payload.count {} is outside 1..{}", count, inference::kMaxQueryCount), false};
  auto prompt = inference::BuiltInPrompt(inference::kQueryPromptName);
  if (!prompt) return Failed{prompt.error().message, false};
  const inference::QueryGenerator generator(*client_, std::move(*prompt));
  context.Progress(10, {}, "asking the model");
  auto generated = generator.Generate(topic, static_cast<int>(count));
  if (context.stopping()) return Stopped{};
  if (generated.model_calls == 0) return Failed{generated.error, false};  // the topic is empty
  if (generated.call_failed) return Failed{generated.error, true};        // nothing answered: the job's error says why

  // With the queries, the crawl they start (before the event, which names it).
  std::string scrape_job_id;
  if (generated.ok && BoolOr(p, "start_scrape", false)) {
    orchestrator::jobs::SubmitOptions scrape;
    scrape.job_type = "SCRAPE_URL";
    json::array queries;
    for (const auto& q : generated.queries) queries.emplace_back(q);
    scrape.payload["queries"] = std::move(queries);
    for (const char* key : {"max_depth", "max_pages", "max_images"})
      if (const auto* v = p.if_contains(key)) scrape.payload[key] = *v;
    scrape.idempotency_key = fmt::format("queries/{}/SCRAPE_URL", context.job_id());
    orchestrator::jobs::JobService jobs(store_);
    auto submitted = jobs.Submit(scrape, context.command_context());
    if (!submitted) return Failed{"starting the crawl: " + submitted.error().message, true};
    scrape_job_id = submitted->job_id;
  }
  auto payload = ToQueriesGenerated(generated, topic, static_cast<int>(count));
  payload.set_scrape_job_id(scrape_job_id);
  const std::string stream = "queries-" + context.job_id();
  auto event = events::MakeEventFromMessage(
      stream, payload, MetadataOf(context),
      base::UuidFromName(kEventIds, fmt::format("{}/{}", context.job_id(), context.attempt())));
  if (auto r = store_.Append(stream, events::ExpectedVersion::Any(), std::span(&event, 1)); !r)
    return Failed{"recording the queries: " + r.error().message, true};
  if (!generated.ok) return Failed{generated.error, true};  // a retry asks again (temperature > 0)

  Completed out;
  json::array queries;
  for (const auto& q : generated.queries) queries.emplace_back(q);
  out.result = json::object{{"topic", topic},
                            {"queries", std::move(queries)},
                            {"model", generated.model},
                            {"prompt_version", generated.prompt_version},
                            {"prompt_tokens", generated.prompt_tokens},
                            {"completion_tokens", generated.completion_tokens},
                            {"latency_ms", generated.latency.count()}};
  if (!scrape_job_id.empty()) out.result["scrape_job_id"] = scrape_job_id;
  return out;
}

}  // namespace furrsight::workers
