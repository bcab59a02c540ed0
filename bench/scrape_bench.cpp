// scrape_bench: the crawler's download throughput, the pipeline's memory, and
// validation speed. Baselines in the same run:
//  - download: `curl --parallel --parallel-max 64` fetching the same image list
//    from the same local server (furrsight-sample-site --flat-images N, in its
//    own process); FurrSight's crawler (CurlFetcher + Crawler, 64 transfers in
//    flight, SSRF guard and robots.txt on) fetches the same N images from the
//    index page; ratio = crawler images/s over curl images/s.
//  - memory: a real furrsight-worker running SCRAPE_URL over the same site
//    (blobs to a temporary directory, events to the harness's PostgreSQL); its
//    peak resident set (VmHWM) is read from /proc while it runs.
//  - validation: vision::ValidateImage (header, decode, quality, pHash) on one
//    core, against SHA-256 of the same bytes alone.
// Settings: FURRSIGHT_BENCH_IMAGES (default 10000).
#include <signal.h>

#include <fstream>
#include <thread>

#include <pqxx/pqxx>

#include "bench/bench_support.hpp"
#include "events/base/sha256.hpp"
#include "events/redis/redis_notifier.hpp"
#include "orchestrator/embedded/child_process.hpp"
#include "orchestrator/jobs/job_service.hpp"
#include "tests/support/test_database.hpp"
#include "workers/scrape/crawler.hpp"
#include "workers/scrape/curl_fetcher.hpp"
#include "workers/vision/image_validator.hpp"

