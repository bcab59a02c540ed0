// jobs_bench: no-op jobs from request to completion through real worker
// processes (furrsight-worker, with a projector running beside them), and
// the enqueue-to-start latency of idle workers. Baseline, in the same run:
// the same three transitions per job (JobRequested, JobStarted, JobCompleted)
// appended straight to the log by as many client threads, with no worker,
// no claim and no queue — what the log alone allows. Each mode runs on a
// fresh database. docs/benchmarks.md explains the figures.
//
// Settings: FURRSIGHT_BENCH_JOBS (default 5000), FURRSIGHT_BENCH_SECONDS and
// FURRSIGHT_BENCH_RATE (latency phase: 5 s at 50 jobs/s).
#include <signal.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <thread>

#include <pqxx/pqxx>

#include "bench/bench_support.hpp"
#include "events/redis/redis_notifier.hpp"
#include "orchestrator/embedded/child_process.hpp"
#include "orchestrator/jobs/job_service.hpp"
#include "tests/support/test_database.hpp"

namespace furrsight::bench {
namespace {

namespace jobs = orchestrator::jobs;
namespace v1 = ::furrsight::events::v1;
using namespace std::chrono_literals;

constexpr int kSubmitters = 4;

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

jobs::CommandContext Ctx(const std::string& actor) {
  std::string id = base::NewUuid();
  return {actor, id, id, "bench", NowUs()};
}

// Every PostgreSQL process (postmaster and backends) on this machine.
std::vector<int> PostgresPids() {
  std::vector<int> pids;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream comm(entry.path() / "comm");
    std::string command;
    std::getline(comm, command);
    if (command == "postgres") pids.push_back(std::stoi(name));
  }
  return pids;
}

// CPU seconds used so far by: this process (submitting), the workers, the projector, PostgreSQL.
struct CpuSplit {
  double client = 0, workers = 0, projector = 0, postgres = 0;
};

// One database, its store (with Redis hints), and the processes around it.
struct Setup {
  std::unique_ptr<testing::TestDatabase> db = testing::TestDatabase::Create("jobs_bench");
  events::PgPool pool{db->ServiceUrl(), kSubmitters + 2, events::EventStore::PrepareStatements};
  events::RedisNotifier notifier{*events::ParseRedisUrl(db->RedisUrl()), db->ChannelPrefix()};
  events::EventStore store{pool, &notifier};
  jobs::JobService service{store};
  std::vector<orchestrator::ChildProcess> processes;

  ~Setup() {
    for (auto& p : processes) p.Stop(SIGTERM, 10s);
  }

  std::vector<std::string> Flags() const {
    return {"--database-url", db->ServiceUrl(), "--redis-url", db->RedisUrl(), "--redis-channel-prefix",
            db->ChannelPrefix(), "--log-level", "warn"};
  }
  void Start(std::vector<std::string> argv) {
    auto f = Flags();
    argv.insert(argv.end(), f.begin(), f.end());
    auto child = orchestrator::ChildProcess::Spawn({.argv = argv});
    if (!child) throw std::runtime_error(child.error().message);
    processes.push_back(std::move(*child));
  }
  void StartWorkers(int n) {
    Start({std::string(FURRSIGHT_BIN_DIR) + "/furrsight", "projections", "run", "furrsight", "--admin-database-url",
           db->AdminUrl()});
    for (int i = 0; i < n; ++i)
      Start({std::string(FURRSIGHT_BIN_DIR) + "/furrsight-worker", "--kinds", "noop", "--name", fmt::format("w{}", i)});
    std::this_thread::sleep_for(1s);  // let them connect and go idle
  }
  CpuSplit Cpu() const {
    CpuSplit c;
    c.client = ProcessCpuSeconds();
    if (!processes.empty()) {
      c.projector = ProcessesCpuSeconds({processes[0].pid()});
      std::vector<int> workers;
      for (size_t i = 1; i < processes.size(); ++i) workers.push_back(processes[i].pid());
      c.workers = ProcessesCpuSeconds(workers);
    }
    c.postgres = ProcessesCpuSeconds(PostgresPids());
    return c;
  }
  long long Query(const std::string& sql) {
    pqxx::connection conn(db->AdminUrl());
    pqxx::nontransaction tx(conn);
    auto r = tx.exec(sql);
    return r[0][0].is_null() ? 0 : r[0][0].as<long long>();
  }
  // Requested-to-completed span of all jobs, from the log's own timestamps.
  double SpanSeconds() {
    return Query("SELECT (extract(epoch FROM max(recorded_at) FILTER (WHERE event_type = 'JobCompleted') - "
                 "min(recorded_at) FILTER (WHERE event_type = 'JobRequested')) * 1000000)::bigint FROM events") /
           1e6;
  }
};

// Runs fn(i) for i in [0, n) on kSubmitters threads.
template <class Fn>
void Parallel(long n, Fn fn) {
  std::atomic<long> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kSubmitters; ++t)
    threads.emplace_back([&] {
      for (long i; (i = next++) < n;) fn(i);
    });
  for (auto& t : threads) t.join();
}

