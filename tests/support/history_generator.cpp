#include "tests/support/history_generator.hpp"

#include <map>
#include <random>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "events/base/sha256.hpp"
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

  void Add(const std::string& stream, const std::string& type, const std::string& payload,
           const std::string& actor = "user:generator") {
    events::NewEvent e;
    e.event_id = base::UuidFromName(fmt::format("history-{}", options_.seed), std::to_string(count_));
    e.stream_id = stream;
    e.type = type;
    e.payload_json = payload;
    e.metadata = {actor, "gen-" + std::to_string(count_ / options_.batch), e.event_id, "test"};
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
    case 2:
      w.Add(stream, "JobChildrenPlanned", R"({"child_job_ids":[],"total":4})");
      w.Add(stream, "JobChildFinished",
            R"({"child_job_id":"3f2a9c4e-1b7d-4e8a-9c0f-5d6e7a8b9c0d","status":"COMPLETED","job_type":"NOOP"})");
      [[fallthrough]];
    default:
      w.Add(stream, "JobCompleted", fmt::format(R"({{"attempt":{},"result":{{"pairs":{}}}}})", attempts, w.Pick(20)));
  }
}

// An API key issued by an admin, every second one revoked later, as
// `furrsight apikeys` writes them (docs/auth.md). Deterministic from (seed, n)
// and without drawing from the writer's random stream, so the pair and job
// lives stay what they were.
void ApiKeyLife(Writer& w, std::uint32_t seed, int n) {
  const std::string key_id = base::Sha256Hex(fmt::format("history-apikey-{}-{}", seed, n)).substr(0, 16);
  const std::string stream = "apikey-" + key_id;
  const char* roles[] = {R"(["researcher"])", R"(["researcher","auditor"])", R"(["operator","admin"])"};
  w.Add(stream, "ApiKeyIssued",
        fmt::format(R"({{"key_id":"{0}","prefix":"fs_{0}_","key_hash":"{1}","name":"script {2}","roles":{3},)"
                    R"("actor":"cli:admin"}})",
                    key_id, base::Sha256Hex(key_id), n, roles[n % 3]));
  if (n % 2 == 1)
    w.Add(stream, "ApiKeyRevoked", fmt::format(R"({{"key_id":"{}","actor":"cli:admin","reason":"rotated"}})", key_id));
}

// The PixCrawler lives (users, projects, crawl jobs with chunks and images,
// validation and export jobs), with a random stream and ids of their own so
// that adding them leaves the FurrSight lives' content unchanged. Users act as
// "user:<uuid>"; workers and the scheduler as "worker:..."/"system:...". Some
// events refer to what the read model cannot resolve (an unknown project,
// crawl job or user), on purpose.
class PixCrawlerLives {
 public:
  PixCrawlerLives(Writer& w, std::uint32_t seed) : w_(w), rng_(seed ^ 0x5eedc0deu), seed_(seed) {}

  void Step() {
    switch (Pick(10)) {
      case 0: User(); break;
      case 1: Project(); break;
      case 2: case 3: case 4: case 5: Crawl(); break;
      case 6: case 7: Validation(); break;
      default: Export(); break;
    }
  }

 private:
  struct Event {
    std::string stream, type, payload, actor;
  };

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string Id() { return base::UuidFromName(fmt::format("history-px-{}", seed_), std::to_string(ids_++)); }
  std::string Sha() { return base::Sha256Hex(fmt::format("history-px-image-{}-{}", seed_, ids_++)); }
  template <class T>
  const T& Any(const std::vector<T>& v) { return v[Pick(static_cast<int>(v.size()))]; }

