#!/usr/bin/env bash
# Installs exactly the Debian packages FurrSight needs to build, test and run,
# and only those that are missing, then the Node tools the tests run
# (scripts/node/package.json: s3rver, the harness's S3 server; playwright-core,
# which the browser test uses to drive /usr/bin/chromium) with npm from
# the lock file. Fast (a dpkg query and a checksum) when all are present.
#
#   scripts/install-deps.sh            build + test + run packages, Node tools
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # toolchain
  build-essential cmake pkg-config git
  # libraries (the design card's stack)
  libpqxx-dev libpq-dev libhiredis-dev
  libboost1.81-dev libboost-json1.81-dev
  libcurl4-openssl-dev libssl-dev libfmt-dev libgumbo-dev zlib1g-dev
  libopencv-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev
  # services the project starts itself (embedded default, test harness)
  postgresql-15 postgresql-client-15 redis-server
  # Node.js runs the test harness's S3 server (s3rver); npm installs it
  nodejs
  # tools used by tests and benchmarks
  curl procps wrk tar unzip
  # the curation page's browser test (tests/ui) drives Debian's Chromium with playwright-core
  chromium
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [[ "$status" == ii* ]] || missing+=("$p")
done
# Debian ships npm as its own package; some Node.js builds bundle it (and
# conflict with Debian's), so ask for it only when there is no npm at all.
command -v npm >/dev/null || missing+=(npm)

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${#missing[@]} missing packages: ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: packages installed"
fi

# Node tools, exactly as scripts/node/package-lock.json pins them. The stamp
# records which lock file was installed, so a second run does nothing.
node_dir=scripts/node
stamp=$node_dir/node_modules/.furrsight-lock.sha256
want=$(sha256sum "$node_dir/package-lock.json" | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "install-deps: Node tools present ($node_dir)"
else
  echo "install-deps: installing Node tools in $node_dir (npm ci)"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
  echo "install-deps: Node tools installed"
fi
