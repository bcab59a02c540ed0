// The REST API's read paths under load (issue [api]): wrk against an ApiServer
// started in this process, uncached (api_cache_ttl_ms=0) and cached (30 s),
// for the pair list and one pair; the baseline is pgbench running the very
// same SQL against the same database in the same run
// (queries::ListPairsSql, events::ReadStreamSql).
//
//   build/bin/furrsight services run --log-level warn -- build/bin/api_bench
//   FURRSIGHT_BENCH_PAIRS=2000 FURRSIGHT_BENCH_SECONDS=3 ... for a quick run
//
// Needs wrk (scripts/install-deps.sh) and pgbench (postgresql-15; found on
// PATH or in /usr/lib/postgresql/15/bin, or FURRSIGHT_PGBENCH).
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <regex>
#include <stdexcept>
#include <thread>
#include <tuple>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "bench/bench_support.hpp"
#include "events/base/uuid.hpp"
#include "events/store/event_store.hpp"
#include "orchestrator/api/api_server.hpp"
#include "orchestrator/api/auth/api_key_service.hpp"
#include "orchestrator/queries/pair_queries.hpp"
#include "projections/furrsight/furrsight_projection.hpp"
#include "projections/generations.hpp"
#include "projections/projector.hpp"
#include "tests/support/test_database.hpp"