namespace furrsight::bench {
namespace {

using namespace std::chrono_literals;
namespace jobs = orchestrator::jobs;

struct Site {
  orchestrator::ChildProcess process;
  std::string base_url;
};

Site StartSite(long images) {
  const auto out = std::filesystem::temp_directory_path() / fmt::format("scrape_bench_site_{}.log", getpid());
  auto child = orchestrator::ChildProcess::Spawn(
      {.argv = {std::string(FURRSIGHT_BIN_DIR) + "/furrsight-sample-site", "--port", "0", "--flat-images",
                std::to_string(images)},
       .output_file = out});
  if (!child) throw std::runtime_error(child.error().message);
  for (int i = 0; i < 1200; ++i) {  // generating the images takes a while
    std::ifstream in(out);
    std::string line;
    while (std::getline(in, line))
      if (auto at = line.find("http://127.0.0.1:"); at != std::string::npos)
        return {std::move(*child), line.substr(at, line.find_first_of(" \n", at) - at)};
    std::this_thread::sleep_for(100ms);
  }
  throw std::runtime_error("the sample site did not start within 2 minutes");
}

// Image URLs on the flat index page.
std::vector<std::string> ImageUrls(const std::string& base, const std::string& html) {
  std::vector<std::string> out;
  for (size_t at = html.find("src=\""); at != std::string::npos; at = html.find("src=\"", at + 5)) {
    std::string src = html.substr(at + 5, html.find('"', at + 5) - at - 5);
    out.push_back(src.starts_with("http") ? src : base + src);
  }
  return out;
}

std::string Fetch(const std::string& url) {
  const auto file = std::filesystem::temp_directory_path() / fmt::format("scrape_bench_{}.html", getpid());
  const std::string cmd = fmt::format("curl -sf -o '{}' '{}'", file.string(), url);
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("curl could not fetch " + url);
  std::ifstream in(file);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

struct Throughput {
  double seconds = 0;
  long images = 0;
  double bytes = 0;
};

Throughput CurlParallel(const std::vector<std::string>& urls) {
  const auto list = std::filesystem::temp_directory_path() / fmt::format("scrape_bench_{}.curl", getpid());
  {
    std::ofstream out(list);
    for (const auto& u : urls) out << "url = \"" << u << "\"\noutput = \"/dev/null\"\n";
  }
  const auto start = Clock::now();
  const std::string cmd = fmt::format("curl -s --parallel --parallel-max 64 -K '{}' -w '%{{size_download}}\\n' > '{}.sizes'",
                                      list.string(), list.string());
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("curl --parallel failed");
  Throughput t{SecondsSince(start), static_cast<long>(urls.size()), 0};
  std::ifstream sizes(list.string() + ".sizes");
  for (double n; sizes >> n;) t.bytes += n;
  return t;
}

class CountingSink final : public workers::CrawlSink {
 public:
  base::Result<void> OnPageCaptured(const workers::CapturedPage&) override { return {}; }
  base::Result<void> OnImageDownloaded(const workers::DownloadedImage& image) override {
    bytes += static_cast<double>(image.bytes.size());
    if (kept.size() < 2000) kept.emplace_back(image.bytes);
    return {};
  }
  double bytes = 0;
  std::vector<std::string> kept;  // for the validation figures
};

workers::FetcherOptions FastFetcher() {
  workers::FetcherOptions f;
  f.max_in_flight = 64;
  f.max_per_host = 64;
  f.min_host_delay = 0ms;
  f.guard = *workers::AddressGuard::FromAllowlist("loopback");
  return f;
}

// A real worker scraping the site: its peak memory and images/s.
void WorkerScrape(const std::string& base, long images) {
  auto db = testing::TestDatabase::Create("scrape_bench");
  const auto blobs = std::filesystem::temp_directory_path() / fmt::format("scrape_bench_blobs_{}", getpid());
  events::PgPool pool(db->ServiceUrl(), 2, events::EventStore::PrepareStatements);
  events::RedisNotifier notifier(*events::ParseRedisUrl(db->RedisUrl()), db->ChannelPrefix());
  events::EventStore store(pool, &notifier);
  jobs::JobService service(store);
  auto worker = orchestrator::ChildProcess::Spawn(
      {.argv = {std::string(FURRSIGHT_BIN_DIR) + "/furrsight-worker", "--kinds", "scrape", "--slots", "1",
                "--database-url", db->ServiceUrl(), "--redis-url", db->RedisUrl(), "--redis-channel-prefix",
                db->ChannelPrefix(), "--log-level", "warn", "--blob-dir", blobs.string(), "--scrape-address-allowlist",
                "loopback", "--scrape-min-host-delay-ms", "0", "--scrape-max-per-host", "64", "--scrape-max-in-flight",
                "64", "--job-limits", ""}});
  if (!worker) throw std::runtime_error(worker.error().message);
  std::string id = base::NewUuid();
  jobs::SubmitOptions o{.job_type = "SCRAPE_URL",
                        .payload = {{"urls", boost::json::array{base + "/"}}, {"max_depth", 1}, {"max_images", images + 10}}};
  const auto start = Clock::now();
  auto job = service.Submit(o, {"bench", id, id, "bench", 0});
  if (!job) throw std::runtime_error(job.error().message);
  const long peak = WaitForJob(service, job->job_id, worker->pid(), std::chrono::seconds(900), "scrape");
  const double seconds = SecondsSince(start);
  pqxx::connection conn(db->AdminUrl());
  pqxx::nontransaction tx(conn);
  const long stored = tx.exec("SELECT count(*) FROM events WHERE event_type = 'ImageDownloaded'")[0][0].as<long>();
  fmt::print("| furrsight-worker SCRAPE_URL (blobs + events) | {} images | {:.2f} s | {:.0f} images/s | peak RSS {:.1f} MiB |\n",
             stored, seconds, stored / seconds, peak / 1024.0);
  worker->Stop(SIGTERM, 10s);
  std::filesystem::remove_all(blobs);
}

int Main() {
  const long n = EnvLong("FURRSIGHT_BENCH_IMAGES", 10000);
  fmt::print("scrape_bench: {} distinct small images on one local page (furrsight-sample-site --flat-images)\n", n);
  auto site = StartSite(n);
  const auto urls = ImageUrls(site.base_url, Fetch(site.base_url + "/"));
  fmt::print("site {} lists {} images\n\n", site.base_url, urls.size());

  fmt::print("| downloader | images | seconds | images/s | MB/s | ratio |\n|---|---|---|---|---|---|\n");
  const Throughput curl = CurlParallel(urls);
  fmt::print("| curl --parallel --parallel-max 64 (baseline) | {} | {:.2f} | {:.0f} | {:.1f} | 1.00 |\n", curl.images,
             curl.seconds, curl.images / curl.seconds, curl.bytes / 1e6 / curl.seconds);
  // Depth 0: the index page and the images it lists (what curl is given as a
  // list); depth 1 also fetches and parses the 40 pages that list them again.
  CountingSink sink;
  long downloaded = 0;
  for (int depth : {0, 1}) {
    workers::CurlFetcher fetcher(FastFetcher());
    CountingSink counted;
    workers::CrawlOptions options;
    options.max_outstanding = 256;
    options.extract.max_images = static_cast<std::size_t>(n) + 10;
    workers::Crawler crawler(fetcher, counted, options);
    const auto start = Clock::now();
    auto report = crawler.Run(
        {.urls = {site.base_url + "/"}, .max_depth = depth, .max_pages = 100, .max_images = static_cast<int>(n) + 10});
    if (!report) throw std::runtime_error(report.error().message);
    const double seconds = SecondsSince(start);
    const double rate = report->images_downloaded / seconds;
    fmt::print("| FurrSight Crawler, 64 in flight (robots, SSRF guard, sniffing, SHA-256), depth {}: {} pages | {} | {:.2f} | "
               "{:.0f} | {:.1f} | {:.2f} |\n",
               depth, report->pages_captured, report->images_downloaded, seconds, rate, counted.bytes / 1e6 / seconds,
               rate / (curl.images / curl.seconds));
    downloaded = report->images_downloaded;
    sink = std::move(counted);
  }
  WorkerScrape(site.base_url, n);

  // Validation and hashing on one core.
  fmt::print("\n| on one core, {} images of ~{:.0f} KB | images/s |\n|---|---|\n", sink.kept.size(),
             sink.bytes / std::max<long>(1, downloaded) / 1000);
  auto time = [&](auto fn) {
    const auto t0 = Clock::now();
    for (const auto& bytes : sink.kept) fn(bytes);
    return sink.kept.size() / SecondsSince(t0);
  };
  std::size_t sink_hole = 0;
  const double sha = time([&](const std::string& b) { sink_hole += base::Sha256Hex(b).size(); });
  const double validate = time([&](const std::string& b) {
    sink_hole += workers::vision::ValidateImage(b, {}).rules_applied.size();
  });
  fmt::print("| SHA-256 alone (baseline) | {:.0f} |\n| ValidateImage (header, decode, blur, brightness, pHash) | {:.0f} ({:.3f} of SHA-256) |\n",
             sha, validate, validate / sha);
  return sink_hole > 0 ? 0 : 1;
}

}  // namespace
}  // namespace furrsight::bench

int main() { return furrsight::bench::GuardedMain("scrape_bench", furrsight::bench::Main); }