  void User() {
    std::string id;
    if (!unseen_.empty() && Pick(3) == 0) {  // a placeholder profile gets filled in
      id = unseen_.back();
      unseen_.pop_back();
      users_.push_back(id);
    } else if (!users_.empty() && Pick(4) == 0) {  // seen again, maybe with an email another user had
      id = Any(users_);
      if (Pick(3) == 0) emails_[id] = emails_[Any(users_)];
    } else {
      id = Id();
      users_.push_back(id);
    }
    if (emails_[id].empty() || Pick(5) == 0) emails_[id] = fmt::format("groomer{}@furrsight.test", ids_++);
    const char* roles[] = {"admin", "curator", "viewer", ""};
    w_.Add("user-" + id, "UserSeen",
           fmt::format(R"({{"subject":"auth0|{}","email":"{}","full_name":"Groomer {}","avatar_url":"https://avatars.test/{}.png",)"
                       R"("role":"{}","issuer":"https://auth.test/"}})",
                       id.substr(0, 8), emails_[id], Pick(1000), id.substr(0, 8), roles[Pick(4)]),
           "user:" + id);
    if (Pick(3) == 0) {
      const std::string uuid = Id();
      if (uuid[0] < '8') {  // as released first: one role, no key id or prefix in the payload
        const std::string key = "apikey-" + uuid;
        w_.Add(key, "ApiKeyIssued",
               fmt::format(R"({{"name":"nightly","role":"viewer","key_hash":"{}","user_id":"{}"}})", Sha(), id), "user:" + id);
        if (Pick(2) == 0) w_.Add(key, "ApiKeyRevoked", R"({"reason":"rotated"})", "user:" + id);
      } else {  // as `furrsight apikeys issue/revoke` writes them (orchestrator/api/auth/api_key_service.cpp)
        std::string key_id = uuid.substr(0, 8) + uuid.substr(9, 4) + uuid.substr(14, 4);
        const std::string key = "apikey-" + key_id;
        w_.Add(key, "ApiKeyIssued",
               fmt::format(R"({{"key_id":"{0}","prefix":"fs_{0}_","key_hash":"{1}","name":"export bot","roles":["researcher","auditor"],)"
                           R"("user_id":"{2}","actor":"user:{2}"}})",
                           key_id, Sha(), id),
               "user:" + id);
        if (Pick(2) == 0)
          w_.Add(key, "ApiKeyRevoked", fmt::format(R"({{"key_id":"{}","actor":"user:{}","reason":"leaked"}})", key_id, id),
                 "user:" + id);
      }
    }
  }

  void Project() {
    std::string owner;
    if (!users_.empty() && Pick(5) != 0) {
      owner = Any(users_);
    } else {  // an owner the read model has not seen: a placeholder profile
      owner = Id();
      unseen_.push_back(owner);
    }
    const std::string key = Id();
    const std::string actor = "user:" + owner;
    w_.Add("project-" + key, "ProjectCreated",
           fmt::format(R"({{"name":"Project {}",{}"owner_user_id":"{}"}})", Pick(10000),
                       Pick(2) == 0 ? R"("description":"small breeds",)" : "", owner),
           actor);
    if (Pick(4) == 0) w_.Add("project-" + key, "ProjectRenamed", fmt::format(R"({{"name":"Renamed {}"}})", Pick(100)), actor);
    if (Pick(8) == 0) w_.Add("project-" + key, "ProjectArchived", "{}", actor);
    projects_.push_back({key, owner});
  }