namespace furrsight {
namespace {

using bench::Clock;
using bench::SecondsSince;

constexpr int kConnections = 32;
constexpr int kPageSize = orchestrator::queries::kDefaultPageSize;  // 50
constexpr const char* kBreeds[] = {"Poodle", "Shih Tzu", "Schnauzer", "Bichon Frise"};

std::string Slug(const std::string& name) {
  std::string s;
  for (char c : name) s += c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Runs a shell command; its stdout and exit status.
std::pair<std::string, int> Run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buf{};
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;) out.append(buf.data(), n);
  const int status = pclose(p);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::optional<std::string> FindPgbench() {
  if (const char* env = std::getenv("FURRSIGHT_PGBENCH"); env != nullptr && *env != '\0') return env;
  if (auto [out, rc] = Run("command -v pgbench"); rc == 0 && !out.empty()) return out.substr(0, out.find('\n'));
  if (std::filesystem::exists("/usr/lib/postgresql/15/bin/pgbench")) return "/usr/lib/postgresql/15/bin/pgbench";
  return std::nullopt;
}

// Appends `n` proposed pairs in batches of 1,000 (one multi-stream append
// each): every 10th verified, every 5th with a breed, so the read model has
// statuses, breeds and their joins. Returns the pair ids.
std::vector<std::string> AppendPairs(events::EventStore& store, long n) {
  std::vector<events::NewEvent> batch;
  std::vector<events::StreamExpectation> expect;
  auto add = [&](const std::string& stream, const std::string& type, std::string payload) {
    events::NewEvent e;
    e.event_id = base::NewUuid();
    e.stream_id = stream;
    e.type = type;
    e.payload_json = std::move(payload);
    e.metadata = {"worker:bench", e.event_id, e.event_id, "bench"};
    batch.push_back(std::move(e));
  };
  auto flush = [&] {
    if (batch.empty()) return;
    auto r = store.Append(expect, batch);
    if (!r) throw std::runtime_error("append: " + r.error().message);
    batch.clear();
    expect.clear();
  };
  for (const char* b : kBreeds) {
    expect.push_back({"breed-" + Slug(b), events::ExpectedVersion::Any()});
    add("breed-" + Slug(b), "BreedRegistered", fmt::format(R"({{"name":"{}","slug":"{}"}})", b, Slug(b)));
  }
  flush();
  std::vector<std::string> ids;
  ids.reserve(static_cast<std::size_t>(n));
  for (long i = 0; i < n; ++i) {
    const std::string id = base::NewUuid();
    const std::string stream = "pair-" + id;
    ids.push_back(id);
    expect.push_back({stream, events::ExpectedVersion::NoStream()});
    const std::string sha = fmt::format("{:064x}", static_cast<unsigned long>(i));
    add(stream, "PairProposed",
        fmt::format(R"({{"before_image_sha256":"{0}","after_image_sha256":"{0}","before_image_url":"https://g.example/b{1}.jpg",)"
                    R"("after_image_url":"https://g.example/a{1}.jpg","source_url":"https://groomers.example/p/{1}",)"
                    R"("cue":"alt_text","similarity":0.{2}}})",
                    sha, i, 50 + i % 49));
    if (i % 5 == 0) {
      const std::string breed = kBreeds[(i / 5) % std::size(kBreeds)];
      add(stream, "PairBreedSet", fmt::format(R"({{"breed":"{}","breed_slug":"{}"}})", breed, Slug(breed)));
    }
    if (i % 10 == 0) add(stream, "PairVerified", R"({})");
    if (batch.size() >= 1000) flush();
  }
  flush();
  return ids;
}

// wrk's figures for one run.
struct Load {
  double requests_per_s = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  long requests = 0;
  long bad = 0;  // non-2xx/3xx responses and socket errors
};

double ToMs(double value, const std::string& unit) {
  if (unit == "us") return value / 1000.0;
  if (unit == "s") return value * 1000.0;
  if (unit == "m") return value * 60'000.0;
  return value;  // ms
}

Load RunWrk(int port, const std::string& key, const std::string& path, long seconds) {
  const std::string command =
      fmt::format("wrk -t2 -c{} -d{}s --latency -H {} http://127.0.0.1:{}{} 2>&1", kConnections, seconds,
                  Quote("X-API-Key: " + key), port, path);
  auto [out, rc] = Run(command);
  std::smatch m;
  Load load;
  if (rc != 0 || !std::regex_search(out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))")))
    throw std::runtime_error(fmt::format("wrk failed ({}):\n{}", rc, out));
  load.requests_per_s = std::stod(m[1]);
  if (std::regex_search(out, m, std::regex(R"(\n\s+50%\s+([0-9.]+)(us|ms|s|m)\b)")))
    load.p50_ms = ToMs(std::stod(m[1]), m[2]);
  if (std::regex_search(out, m, std::regex(R"(\n\s+99%\s+([0-9.]+)(us|ms|s|m)\b)")))
    load.p99_ms = ToMs(std::stod(m[1]), m[2]);
  // "Latency  avg  stdev  max  +/- stdev" of the thread stats.
  if (std::regex_search(out, m, std::regex(R"(Latency\s+[0-9.]+\w+\s+[0-9.]+\w+\s+([0-9.]+)(us|ms|s|m)\b)")))
    load.max_ms = ToMs(std::stod(m[1]), m[2]);
  if (std::regex_search(out, m, std::regex(R"((\d+) requests in)"))) load.requests = std::stol(m[1]);
  if (std::regex_search(out, m, std::regex(R"(Non-2xx or 3xx responses:\s+(\d+))"))) load.bad += std::stol(m[1]);
  if (std::regex_search(out, m, std::regex(R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))")))
    load.bad += std::stol(m[1]) + std::stol(m[2]) + std::stol(m[3]) + std::stol(m[4]);
  return load;
}

// pgbench's tps for one SQL statement, simple query protocol, no vacuum.
// (Simple protocol: the select lists hold to_char formats with ':MI:SS', which
// pgbench's extended and prepared modes would take for its own variables.)
double RunPgbench(const std::string& pgbench, const std::string& url, const std::string& sql, long seconds,
                  const std::filesystem::path& script) {
  {
    std::FILE* f = std::fopen(script.c_str(), "w");
    if (f == nullptr) throw std::runtime_error("cannot write " + script.string());
    std::fprintf(f, "%s;\n", sql.c_str());
    std::fclose(f);
  }
  const std::string command = fmt::format("{} -n -c{} -j2 -T{} -f {} {} 2>&1", pgbench, kConnections, seconds,
                                          Quote(script.string()), Quote(url));
  auto [out, rc] = Run(command);
  std::smatch m;
  if (rc != 0 || !std::regex_search(out, m, std::regex(R"(tps = ([0-9.]+) \(without initial connection time\))")))
    throw std::runtime_error(fmt::format("pgbench failed ({}):\n{}", rc, out));
  return std::stod(m[1]);
}

// Replaces $N (highest first, so $1 does not eat $11) with the given literals.
std::string WithLiterals(std::string sql, const std::vector<std::string>& literals) {
  for (std::size_t n = literals.size(); n >= 1; --n) {
    const std::string key = fmt::format("${}", n);
    for (auto at = sql.find(key); at != std::string::npos; at = sql.find(key, at + literals[n - 1].size()))
      sql.replace(at, key.size(), literals[n - 1]);
  }
  return sql;
}

// GETs `path` once with curl; the HTTP status and body.
std::pair<int, std::string> Get(int port, const std::string& key, const std::string& path) {
  auto [out, rc] = Run(fmt::format("curl -s -w '\\n%{{http_code}}' -H {} http://127.0.0.1:{}{}",
                                   Quote("X-API-Key: " + key), port, path));
  const auto nl = out.rfind('\n');
  if (rc != 0 || nl == std::string::npos) return {0, out};
  return {std::atoi(out.c_str() + nl + 1), out.substr(0, nl)};
}

struct Row {
  std::string endpoint, mode;
  Load load;
  double tps = 0;
};

int Main() {
  const long pairs = bench::EnvLong("FURRSIGHT_BENCH_PAIRS", 10'000);
  const long seconds = bench::EnvLong("FURRSIGHT_BENCH_SECONDS", 10);
  if (pairs < 10 || seconds < 1) {
    std::fprintf(stderr, "api_bench: FURRSIGHT_BENCH_PAIRS must be at least 10, FURRSIGHT_BENCH_SECONDS at least 1\n");
    return 2;
  }
  if (Run("command -v wrk").second != 0) {
    std::fprintf(stderr,
                 "api_bench: wrk is not installed; run scripts/install-deps.sh (or apt-get install -y wrk)\n");
    return 2;
  }
  const auto pgbench = FindPgbench();
  if (!pgbench) {
    std::fprintf(stderr, "api_bench: pgbench not found (postgresql-15; or set FURRSIGHT_PGBENCH)\n");
    return 2;
  }
  if (Run("command -v curl").second != 0) {
    std::fprintf(stderr, "api_bench: curl is not installed; run scripts/install-deps.sh\n");
    return 2;
  }

  auto db = testing::TestDatabase::Create("api_bench");
  events::PgPool pool(db->ServiceUrl(), 4, events::EventStore::PrepareStatements);
  events::EventStore store(pool);
  projections::FurrSightProjection projection;

  auto t0 = Clock::now();
  const auto ids = AppendPairs(store, pairs);
  fmt::print("appended {} pairs (PairProposed; every 5th PairBreedSet, every 10th PairVerified) in {:.1f} s\n",
             pairs, SecondsSince(t0));

  api::auth::ApiKeyService keys(store);
  auto issued = keys.Issue({.name = "api_bench", .roles = {"researcher"}}, {"bench:setup", "setup", "setup", "bench"});
  if (!issued) throw std::runtime_error("issuing the API key: " + issued.error().message);
  const std::string key = issued->key;

  pqxx::connection admin(db->AdminUrl());
  auto live = projections::EnsureLive(admin, projection);
  if (!live) throw std::runtime_error("projection: " + live.error().message);
  t0 = Clock::now();
  std::int64_t applied = 0;
  {
    projections::Projector projector(db->AdminUrl(), store, nullptr, projection);
    for (int i = 0; i < 100; ++i) {
      auto n = projector.CatchUp(live->generation);
      if (!n) throw std::runtime_error("catch-up: " + n.error().message);
      applied += *n;
      pqxx::nontransaction tx(admin);
      if (tx.exec("SELECT count(*) FROM grooming_pairs")[0][0].as<long>() >= pairs) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  {
    pqxx::nontransaction tx(admin);
    tx.exec("VACUUM ANALYZE");
    const auto counts = tx.exec(
        "SELECT count(*), count(*) FILTER (WHERE status = 'VERIFIED'), count(dog_breed_id) FROM grooming_pairs")[0];
    fmt::print("projected {} events in {:.1f} s: {} pairs, {} verified, {} with a breed\n", applied,
               SecondsSince(t0), counts[0].as<long>(), counts[1].as<long>(), counts[2].as<long>());
  }

  // One pair in the middle, with a breed and verified (so its stream has 3 events).
  const std::string one = ids[static_cast<std::size_t>(pairs / 2 / 10 * 10)];
  const std::string list_path = fmt::format("/api/v1/pairs?limit={}", kPageSize);
  const std::string one_path = "/api/v1/pairs/" + one;

  // Baselines: the API's own statements with the values it binds, as literals
  // of the types PostgreSQL infers for them (text for the filters and the
  // cursor, '' = any; bigint for the limit). Same role as the API.
  const std::string text_empty = "''::text";
  const std::string list_sql =
      WithLiterals(orchestrator::queries::ListPairsSql(false),
                   {text_empty, text_empty, text_empty, text_empty, text_empty, text_empty, text_empty, text_empty,
                    text_empty, text_empty, std::to_string(kPageSize + 1)});
  const std::string one_sql =
      WithLiterals(events::ReadStreamSql(events::Direction::kForward), {fmt::format("'pair-{}'", one), "1", "1000"});
  if (bench::EnvLong("FURRSIGHT_BENCH_EXPLAIN", 0) != 0) {
    // The plans of both forms: the literals pgbench runs, and the statement
    // with bind parameters as ListPairs sends it (an unnamed statement, so
    // planned with the values, like the literals).
    pqxx::connection service(db->ServiceUrl());
    pqxx::nontransaction tx(service);
    fmt::print("EXPLAIN ANALYZE, the list with literals (pgbench):\n");
    for (const auto& r : tx.exec("EXPLAIN ANALYZE " + list_sql)) fmt::print("  {}\n", r[0].c_str());
    fmt::print("EXPLAIN ANALYZE, the list with bind parameters (ListPairs):\n");
    for (const auto& r : tx.exec_params("EXPLAIN ANALYZE " + orchestrator::queries::ListPairsSql(false), "", "", "",
                                        "", "", "", "", "", "", "", kPageSize + 1))
      fmt::print("  {}\n", r[0].c_str());
  }
  const auto script = std::filesystem::temp_directory_path() / fmt::format("api_bench_{}.sql", getpid());
  fmt::print("pgbench -n -c{} -j2 -T{} (simple protocol), the list's SQL...\n", kConnections, seconds);
  std::fflush(stdout);
  const double list_tps = RunPgbench(*pgbench, db->ServiceUrl(), list_sql, seconds, script);
  fmt::print("pgbench, the pair's stream read...\n");
  std::fflush(stdout);
  const double one_tps = RunPgbench(*pgbench, db->ServiceUrl(), one_sql, seconds, script);
  std::filesystem::remove(script);

  std::vector<Row> rows;
  const auto blob_dir = testing::Services().dir / (db->name() + "-blobs");
  for (const auto& [mode, ttl] : {std::pair{"uncached", "0"}, std::pair{"cached", "30000"}}) {
    auto config = base::Config::WithOverrides({{"database_url", db->ServiceUrl()},
                                               {"admin_database_url", db->AdminUrl()},
                                               {"redis_url", db->RedisUrl()},
                                               {"redis_channel_prefix", db->ChannelPrefix()},
                                               {"blob_store", "file"},
                                               {"blob_dir", blob_dir.string()},
                                               {"api_port", "0"},
                                               {"api_worker_threads", "8"},
                                               {"api_cache_ttl_ms", ttl}});
    auto server = api::ApiServer::Start(config);
    if (!server) throw std::runtime_error("starting the API: " + server.error().message);
    const int port = (*server)->port();
    // The key reaches the API through the read model; check both paths answer 200.
    for (const auto& path : {list_path, one_path}) {
      auto [status, body] = Get(port, key, path);
      for (int i = 0; i < 100 && status != 200; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::tie(status, body) = Get(port, key, path);
      }
      if (status != 200) throw std::runtime_error(fmt::format("GET {} gave {}: {}", path, status, body));
    }
    fmt::print("{} (api_cache_ttl_ms={}), port {}: wrk -t2 -c{} -d{}s --latency ...\n", mode, ttl, port,
               kConnections, seconds);
    std::fflush(stdout);
    rows.push_back({"GET /api/v1/pairs?limit=50", mode, RunWrk(port, key, list_path, seconds), list_tps});
    rows.push_back({"GET /api/v1/pairs/{id}", mode, RunWrk(port, key, one_path, seconds), one_tps});
    (*server)->Stop();
  }
  std::filesystem::remove_all(blob_dir);

  fmt::print("\n{} pairs, {} connections, {} s per run; baseline = pgbench -c{} -j2 of the same SQL\n", pairs,
             kConnections, seconds, kConnections);
  fmt::print("{:<28} {:<9} {:>10} {:>9} {:>13} {:>14} {:>9} {:>9} {:>6}\n", "endpoint", "mode", "req/s", "p99 ms",
             "pgbench tps", "req/s / tps", "p50 ms", "max ms", "bad");
  for (const auto& r : rows)
    fmt::print("{:<28} {:<9} {:>10.0f} {:>9.2f} {:>13.0f} {:>14.2f} {:>9.2f} {:>9.2f} {:>6}\n", r.endpoint, r.mode,
               r.load.requests_per_s, r.load.p99_ms, r.tps, r.load.requests_per_s / r.tps, r.load.p50_ms,
               r.load.max_ms, r.load.bad);

  fmt::print("\naims (issue [api]):\n");
  const Row& uncached_list = rows[0];
  const double ratio = uncached_list.load.requests_per_s / uncached_list.tps;
  fmt::print("  uncached list >= 0.5 of pgbench of its SQL: {:.2f} -> {}\n", ratio, ratio >= 0.5 ? "met" : "NOT met");
  for (const auto& r : rows)
    fmt::print("  p99 < 20 ms at {} connections, {} {}: {:.2f} ms -> {}\n", kConnections, r.endpoint, r.mode,
               r.load.p99_ms, r.load.p99_ms < 20.0 ? "met" : "NOT met");
  for (const auto& r : rows)
    if (r.load.bad > 0)
      fmt::print("  note: {} {} had {} failed or non-2xx responses\n", r.endpoint, r.mode, r.load.bad);
  return 0;
}

}  // namespace
}  // namespace furrsight

int main() { return furrsight::bench::GuardedMain("api_bench", furrsight::Main); }
