#include "workers/jobs/batch_inference_job.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include <boost/json/parse.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/log.hpp"
#include "events/base/text.hpp"
#include "events/base/uuid.hpp"
#include "events/catalog/codec.hpp"
#include "workers/inference/pair_analysis.hpp"
#include "workers/jobs/job_payload.hpp"

namespace furrsight::workers {
namespace {

namespace json = boost::json;
namespace inference = workers::inference;
using base::ErrorCode;

inline constexpr std::string_view kEventIds = "furrsight.inference";

// Pairs to analyse, oldest first. $1 status or 'ANY'; $2 reanalyse; $3 model;
// $4 prompt version; $5 pair ids ('{}' or NULL: any); $6 limit.
inline constexpr std::string_view kSelectPairs = R"~(
SELECT id::text, coalesce(before_image_sha256, ''), coalesce(after_image_sha256, '')
FROM grooming_pairs
WHERE ($1 = 'ANY' OR status = $1)
  AND ($2::boolean OR NOT (analysis IS NOT NULL AND coalesce((analysis->>'ok')::boolean, false)
                           AND analysis->>'model' = $3 AND analysis->>'prompt_version' = $4))
  AND (cardinality($5::uuid[]) = 0 OR id = ANY($5::uuid[]))
ORDER BY created_at, id
LIMIT $6)~";

inline constexpr std::string_view kRecorded = "SELECT event_id::text FROM events WHERE event_id = ANY($1::uuid[])";

struct PairRow {
  std::string id, before_sha256, after_sha256;
  std::string event_id;  // its PairAnalyzed, derived from the job and the pair
};

struct Catalog {
  std::vector<std::string> breeds, services;
};

// The pairs, their catalogs, and which pairs this job has already recorded.
struct Selection {
  Catalog catalog;
  std::vector<PairRow> pairs;
  int already_recorded = 0;
};

std::string ArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& i : items) out += (out.size() > 1 ? "," : "") + i;
  return out + "}";
}

struct Filter {
  std::string status = "UNVERIFIED";
  bool reanalyse = false;
  std::vector<std::string> pair_ids;
  int limit = BatchInferenceJob::kDefaultLimit;
};

base::Result<Filter> ParseFilter(const json::object& p) {
  Filter f;
  f.status = StringOr(p, "status", f.status);
  static const std::set<std::string, std::less<>> kStatuses{"UNVERIFIED", "VERIFIED", "REJECTED", "ANY"};
  if (!kStatuses.contains(f.status))
    return base::Fail(ErrorCode::kInvalidArgument,
                      fmt::format("payload.status '{}' is not UNVERIFIED, VERIFIED, REJECTED or ANY", f.status));
  f.reanalyse = BoolOr(p, "reanalyse", false);
  f.pair_ids = Strings(p, "pair_ids");
  for (const auto& id : f.pair_ids)
    if (!base::IsUuid(id)) return base::Fail(ErrorCode::kInvalidArgument, fmt::format("payload.pair_ids: '{}' is not a pair id (a UUID)", id));
  const auto limit = IntOr(p, "limit", f.limit);
  if (limit < 1 || limit > BatchInferenceJob::kMaxLimit)
    return base::Fail(ErrorCode::kInvalidArgument,
                      fmt::format("payload.limit {} is outside 1..{}", limit, BatchInferenceJob::kMaxLimit));
  f.limit = static_cast<int>(limit);
  return f;
}

base::Result<Selection> Select(events::EventStore& store, const Filter& f, const std::string& job_id,
                               const std::string& model, const std::string& prompt_version) {
  auto lease = store.pool().Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    Selection s;
    for (const auto& r : tx.exec("SELECT name FROM dog_breeds ORDER BY id")) s.catalog.breeds.push_back(r[0].c_str());
    for (const auto& r : tx.exec("SELECT service_name FROM grooming_services ORDER BY id"))
      s.catalog.services.push_back(r[0].c_str());
    std::vector<std::string> event_ids;
    for (const auto& r : tx.exec_params(std::string(kSelectPairs), f.status, f.reanalyse, model, prompt_version,
                                        ArrayLiteral(f.pair_ids), f.limit)) {
      PairRow row{r[0].c_str(), r[1].c_str(), r[2].c_str(), {}};
      row.event_id = base::UuidFromName(kEventIds, job_id + "/" + row.id);
      event_ids.push_back(row.event_id);
      s.pairs.push_back(std::move(row));
    }
    std::set<std::string> recorded;
    if (!event_ids.empty())
      for (const auto& r : tx.exec_params(std::string(kRecorded), ArrayLiteral(event_ids))) recorded.insert(r[0].c_str());
    std::erase_if(s.pairs, [&](const PairRow& p) { return recorded.contains(p.event_id); });
    s.already_recorded = static_cast<int>(recorded.size());
    return s;
  } catch (const std::exception& e) {
    lease->Discard();
    return base::Fail(ErrorCode::kUnavailable,
                      fmt::format("reading the pairs to analyse (grooming_pairs; are the projections migrated?): {}",
                                  e.what()));
  }
}