  // A chunk's events, in order; Crawl() interleaves the chunks.
  std::vector<Event> Chunk(const std::string& parent, const std::string& project, int index) {
    std::vector<Event> out;
    const std::string id = Id();
    const std::string stream = "job-" + id;
    const std::string worker = fmt::format("worker:crawl-{}", Pick(3));
    out.push_back({stream, "JobRequested",
                   fmt::format(R"({{"job_type":"SCRAPE_URL","payload":{{"keyword":"poodle {}"}},"max_attempts":2,)"
                               R"("parent_job_id":"{}","project_id":"{}","requested_by":"system:scheduler"}})",
                               index, parent, project),
                   "system:scheduler"});
    out.push_back({stream, "JobStarted", R"({"worker":"w1","attempt":1,"lease_ms":"30000"})", worker});
    const int found = 5 + Pick(20), downloaded = found - Pick(5), valid = downloaded - Pick(3);
    out.push_back({stream, "JobProgressed",
                   fmt::format(R"({{"attempt":1,"progress":50,"counters":{{"images_found":"{}","images_downloaded":"{}"}}}})",
                               found, downloaded / 2),
                   worker});
    for (int i = Pick(3); i > 0; --i) {
      std::string sha = (!images_.empty() && Pick(8) == 0) ? Any(images_) : Sha();
      images_.push_back(sha);
      const char* formats[] = {"jpeg", "png", "webp"};
      std::string url = Pick(6) == 0 ? fmt::format("http://img.test/{}/", Pick(100))
                                     : fmt::format("http://img.test/{}/dog-{}.jpg?w={}", Pick(100), Pick(1000), Pick(900));
      std::string crawl_job = Pick(3) == 0 ? parent : (Pick(20) == 0 ? Id() : id);
      out.push_back({"image-" + sha, "ImageDownloaded",
                     fmt::format(R"({{"url":"{}","page_url":"http://groomers.test/g","width":{},"height":{},"file_size":"{}",)"
                                 R"("format":"{}","storage_key":"images/{}","sha256":"{}","crawl_job_id":"{}"}})",
                                 url, 200 + Pick(1000), 200 + Pick(1000), 10000 + Pick(100000), formats[Pick(3)], sha, sha,
                                 crawl_job),
                     worker});
      if (Pick(4) == 0) {
        // The page the image came from, and a candidate pair it suggested.
        const std::string page = base::Sha256Hex("page-" + sha).substr(0, 32);
        out.push_back({"page-" + page, "PageCaptured",
                       fmt::format(R"({{"url":"http://groomers.test/g/{0}","final_url":"http://groomers.test/g/{0}",)"
                                   R"("status":200,"depth":1,"links":["http://groomers.test/"],)"
                                   R"("images":[{{"url":"{1}","alt":"before grooming","position":0}}]}})",
                                   page, url),
                       worker});
        out.push_back({"page-" + page, "PairCandidateFound",
                       fmt::format(R"({{"page_url":"http://groomers.test/g/{}","before_image":"{}","after_image":"{}",)"
                                   R"("cue":"alt_text","score":0.9}})",
                                   page, url, url),
                       worker});
      }
      switch (Pick(3)) {
        case 0: out.push_back({"image-" + sha, "ImageValidated", R"({"rules":["min_size"],"width":400})", "worker:validate"}); break;
        case 1: out.push_back({"image-" + sha, "ImageRejected", R"({"rule":"blur","value":12.5,"threshold":100})", "worker:validate"}); break;
        default: break;
      }
    }
    const std::string counters =
        fmt::format(R"("images_found":"{}","images_downloaded":"{}","images_valid":"{}")", found, downloaded, valid);
    switch (Pick(10)) {
      case 6:
        out.push_back({stream, "JobFailed", R"({"attempt":1,"error":"http 503","retryable":true})", worker});
        out.push_back({stream, "JobRetryScheduled", R"({"attempt":1,"next_attempt":2,"not_before_us":"1790000001000000"})",
                       "system:scheduler"});
        out.push_back({stream, "JobStarted", R"({"worker":"w2","attempt":2})", worker});
        [[fallthrough]];
      default: out.push_back({stream, "JobCompleted", fmt::format(R"({{"attempt":1,"result":{{{}}}}})", counters), worker}); break;
      case 7: out.push_back({stream, "JobFailed", R"({"attempt":1,"error":"blocked","final":true})", worker}); break;
      case 8:
        out.push_back({stream, "JobCancelRequested", R"({"reason":"enough"})", "system:scheduler"});
        out.push_back({stream, "JobCancelled", R"({"reason":"enough"})", worker});
        break;
      case 9:  // still running, or its lease lapsed
        if (Pick(2) == 0) out.push_back({stream, "JobTimedOut", R"({"attempt":1,"kind":"lease"})", "system:scheduler"});
        break;
    }
    return out;
  }