double Baseline(long n) {
  Setup s;
  std::mt19937_64 rng(7);
  auto meta = [] { return events::EventMetadata{"bench", base::NewUuid(), base::NewUuid(), "bench"}; };
  const auto start = Clock::now();
  Parallel(n, [&](long) {
    const std::string stream = "job-" + base::NewUuid();
    v1::JobRequested r;
    r.set_job_type("NOOP");
    r.set_max_attempts(3);
    r.set_lease_ms(30000);
    v1::JobStarted started;
    started.set_worker("bench");
    started.set_attempt(1);
    v1::JobCompleted done;
    done.set_attempt(1);
    std::vector<events::NewEvent> e1 = {events::MakeEventFromMessage(stream, r, meta(), base::NewUuid())};
    std::vector<events::NewEvent> e2 = {events::MakeEventFromMessage(stream, started, meta(), base::NewUuid())};
    std::vector<events::NewEvent> e3 = {events::MakeEventFromMessage(stream, done, meta(), base::NewUuid())};
    if (!s.store.Append(stream, events::ExpectedVersion::NoStream(), e1) ||
        !s.store.Append(stream, events::ExpectedVersion::Exactly(1), e2) ||
        !s.store.Append(stream, events::ExpectedVersion::Exactly(2), e3))
      throw std::runtime_error("baseline append failed");
  });
  return n / SecondsSince(start);
}

struct Throughput {
  double jobs_per_s;
  double seconds;
  double submit_per_s;
  CpuSplit cpu_ms_per_job;
};

Throughput WithWorkers(int workers, long n) {
  Setup s;
  s.StartWorkers(workers);
  const CpuSplit before = s.Cpu();
  const auto start = Clock::now();
  Parallel(n, [&](long) {
    if (!s.service.Submit({.job_type = "NOOP"}, Ctx("bench:submitter"))) throw std::runtime_error("submit failed");
  });
  const double submit_s = SecondsSince(start);
  while (s.Query("SELECT count(*) FROM events WHERE event_type = 'JobCompleted'") < n) {
    if (SecondsSince(start) > 600) throw std::runtime_error("jobs did not complete within 10 minutes");
    std::this_thread::sleep_for(20ms);
  }
  const CpuSplit after = s.Cpu();
  const double span = s.SpanSeconds();
  const double k = 1000.0 / n;
  return {n / span, span, n / submit_s,
          {(after.client - before.client) * k, (after.workers - before.workers) * k,
           (after.projector - before.projector) * k, (after.postgres - before.postgres) * k}};
}

void Latency(int workers, long seconds, long rate) {
  Setup s;
  s.StartWorkers(workers);
  const long n = seconds * rate;
  const auto start = Clock::now();
  for (long i = 0; i < n; ++i) {
    std::this_thread::sleep_until(start + std::chrono::microseconds(i * 1000000 / rate));
    if (!s.service.Submit({.job_type = "NOOP"}, Ctx("bench:submitter"))) throw std::runtime_error("submit failed");
  }
  while (s.Query("SELECT count(*) FROM events WHERE event_type = 'JobCompleted'") < n)
    std::this_thread::sleep_for(20ms);
  pqxx::connection conn(s.db->AdminUrl());
  pqxx::nontransaction tx(conn);
  std::vector<double> ms;
  for (const auto& row : tx.exec(R"~(
      SELECT extract(epoch FROM s.recorded_at - r.recorded_at) * 1000
      FROM events r JOIN events s ON s.stream_id = r.stream_id AND s.stream_version = 2
      WHERE r.stream_version = 1 AND r.event_type = 'JobRequested' AND s.event_type = 'JobStarted')~"))
    ms.push_back(row[0].as<double>());
  const double p50 = Quantile(ms, 0.5), p99 = Quantile(ms, 0.99), max = Quantile(ms, 1.0);
  fmt::print("| enqueue-to-start, {} idle workers, {} jobs/s for {} s | {} jobs | p50 {:.2f} ms | p99 {:.2f} ms | max {:.2f} ms |\n",
             workers, rate, seconds, ms.size(), p50, p99, max);
}

int Main() {
  const long n = EnvLong("FURRSIGHT_BENCH_JOBS", 5000);
  fmt::print("jobs_bench: {} no-op jobs per mode, {} submitter threads, worker_slots 4, a projector running\n\n", n,
             kSubmitters);
  const double baseline = Baseline(n);
  fmt::print(
      "| mode | jobs/s requested→completed | ratio to baseline | span | submit rate | CPU ms/job: submitter, workers, "
      "projector, PostgreSQL |\n|---|---|---|---|---|---|\n");
  fmt::print("| baseline: 3 appends per job, {} client threads, no workers | {:.0f} | 1.00 | | | |\n", kSubmitters,
             baseline);
  for (int workers : {1, 4}) {
    auto t = WithWorkers(workers, n);
    fmt::print("| {} worker process{} × 4 slots | {:.0f} | {:.2f} | {:.2f} s | {:.0f} jobs/s | {:.2f}, {:.2f}, {:.2f}, {:.2f} |\n",
               workers, workers == 1 ? "" : "es", t.jobs_per_s, t.jobs_per_s / baseline, t.seconds, t.submit_per_s,
               t.cpu_ms_per_job.client, t.cpu_ms_per_job.workers, t.cpu_ms_per_job.projector,
               t.cpu_ms_per_job.postgres);
  }
  fmt::print("\n");
  Latency(4, EnvLong("FURRSIGHT_BENCH_SECONDS", 5), EnvLong("FURRSIGHT_BENCH_RATE", 50));
  return 0;
}

}  // namespace
}  // namespace furrsight::bench

int main() { return furrsight::bench::GuardedMain("jobs_bench", furrsight::bench::Main); }
