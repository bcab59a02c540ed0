// furrsight-sample-site: generates the sample grooming site from a seed and
// serves it on loopback until SIGTERM or SIGINT (docs/sample-site.md).
// The first line on stdout is "listening on http://ADDRESS:PORT".
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "workers/sample_site/sample_site_server.hpp"

namespace {

using namespace furrsight::workers::sample_site;

constexpr std::string_view kUsage = R"(usage: furrsight-sample-site [options]

Generates a grooming salon's web site from a seed (pages, before/after photos,
decoys, duplicates, hazards) and serves it over HTTP/1.1 until SIGTERM/SIGINT.
The first line on stdout is "listening on http://ADDRESS:PORT".

  --port P            port to listen on; 0 (default) picks a free one
  --address A         address to listen on (default 127.0.0.1)
  --seed S            generation seed (default 1); the same seed gives the same bytes
  --pages N           HTML pages (default 60, at least 22)
  --scale X           photo size factor: 480x360 * X (default 1, 0.25 to 8)
  --flat-images N     instead of the salon: N small distinct images listed on "/"
  --delay-ms D        delay of the slow pages (default 1000)
  --retry-after S     Retry-After of the first-time 429 (default 1)
  --huge-mb M         size of the huge image responses in MiB (default 24)
  --jpeg-quality Q    JPEG quality (default 88)
  --threads T         server threads (default 4)
  --ground-truth F    also write the ground truth JSON to file F
  --help              this text

GET /ground-truth.json and /access-log.json answer loopback clients.
)";

template <class T>
std::optional<T> Number(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int Usage(std::string_view error) {
  std::fprintf(stderr, "furrsight-sample-site: %.*s\n(see --help)\n", static_cast<int>(error.size()), error.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  SiteOptions site;
  ServerOptions server;
  std::string ground_truth_file;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    }
    if (i + 1 >= argc) return Usage(fmt::format("{} needs a value", flag));
    const std::string_view value = argv[++i];
    bool ok = true;
    auto set_int = [&](auto& out) {
      using T = std::remove_reference_t<decltype(out)>;
      const auto n = Number<T>(value);
      if (n) out = *n;
      ok = n.has_value();
    };
    if (flag == "--port") set_int(server.port);
    else if (flag == "--address") server.address = std::string(value);
    else if (flag == "--seed") set_int(site.seed);
    else if (flag == "--pages") set_int(site.pages);
    else if (flag == "--scale") set_int(site.scale);
    else if (flag == "--flat-images") set_int(site.flat_images);
    else if (flag == "--retry-after") set_int(site.retry_after_seconds);
    else if (flag == "--jpeg-quality") set_int(site.jpeg_quality);
    else if (flag == "--threads") set_int(server.threads);
    else if (flag == "--ground-truth") ground_truth_file = std::string(value);
    else if (flag == "--delay-ms") {
      int ms = 0;
      set_int(ms);
      site.slow_delay = std::chrono::milliseconds(ms);
    } else if (flag == "--huge-mb") {
      std::uint64_t mb = 0;
      set_int(mb);
      site.huge_bytes = mb << 20;
    } else {
      return Usage(fmt::format("unknown option {}", flag));
    }
    if (!ok) return Usage(fmt::format("{}: not a valid number: '{}'", flag, value));
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const auto started = std::chrono::steady_clock::now();
  auto generated = GenerateSite(site);
  if (!generated) {
    std::fprintf(stderr, "furrsight-sample-site: %s\n", generated.error().ToString().c_str());
    return generated.error().code == furrsight::base::ErrorCode::kInvalidArgument ? 2 : 1;
  }
  const std::size_t resources = generated->resources.size();
  const std::size_t pairs = generated->truth.pairs.size();
  auto running = SampleSiteServer::Start(std::move(*generated), server);
  if (!running) {
    std::fprintf(stderr, "furrsight-sample-site: %s\n", running.error().ToString().c_str());
    return 1;
  }
  SampleSiteServer& srv = **running;
  std::printf("listening on %s\n", srv.base_url().c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "furrsight-sample-site: seed %u, %zu resources, %zu true pairs, generated in %lld ms\n",
               site.seed, resources, pairs,
               static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - started)
                                          .count()));
  if (!ground_truth_file.empty()) {
    std::ofstream out(ground_truth_file, std::ios::binary | std::ios::trunc);
    out << boost::json::serialize(srv.GroundTruthJson()) << '\n';
    if (!out) {
      std::fprintf(stderr, "furrsight-sample-site: cannot write %s\n", ground_truth_file.c_str());
      return 1;
    }
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "furrsight-sample-site: stopping on signal %d\n", signal_number);
  srv.Stop();
  return 0;
}