// The catalog as this job grows it: registers a breed or service the first
// time any pair names it and hands back the spelling on record, so every
// PairAnalyzed names an entry the projection can find.
class CatalogRegistrar {
 public:
  CatalogRegistrar(events::EventStore& store, const JobContext& context, const Catalog& known)
      : store_(store), context_(context) {
    for (const auto& b : known.breeds) breeds_.emplace(base::Slug(b), b);
    for (const auto& s : known.services) services_.emplace(base::Slug(s), s);
  }

  // The name on record for `name`; registers it when it is new.
  base::Result<std::string> Breed(const std::string& name) { return Spelling("breed", name, breeds_); }
  base::Result<std::string> Service(const std::string& name) { return Spelling("service", name, services_); }
  int registered() const { return registered_; }

 private:
  base::Result<std::string> Spelling(std::string_view kind, const std::string& name,
                                     std::map<std::string, std::string>& known) {
    const std::string slug = base::Slug(name);
    std::lock_guard lock(mu_);  // one registration at a time: rare, and keeps the map simple
    if (auto it = known.find(slug); it != known.end()) return it->second;
    const std::string stream = fmt::format("{}-{}", kind, slug);
    events::NewEvent event;
    if (kind == "breed") {
      events::v1::BreedRegistered b;
      b.set_name(name);
      b.set_slug(slug);
      event = events::MakeEventFromMessage(stream, b, MetadataOf(context_), base::UuidFromName(kEventIds, stream));
    } else {
      events::v1::ServiceRegistered s;
      s.set_name(name);
      s.set_slug(slug);
      s.set_description("named by the vision model");
      event = events::MakeEventFromMessage(stream, s, MetadataOf(context_), base::UuidFromName(kEventIds, stream));
    }
    auto r = store_.Append(stream, events::ExpectedVersion::NoStream(), std::span(&event, 1));
    if (r) {
      ++registered_;
      return known[slug] = name;
    }
    if (r.error().code != ErrorCode::kConflict) return std::unexpected(r.error());
    // Registered by someone else meanwhile (maybe spelled differently): use theirs.
    auto recorded = store_.ReadStream(stream);
    if (!recorded) return std::unexpected(recorded.error());
    if (recorded->empty()) return base::Fail(ErrorCode::kInternal, fmt::format("{} conflicted but is empty", stream));
    auto payload = json::parse(recorded->front().payload_json);
    return known[slug] = StringOr(payload.as_object(), "name", name);
  }

  events::EventStore& store_;
  const JobContext& context_;
  std::mutex mu_;
  std::map<std::string, std::string> breeds_, services_;  // slug -> name on record; guarded by mu_
  int registered_ = 0;                                    // guarded by mu_
};

struct Tally {
  std::atomic<int> done{0}, ok{0}, failed{0}, call_failures_in_a_row{0}, not_recorded{0};
  std::atomic<std::int64_t> prompt_tokens{0}, completion_tokens{0}, latency_ms{0};
  std::mutex mu;
  std::string last_error, record_error;  // guarded by mu
};

}  // namespace

BatchInferenceJob::BatchInferenceJob(inference::InferenceSettings settings, events::EventStore& store, BlobStore& blobs)
    : settings_(std::move(settings)), store_(store), blobs_(blobs),
      client_(std::make_unique<inference::ChatClient>(settings_.client)) {}

std::string BatchInferenceJob::ConcurrencyKey(const boost::json::object&) const { return settings_.client.base_url; }

