// Small helpers shared by the bench/ programs: settings from the environment,
// realistic events, timing and CPU accounting. Header-only on purpose.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "events/base/uuid.hpp"
#include "events/store/event.hpp"
#include "orchestrator/jobs/job_service.hpp"

namespace furrsight::bench {

using Clock = std::chrono::steady_clock;

inline long EnvLong(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtol(v, nullptr, 10) : fallback;
}

// Runs a benchmark's main; an exception becomes a message and exit code 1.
template <class Fn>
int GuardedMain(const char* name, Fn&& main) {
  try {
    return main();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline const char* kEventTypes[] = {"PairVerified", "PairAnalyzed", "PairNoteAdded"};

// "pair-00042": one of the benchmark's streams.
inline std::string StreamName(int index) { return fmt::format("pair-{:05}", index); }

// A ~200-byte JSON object, like a verifier's output.
inline std::string Payload(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> score(0.0, 1.0);
  return fmt::format(
      R"({{"pair_id":"{}","left_image":"sha256:{:016x}","right_image":"sha256:{:016x}","score":{:.5f},)"
      R"("model":"qwen2.5-vl","verdict":"same_dog","note":"lion cut, nails trimmed"}})",
      base::NewUuid(), rng(), rng(), score(rng));
}

// An event with a payload and full metadata (invariant 8).
inline events::NewEvent MakeEvent(const std::string& stream_id, std::mt19937_64& rng) {
  events::NewEvent e;
  e.event_id = base::NewUuid();
  e.stream_id = stream_id;
  e.type = kEventTypes[rng() % 3];
  e.payload_json = Payload(rng);
  e.metadata = {"worker:verifier-1", base::NewUuid(), base::NewUuid(), "bench"};
  return e;
}

// A statement that bulk-loads `n` events into an empty events table (run it
// as the owner, outside a transaction): INSERT ... SELECT generate_series,
// committing every 1,000 rows so the log has many transaction ids, like one
// written by appends. Streams are the benchmarks' 500 "pair-NNNNN"; stream k
// gets the events k, k+500, k+1000 ... so its versions are g / 500 + 1.
inline std::string BulkLoadSql(long n) {
  return fmt::format(R"~(
DO $$
DECLARE
  n bigint := {};
  s bigint := 0;
BEGIN
  WHILE s < n LOOP
    INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, payload, metadata)
    SELECT gen_random_uuid(), 'pair-' || lpad((g % 500)::text, 5, '0'), g / 500 + 1,
           (ARRAY['PairVerified', 'PairAnalyzed', 'PairNoteAdded'])[g % 3 + 1], 1,
           jsonb_build_object('pair_id', gen_random_uuid(), 'left_image', 'sha256:' || left(md5(g::text), 16),
                              'right_image', 'sha256:' || right(md5(g::text), 16),
                              'score', round(random()::numeric, 5), 'model', 'qwen2.5-vl',
                              'verdict', 'same_dog', 'note', 'lion cut, nails trimmed'),
           jsonb_build_object('actor', 'worker:verifier-1', 'correlation_id', gen_random_uuid(),
                              'causation_id', gen_random_uuid(), 'source', 'bench')
    FROM generate_series(s, least(s + 1000, n) - 1) AS g;
    COMMIT;
    s := s + 1000;
  END LOOP;
END
$$)~",
                     n);
}

// CPU seconds (user + system) this process has used.
inline double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU seconds (user + system) other processes have used, e.g. PostgreSQL
// backends found with pg_backend_pid(); 0 for a process that is gone.
inline double ProcessesCpuSeconds(const std::vector<int>& pids) {
  static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double total = 0;
  for (int pid : pids) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');  // the command name may hold spaces
    if (close == std::string::npos) continue;
    std::vector<std::string> fields;
    std::string field;
    for (char c : stat.substr(close + 2)) {
      if (c == ' ') {
        fields.push_back(field);
        field.clear();
      } else {
        field += c;
      }
    }
    // After the name: state is field 3 of the man page, utime 14 and stime 15.
    if (fields.size() > 12) total += (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
  }
  return total;
}

// The q-quantile (0..1) of `values`, which it sorts.
inline double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto i = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(i, values.size() - 1)];
}

// The median of some timings (the middle one; the mean of the two middle ones).
inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The peak resident memory (VmHWM) of process `pid`, in kB; 0 if unknown.
inline long PeakRssKb(int pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
  return 0;
}

// Polls job `job_id` until it ends, following the peak memory of the worker
// process `pid`; throws unless the job COMPLETED within `limit`. Returns the peak in kB.
inline long WaitForJob(orchestrator::jobs::JobService& service, const std::string& job_id, int pid,
                       std::chrono::seconds limit, const char* what) {
  namespace jobs = orchestrator::jobs;
  const auto start = Clock::now();
  long peak = 0;
  for (;;) {
    peak = std::max(peak, PeakRssKb(pid));
    auto s = service.Load(job_id);
    if (s && jobs::IsTerminal(s->status)) {
      if (s->status != jobs::JobStatus::kCompleted)
        throw std::runtime_error(fmt::format("the {} failed: {}", what, s->last_error));
      return std::max(peak, PeakRssKb(pid));
    }
    if (Clock::now() - start > limit)
      throw std::runtime_error(fmt::format("the {} did not finish within {} s", what, limit.count()));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace furrsight::bench