  void Crawl() {
    if (projects_.empty()) Project();
    const auto& [project, owner] = Any(projects_);
    const std::string id = Id();
    const std::string stream = "job-" + id;
    const std::string actor = "user:" + owner;
    const std::string project_id = Pick(12) == 0 ? Id() : project;  // now and then a project never created
    const std::string input =
        Pick(10) == 0 ? R"("queries":["dog groomer before after"])"
                      : fmt::format(R"("name":"Crawl {}","keywords":["poodle","groom {}"],"max_images":{})", Pick(1000),
                                    Pick(10), 100 * (1 + Pick(5)));
    w_.Add(stream, "JobRequested",
           fmt::format(R"({{"job_type":"SCRAPE_URL","payload":{{{}}},"max_attempts":3,"project_id":"{}","requested_by":"{}"}})",
                       input, project_id, actor),
           actor);
    w_.Add(stream, "JobStarted", R"({"worker":"w1","attempt":1,"lease_ms":"30000"})", "worker:crawl-0");
    const int chunks = Pick(5);
    std::vector<std::vector<Event>> lives;
    for (int c = 0; c < chunks; ++c) lives.push_back(Chunk(id, project_id, c));
    std::string child_ids;
    for (const auto& l : lives) child_ids += (child_ids.empty() ? "\"" : ",\"") + l[0].stream.substr(4) + "\"";
    if (chunks > 0)
      w_.Add(stream, "JobChildrenPlanned",
             fmt::format(R"({{"child_job_ids":[{}],"total":{}}})", child_ids, chunks + (Pick(4) == 0 ? 1 : 0)),
             "worker:crawl-0");
    // The chunks run at the same time: their events interleave, each chunk's in order.
    std::vector<size_t> next(lives.size(), 0);
    size_t left = 0;
    for (const auto& l : lives) left += l.size();
    for (; left > 0; --left) {
      size_t pick = Pick(static_cast<int>(lives.size()));
      while (next[pick] >= lives[pick].size()) pick = (pick + 1) % lives.size();
      const auto& e = lives[pick][next[pick]++];
      w_.Add(e.stream, e.type, e.payload, e.actor);
    }
    if (Pick(3) == 0)
      w_.Add(stream, "JobProgressed", fmt::format(R"({{"attempt":1,"progress":{},"counters":{{"images_found":"{}"}}}})",
                                                  Pick(100), Pick(200)),
             "worker:crawl-0");
    switch (Pick(6)) {
      case 4: w_.Add(stream, "JobFailed", R"({"attempt":1,"error":"too many failed chunks","final":true})", "worker:crawl-0"); break;
      case 5:
        w_.Add(stream, "JobCancelRequested", R"({"reason":"wrong keywords"})", actor);
        w_.Add(stream, "JobCancelled", R"({"reason":"wrong keywords"})", "worker:crawl-0");
        break;
      case 3: break;  // still running
      default: w_.Add(stream, "JobCompleted", R"({"attempt":1,"result":{"images_valid":"1"}})", "worker:crawl-0"); break;
    }
    crawls_.push_back(id);
  }

  // A VALIDATE_IMAGES or EXPORT_DATASET job's life after its JobRequested.
  void Run(const std::string& stream, const std::string& counters, const std::string& result, const std::string& worker) {
    w_.Add(stream, "JobStarted", R"({"worker":"w3","attempt":1})", worker);
    w_.Add(stream, "JobProgressed", fmt::format(R"({{"attempt":1,"progress":{},"counters":{{{}}}}})", Pick(100), counters),
           worker);
    switch (Pick(5)) {
      case 0: w_.Add(stream, "JobFailed", R"({"attempt":1,"error":"storage full","final":true})", worker); break;
      case 1:
        w_.Add(stream, "JobTimedOut", R"({"attempt":1,"kind":"start_to_close"})", "system:scheduler");
        w_.Add(stream, "JobRetryScheduled", R"({"attempt":1,"next_attempt":2,"not_before_us":"1790000001000000"})",
               "system:scheduler");
        break;
      default: w_.Add(stream, "JobCompleted", fmt::format(R"({{"attempt":1,"result":{{{}}}}})", result), worker); break;
    }
  }