JobOutcome BatchInferenceJob::Run(JobContext& context) {
  if (!settings_.configured()) return Failed{std::string(inference::kNoEndpointError), false};
  const auto& p = context.payload();
  auto filter = ParseFilter(p);
  if (!filter) return Failed{filter.error().message, false};
  if (auto model = StringOr(p, "model"); !model.empty() && model != settings_.client.model)
    return Failed{fmt::format("payload.model '{}' is not the model this worker serves ('{}', setting inference_model)",
                              model, settings_.client.model),
                  false};
  // The prompt: the newest, or the version asked for ("pair_analysis.v1").
  int version = 0;
  if (auto asked = StringOr(p, "prompt_version"); !asked.empty()) {
    const std::string prefix = std::string(inference::kPairPromptName) + ".v";
    if (!asked.starts_with(prefix) || asked.size() == prefix.size() ||
        asked.find_first_not_of("0123456789", prefix.size()) != std::string::npos)
      return Failed{fmt::format("payload.prompt_version '{}' is not of the form {}N", asked, prefix), false};
    version = std::stoi(asked.substr(prefix.size()));
  }
  auto prompt = inference::BuiltInPrompt(inference::kPairPromptName, version);
  if (!prompt) return Failed{prompt.error().message, false};

  auto selection = Select(store_, *filter, context.job_id(), settings_.client.model, prompt->VersionTag());
  if (!selection) return Failed{selection.error().message, true};
  const auto& pairs = selection->pairs;
  const int total = static_cast<int>(pairs.size());
  context.Progress(0, {{"pairs", total}, {"already_recorded", selection->already_recorded}},
                   fmt::format("{} pairs to analyse", total));

  inference::PairAnalysisOptions options;
  options.downscale.max_side = settings_.image_max_side;
  options.breeds = selection->catalog.breeds;
  options.services = selection->catalog.services;
  const inference::PairAnalyzer analyzer(*client_, std::move(*prompt), std::move(options));
  CatalogRegistrar registrar(store_, context, selection->catalog);
  Tally tally;

  // Names made canonical (and registered when new, so the projection links
  // them), then the analysis on the pair's stream.
  auto record = [&](const PairRow& pair, inference::PairAnalysis& analysis) -> base::Result<void> {
    if (analysis.ok && analysis.answer.breed != inference::kUnknownBreed) {
      auto name = registrar.Breed(analysis.answer.breed);
      if (!name) return std::unexpected(name.error());
      analysis.answer.breed = *name;
    }
    if (analysis.ok)
      for (auto& s : analysis.answer.services) {
        auto name = registrar.Service(s);
        if (!name) return std::unexpected(name.error());
        s = *name;
      }
    const std::string stream = "pair-" + pair.id;
    auto event =
        events::MakeEventFromMessage(stream, inference::ToPairAnalyzed(analysis), MetadataOf(context), pair.event_id);
    auto appended = store_.Append(stream, events::ExpectedVersion::Any(), std::span(&event, 1));
    if (!appended) return std::unexpected(appended.error());
    return {};
  };
  auto analyse_one = [&](std::size_t i) {
    if (context.stopping() || tally.call_failures_in_a_row.load() >= kBreakerCalls) return;
    const PairRow& pair = pairs[i];
    inference::PairAnalysis analysis;
    auto before = blobs_.Get(ContentKey(pair.before_sha256));
    auto after = before ? blobs_.Get(ContentKey(pair.after_sha256)) : base::Result<std::string>{};
    if (!before || !after) {
      analysis.model = client_->model();
      analysis.prompt_version = analyzer.prompt().VersionTag();
      analysis.error = fmt::format("{} image: {}", before ? "after" : "before", (before ? after : before).error().message);
    } else {
      analysis = analyzer.Analyze({*before, *after});
    }
    if (analysis.call_failed) {
      // The client has already retried this call: the server is down or
      // refusing. A few in a row stop the batch (see the header).
      if (++tally.call_failures_in_a_row >= kBreakerCalls || context.stopping()) {
        std::lock_guard lock(tally.mu);
        tally.last_error = analysis.error;
        return;  // not recorded: the pair stays unanalysed for the next attempt
      }
    } else {
      tally.call_failures_in_a_row = 0;
    }
    if (auto recorded = record(pair, analysis); !recorded) {
      ++tally.not_recorded;
      std::lock_guard lock(tally.mu);
      tally.record_error = recorded.error().message;
      return;
    }
    ++(analysis.ok ? tally.ok : tally.failed);
    if (!analysis.ok) {
      std::lock_guard lock(tally.mu);
      tally.last_error = analysis.error;
    }
    tally.prompt_tokens += analysis.prompt_tokens;
    tally.completion_tokens += analysis.completion_tokens;
    tally.latency_ms += analysis.latency.count();
    const int done = ++tally.done;
    context.Progress(total > 0 ? 100 * done / total : 100,
                     {{"pairs", total}, {"analysed", done}, {"ok", tally.ok.load()}, {"failed", tally.failed.load()}});
  };
  inference::RunInFlight(pairs.size(), settings_.client.max_in_flight, analyse_one);

  if (context.stopping()) return Stopped{};
  const int done = tally.done.load();
  std::lock_guard lock(tally.mu);
  if (tally.not_recorded > 0)
    return Failed{fmt::format("{} analyses could not be recorded ({}); a retry analyses only those pairs",
                              tally.not_recorded.load(), tally.record_error),
                  true};
  if (done < total)
    return Failed{fmt::format("the model server failed {} calls in a row ({}); {} of {} pairs analysed, the other {} "
                              "stay unanalysed for a retry",
                              kBreakerCalls, tally.last_error, done, total, total - done),
                  true};
  Completed out;
  out.result = json::object{{"pairs", total},
                            {"analysed_ok", tally.ok.load()},
                            {"analysis_failed", tally.failed.load()},
                            {"already_recorded", selection->already_recorded},
                            {"catalog_entries_registered", registrar.registered()},
                            {"model", client_->model()},
                            {"prompt_version", analyzer.prompt().VersionTag()},
                            {"prompt_tokens", tally.prompt_tokens.load()},
                            {"completion_tokens", tally.completion_tokens.load()},
                            {"mean_latency_ms", done > 0 ? tally.latency_ms.load() / done : 0}};
  if (!tally.last_error.empty()) out.result["last_error"] = tally.last_error;
  return out;
}

}  // namespace furrsight::workers
