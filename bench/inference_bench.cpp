// inference_bench: the inference client's own cost, and its throughput
// against the local chat-completions stand-in. Baselines in the same run:
//  - overhead per request: decode both images of a pair (1600x1200 JPEGs),
//    downscale to 1024 (vision::DownscaleForModel), base64, build the request
//    JSON, serialize it, then parse and validate a model answer; against
//    base64 of the same two downscaled images alone (ratio = full / base64).
//  - requests/s: PairAnalyzer (everything above plus HTTP) with 32 pairs in
//    flight (max_in_flight 32) against tests/support/chat_stand_in answering
//    at once; against ChatClient alone sending a prebuilt body, same 32 in
//    flight (ratio = analyzer / client).
// Needs nothing but loopback. Settings: FURRSIGHT_BENCH_PAIRS (default 256).
#include <chrono>
#include <cstdio>

#include <boost/json/serialize.hpp>

#include "bench/bench_support.hpp"
#include "tests/support/chat_stand_in.hpp"
#include "events/base/base64.hpp"
#include "workers/inference/pair_analysis.hpp"
#include "workers/sample_site/synthetic_dogs.hpp"

namespace furrsight::bench {
namespace {

namespace inference = workers::inference;
namespace dogs = workers::sample_site;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

constexpr std::string_view kAnswer =
    R"({"is_grooming_pair":true,"same_dog":true,"breed":"Poodle","services":["Full Groom","Nail Trim"],"confidence":0.9,"notes":"Clipped short."})";

int Main() {
  const long pairs = EnvLong("FURRSIGHT_BENCH_PAIRS", 256);
  const std::string before = dogs::Encode(dogs::DogPhoto(7, {7, false}, {0, 0}, {1600, 1200}), ".jpg");
  const std::string after = dogs::Encode(dogs::DogPhoto(7, {7, true}, {3, 2}, {1600, 1200}), ".jpg");
  inference::PairAnalysisOptions options;
  options.downscale.max_side = 1024;
  options.services = {"Full Groom", "Nail Trim", "Bath"};
  const auto prompt = inference::BuiltInPrompt(inference::kPairPromptName);
  if (!prompt) throw std::runtime_error(prompt.error().message);

  // Overhead per request, on one core.
  constexpr int kRounds = 40;
  std::size_t sink = 0;
  auto t0 = Clock::now();
  for (int i = 0; i < kRounds; ++i) {
    auto request = inference::BuildPairRequest(*prompt, {before, after}, options);
    if (!request) throw std::runtime_error(request.error().message);
    sink += boost::json::serialize(*request).size();
    auto answer = inference::ParsePairAnswer(kAnswer, options);
    sink += answer ? answer->services.size() : 0;
  }
  const double full = Seconds(Clock::now() - t0) / kRounds;
  // Baseline: base64 of the very bytes that go out.
  auto b = workers::vision::DecodeImage(before);
  auto a = workers::vision::DecodeImage(after);
  auto small_b = workers::vision::DownscaleForModel(b->pixels, options.downscale);
  auto small_a = workers::vision::DownscaleForModel(a->pixels, options.downscale);
  constexpr int kB64Rounds = 400;
  t0 = Clock::now();
  for (int i = 0; i < kB64Rounds; ++i)
    sink += base::Base64Encode(small_b->bytes).size() + base::Base64Encode(small_a->bytes).size();
  const double b64 = Seconds(Clock::now() - t0) / kB64Rounds;
  std::printf("overhead per pair request (decode 2x1600x1200, downscale to 1024, base64, JSON build+serialize, answer parse+validate): %.2f ms\n",
              full * 1e3);
  std::printf("baseline base64 of the two downscaled JPEGs (%zu + %zu bytes): %.3f ms; ratio %.0fx\n",
              small_b->bytes.size(), small_a->bytes.size(), b64 * 1e3, full / b64);

  // Requests/s against the stand-in with 32 in flight.
  testing::ChatStandIn server;
  inference::ChatClientOptions co;
  co.base_url = server.BaseUrl();
  co.model = server.model();
  co.max_in_flight = 32;
  inference::ChatClient client(co);
  inference::PairAnalyzer analyzer(client, *prompt, options);
  std::atomic<int> ok{0};
  t0 = Clock::now();
  inference::RunInFlight(static_cast<std::size_t>(pairs), 32,
                         [&](std::size_t) { ok += analyzer.Analyze({before, after}).ok ? 1 : 0; });
  const double analyzer_rps = static_cast<double>(pairs) / Seconds(Clock::now() - t0);
  const int max_seen = server.MaxConcurrency();
  auto body = inference::BuildPairRequest(*prompt, {before, after}, options);
  std::atomic<int> ok2{0};
  t0 = Clock::now();
  inference::RunInFlight(static_cast<std::size_t>(pairs), 32,
                         [&](std::size_t) { ok2 += client.Complete(*body).has_value() ? 1 : 0; });
  const double client_rps = static_cast<double>(pairs) / Seconds(Clock::now() - t0);
  std::printf("PairAnalyzer, 32 in flight: %.0f pairs/s (%d/%ld ok, stand-in saw at most %d at once)\n", analyzer_rps,
              ok.load(), pairs, max_seen);
  std::printf("baseline ChatClient with a prebuilt %zu-byte body, 32 in flight: %.0f requests/s (%d ok); ratio %.2f\n",
              boost::json::serialize(*body).size(), client_rps, ok2.load(), analyzer_rps / client_rps);
  std::printf("(sink %zu)\n", sink % 10);
  return 0;
}

}  // namespace
}  // namespace furrsight::bench

int main() { return furrsight::bench::GuardedMain("inference_bench", furrsight::bench::Main); }
