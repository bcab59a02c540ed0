#!/usr/bin/env bash
# Runs the event-log benchmarks (docs/benchmarks.md), each under its own
# throwaway PostgreSQL and Redis, and prints their tables.
#   bench/run_log_bench.sh                  # all three
#   bench/run_log_bench.sh readall_bench    # some of them
# Settings: FURRSIGHT_BENCH_EVENTS (readall, default 1000000),
# FURRSIGHT_BENCH_SECONDS (append 4, latency 5), FURRSIGHT_BENCH_RATE (latency, 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bin
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(append_bench readall_bench latency_bench)
for b in "${benches[@]}"; do
  [ -x "$bin/$b" ] || { echo "run_log_bench: $bin/$b is missing; build first: cmake --build build" >&2; exit 1; }
done
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
for b in "${benches[@]}"; do
  echo
  "$bin/furrsight" services run --log-level warn -- "$bin/$b"
done
