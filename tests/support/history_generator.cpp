#include "tests/support/history_generator.hpp"

#include <random>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "events/base/uuid.hpp"

namespace furrsight::testing {
namespace {

constexpr const char* kBreeds[] = {"Poodle", "Shih Tzu", "Golden Retriever", "Bichon Frise", "Schnauzer",
                                   "Yorkshire Terrier", "Cocker Spaniel", "Maltese"};
constexpr const char* kServices[] = {"Full groom", "Lion cut", "Summer shave", "De-matting", "Nail trim",
                                     "Teddy bear cut"};

std::string Slug(std::string_view name) {
  std::string out;
  for (char c : name) out += c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Writer {
 public:
  Writer(events::EventStore& store, const HistoryOptions& o) : store_(store), options_(o), rng_(o.seed) {}

  void Add(const std::string& stream, const std::string& type, const std::string& payload) {
    events::NewEvent e;
    e.event_id = base::UuidFromName(fmt::format("history-{}", options_.seed), std::to_string(count_));
    e.stream_id = stream;
    e.type = type;
    e.payload_json = payload;
    e.metadata = {"user:generator", "gen-" + std::to_string(count_ / options_.batch), e.event_id, "test"};
    pending_.push_back(std::move(e));
    ++count_;
    if (static_cast<int>(pending_.size()) >= options_.batch) Flush();
  }

  void Flush() {
    if (pending_.empty()) return;
    auto r = store_.Append({}, pending_);
    if (!r) throw std::runtime_error("history append failed: " + r.error().message);
    pending_.clear();
  }

  std::int64_t count() const { return count_; }
  std::mt19937& rng() { return rng_; }
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string Id() { return base::UuidFromName(fmt::format("history-id-{}", options_.seed), std::to_string(ids_++)); }

 private:
  events::EventStore& store_;
  HistoryOptions options_;
  std::mt19937 rng_;
  std::vector<events::NewEvent> pending_;
  std::int64_t count_ = 0;
  std::int64_t ids_ = 0;
};

void RegisterCatalog(Writer& w) {
  for (const char* b : kBreeds)
    w.Add("breed-" + Slug(b), "BreedRegistered", fmt::format(R"({{"name":"{}","slug":"{}"}})", b, Slug(b)));
  for (const char* s : kServices)
    w.Add("service-" + Slug(s), "ServiceRegistered",
          fmt::format(R"({{"name":"{}","slug":"{}","description":"{} for the dataset"}})", s, Slug(s), s));
}

void PairLife(Writer& w) {
  const std::string id = w.Id();
  const std::string stream = "pair-" + id;
  w.Add(stream, "PairProposed",
        fmt::format(R"({{"before_image_sha256":"{0}b","after_image_sha256":"{0}a","before_image_url":"blob://{0}b",)"
                    R"("after_image_url":"blob://{0}a","source_url":"http://groomers.test/p/{1}","cue":"alt_text",)"
                    R"("similarity":0.{2},"scores":{{"orb":0.{2}}}}})",
                    id.substr(0, 8), w.Pick(1000), 50 + w.Pick(49)));
  if (w.Pick(3) > 0) {
    const char* breed = kBreeds[w.Pick(8)];
    w.Add(stream, "PairAnalyzed",
          fmt::format(R"({{"breed":"{}","services":["{}","{}"],"is_grooming_pair":true,"same_dog":true,)"
                      R"("confidence":0.{},"model":"qwen2.5-vl","prompt_version":"v1","ok":true,"raw_answer":"{{}}"}})",
                      breed, kServices[w.Pick(6)], kServices[w.Pick(6)], 60 + w.Pick(39)));
  }
  if (w.Pick(4) == 0) w.Add(stream, "PairNoteAdded", fmt::format(R"({{"note":"checked by hand #{}"}})", w.Pick(100)));
  if (w.Pick(5) == 0) {
    const char* breed = kBreeds[w.Pick(8)];
    w.Add(stream, "PairBreedSet", fmt::format(R"({{"breed":"{}","breed_slug":"{}"}})", breed, Slug(breed)));
  }
  if (w.Pick(5) == 0) {
    const char* s = kServices[w.Pick(6)];
    w.Add(stream, "PairServicesSet", fmt::format(R"({{"services":["{}"],"service_slugs":["{}"]}})", s, Slug(s)));
  }
  switch (w.Pick(4)) {
    case 0: w.Add(stream, "PairVerified", R"({})"); break;
    case 1: w.Add(stream, "PairRejected", R"({"reason":"different dogs"})"); break;
    default: break;
  }
}

void JobLife(Writer& w) {
  const std::string id = w.Id();
  const std::string stream = "job-" + id;
  const char* types[] = {"SCRAPE_URL", "PROCESS_IMAGE_PAIR", "BATCH_INFERENCE", "VALIDATE_IMAGES"};
  w.Add(stream, "JobRequested",
        fmt::format(R"({{"job_type":"{}","payload":{{"url":"http://groomers.test/{}"}},"priority":{},"max_attempts":3,)"
                    R"("lease_ms":"30000","requested_by":"user:generator"}})",
                    types[w.Pick(4)], w.Pick(1000), w.Pick(3)));
  const int attempts = 1 + w.Pick(2);
  for (int a = 1; a <= attempts; ++a) {
    w.Add(stream, "JobStarted",
          fmt::format(R"({{"worker":"w{}","attempt":{},"lease_expires_at_us":"{}","lease_ms":"30000"}})", w.Pick(4), a,
                      1'790'000'000'000'000LL + a));
    w.Add(stream, "JobLeaseRenewed", fmt::format(R"({{"worker":"w1","attempt":{},"lease_expires_at_us":"1790000000500000"}})", a));
    w.Add(stream, "JobProgressed", fmt::format(R"({{"attempt":{},"progress":{},"counters":{{"pages":"{}"}}}})", a,
                                               w.Pick(100), w.Pick(50)));
    if (a < attempts) {
      if (w.Pick(2) == 0) {
        w.Add(stream, "JobFailed", fmt::format(R"({{"attempt":{},"error":"http 503","retryable":true}})", a));
      } else {
        w.Add(stream, "JobTimedOut", fmt::format(R"({{"attempt":{},"kind":"lease"}})", a));
      }
      w.Add(stream, "JobRetryScheduled",
            fmt::format(R"({{"attempt":{},"next_attempt":{},"not_before_us":"1790000001000000","backoff_ms":"1000"}})",
                        a, a + 1));
    }
  }
  switch (w.Pick(5)) {
    case 0: w.Add(stream, "JobFailed", fmt::format(R"({{"attempt":{},"error":"gave up","final":true}})", attempts)); break;
    case 1:
      w.Add(stream, "JobCancelRequested", R"({"reason":"not needed"})");
      w.Add(stream, "JobCancelled", R"({"reason":"not needed"})");
      break;
    case 2: w.Add(stream, "JobChildrenPlanned", R"({"child_job_ids":[],"total":4})"); [[fallthrough]];
    default:
      w.Add(stream, "JobCompleted", fmt::format(R"({{"attempt":{},"result":{{"pairs":{}}}}})", attempts, w.Pick(20)));
  }
}

}  // namespace

std::int64_t GenerateHistory(events::EventStore& store, const HistoryOptions& options) {
  Writer w(store, options);
  RegisterCatalog(w);
  while (w.count() < options.events) {
    if (w.Pick(3) == 0) JobLife(w);
    else PairLife(w);
  }
  w.Flush();
  return w.count();
}

}  // namespace furrsight::testing
