#!/usr/bin/env bash
# Installs exactly the Debian packages FurrSight needs to build, test and run,
# and only those that are missing. Fast (a dpkg query) when all are present.
#
#   scripts/install-deps.sh            build + test + run packages
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config git
  # libraries (the design card's stack)
  libpqxx-dev libpq-dev libhiredis-dev
  libboost1.81-dev libboost-json1.81-dev
  libcurl4-openssl-dev libssl-dev libfmt-dev libgumbo-dev
  libopencv-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev
  # services the project starts itself (embedded default, test harness)
  postgresql-15 postgresql-client-15 redis-server
  # tools used by tests and benchmarks
  curl procps
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} missing packages: ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