  void Validation() {
    if (crawls_.empty()) Crawl();
    const std::string crawl = Pick(10) == 0 ? Id() : Any(crawls_);
    const std::string user = users_.empty() ? Id() : Any(users_);
    const std::string stream = "job-" + Id();
    w_.Add(stream, "JobRequested",
           fmt::format(R"({{"job_type":"VALIDATE_IMAGES","payload":{{"crawl_job_id":"{}"{}{}}},"requested_by":"user:{}"}})",
                       crawl, Pick(2) == 0 ? R"(,"name":"Check sizes")" : "",
                       Pick(3) == 0 ? "" : R"(,"validation_rules":{"min_width":100,"min_height":100})", user),
           "user:" + user);
    const int total = Pick(50), valid = total - Pick(10);
    Run(stream, fmt::format(R"("images_total":"{}","images_valid":"{}")", total, valid / 2),
        fmt::format(R"("images_total":{},"images_valid":{},"images_invalid":{})", total, valid, total - valid),
        "worker:validate");
  }

  void Export() {
    if (crawls_.empty()) Crawl();
    const std::string crawl = Pick(10) == 0 ? Id() : Any(crawls_);
    std::string requested_by;
    switch (Pick(4)) {
      case 0: requested_by = "apikey:" + Id(); break;       // the project owner becomes user_id
      case 1: requested_by = "user:" + Id(); unseen_.push_back(requested_by.substr(5)); break;  // a placeholder
      default: requested_by = users_.empty() ? "system:cli" : "user:" + Any(users_); break;
    }
    const char* formats[] = {"", "zip", "tar", "csv"};
    const std::string format = formats[Pick(4)];
    const std::string stream = "job-" + Id();
    w_.Add(stream, "JobRequested",
           fmt::format(R"({{"job_type":"EXPORT_DATASET","payload":{{"crawl_job_id":"{}"{}{}}},"requested_by":"{}"}})",
                       crawl, format.empty() ? "" : R"(,"format":")" + format + "\"",
                       Pick(2) == 0 ? R"(,"export_options":{"include_metadata":true})" : "", requested_by),
           requested_by);
    const int total = Pick(400);
    Run(stream, fmt::format(R"("images_total":"{}","images_exported":"{}")", total, total / 3),
        fmt::format(R"("images_exported":{},"file_size":"{}","download_url":"https://exports.test/{}.zip",)"
                    R"("expires_at_us":"{}")",
                    total, 1000 * total, stream.substr(4, 8), 1'790'000'000'000'000LL + Pick(1000)),
        "worker:export");
  }

  Writer& w_;
  std::mt19937 rng_;
  std::uint32_t seed_;
  std::int64_t ids_ = 0;
  std::vector<std::string> users_;   // seen (UserSeen appended)
  std::vector<std::string> unseen_;  // referenced before any UserSeen
  std::map<std::string, std::string> emails_;
  std::vector<std::pair<std::string, std::string>> projects_;  // key, owner
  std::vector<std::string> crawls_;
  std::vector<std::string> images_;
};

}  // namespace

std::int64_t GenerateHistory(events::EventStore& store, const HistoryOptions& options) {
  Writer w(store, options);
  PixCrawlerLives pixcrawler(w, options.seed);
  RegisterCatalog(w);
  // What a GENERATE_QUERIES attempt records beside its job, in the history
  // that covers every catalog type (no random draw: the lives below stay as
  // they were; the FurrSight-only histories hold no event outside its categories).
  if (options.pixcrawler) {
    w.Add("queries-" + base::UuidFromName("furrsight.history", "queries"), "QueriesGenerated",
          R"({"topic":"poodle grooming","queries":["poodle before after","poodle teddy bear cut"],"requested":2,)"
          R"("model":"generator","prompt_version":"generate_queries.v1","ok":true})");
  }
  constexpr int kStepsPerApiKey = 40;
  for (int step = 1; w.count() < options.events; ++step) {
    if (w.Pick(3) == 0) JobLife(w);
    else PairLife(w);
    if (options.pixcrawler) pixcrawler.Step();
    if (step % kStepsPerApiKey == 0) ApiKeyLife(w, options.seed, step / kStepsPerApiKey);
  }
  w.Flush();
  return w.count();
}

}  // namespace furrsight::testing
