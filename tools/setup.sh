#!/usr/bin/env bash
# berth's two commands on Debian 12 (as root, or as a user who can sudo):
#
#   bash tools/setup.sh serve [ARGS...]   install what is missing, build build/berth, then run `berth serve ARGS...`
#   bash tools/setup.sh test              install what is missing, then build and run the whole test matrix
#
# The test matrix, and why each build exists, is described in docs/building.md. The last line `test` prints is
# "N passed, N failed": CTest results summed over every stage, plus one failure for each build step that failed.
set -euo pipefail

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${BERTH_JOBS:-$(nproc)}

debian_packages=(
  g++ cmake ninja-build ccache python3          # the build; python3 runs tools/amalgamate.py
  clang-14 libclang-rt-14-dev                   # sanitizer and libFuzzer builds
  libtomlplusplus-dev nlohmann-json3-dev        # berth::berth
  libasio-dev android-libboringssl-dev libssl-dev   # berth::net: Asio, BoringSSL (default), OpenSSL 3
  catch2 librapidcheck-dev libbenchmark-dev     # tests, property tests, benchmarks
  haproxy openssl iproute2                      # network tests: a PROXY-protocol peer, certificates, ss
)

usage() {
  echo "usage: bash tools/setup.sh serve [ARGS...] | bash tools/setup.sh test" >&2
  exit 2
}

install_missing_packages() {
  local missing=() package
  for package in "${debian_packages[@]}"; do
    dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed$' || missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0

  local as_root=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "setup.sh: run as root to install: ${missing[*]}" >&2; exit 1; }
    as_root=(sudo)
  fi
  echo "setup.sh: installing ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# configure <build-dir> <cmake -D options...>
configure() {
  local dir=$1
  shift
  cmake -S "$repo" -B "$repo/$dir" -G Ninja "$@"
}

has_sources() { compgen -G "$repo/$1" >/dev/null; }

# ---- serve ----

serve() {
  install_missing_packages
  if ! has_sources 'tools/berth/*.cpp'; then
    echo "setup.sh: this checkout has no berth tool yet (tools/berth/*.cpp)" >&2
    exit 1
  fi
  configure build -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build "$repo/build" --target berth -j "$jobs"
  exec "$repo/build/berth" serve "$@"
}

# ---- test ----

total_passed=0
total_failed=0
stage_results=()

# Builds <targets> (everything when none are given) in <build-dir>, going on past errors so that every test that can
# be built still runs. A failed build counts as one failure.
build() {
  local dir=$1
  shift
  local target_args=()
  [[ $# -gt 0 ]] && target_args=(--target "$@")
  if ! cmake --build "$repo/$dir" -j "$jobs" "${target_args[@]}" -- -k 0; then
    echo "setup.sh: the build in $dir failed"
    stage_failed=$((stage_failed + 1))
  fi
}

# Runs ctest in <build-dir> with <ctest args...> and adds its counts to the stage. A run that ends without CTest's
# "N tests failed out of M" line (no tests matched, or CTest itself failed) counts as one failure.
run_ctest() {
  local dir=$1
  shift
  local log
  log=$(mktemp)
  (cd "$repo/$dir" && ctest --output-on-failure -j "$jobs" --timeout 600 "$@") 2>&1 | tee "$log" || true
  local counts
  counts=$(grep -Eo '[0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)
  rm -f "$log"
  if [[ $counts =~ ^([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+)$ ]]; then
    local failed=${BASH_REMATCH[1]} total=${BASH_REMATCH[2]}
    stage_passed=$((stage_passed + total - failed))
    stage_failed=$((stage_failed + failed))
  else
    echo "setup.sh: ctest $* in $dir reported no results"
    stage_failed=$((stage_failed + 1))
  fi
}

begin_stage() {
  stage_name=$1
  stage_passed=0
  stage_failed=0
  stage_start=$SECONDS
  printf '\n==== %s ====\n\n' "$stage_name"
}

end_stage() {
  local note=${1:-}
  local seconds=$((SECONDS - stage_start))
  total_passed=$((total_passed + stage_passed))
  total_failed=$((total_failed + stage_failed))
  stage_results+=("$(printf '%-62s %4d passed, %3d failed, %4d s%s' "$stage_name" "$stage_passed" "$stage_failed" \
                     "$seconds" "${note:+  ($note)}")")
}

# ccache: paths relative to the checkout, so a fresh clone elsewhere on the same machine reuses earlier builds.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$repo}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

# Sanitizer reports fail the test that caused them; a user's own settings win.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

stage_release() {
  begin_stage "(a) g++, RelWithDebInfo, -Werror: all tests (build/)"
  if configure build -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_WERROR=ON \
       -DBERTH_SANITIZE= -DBERTH_TLS_BACKEND=BoringSSL -DBERTH_BUILD_TESTS=ON -DBERTH_BUILD_EXAMPLES=ON \
       -DBERTH_BUILD_FUZZERS=ON -DBERTH_BUILD_BENCH=ON -DBERTH_BUILD_CLI=ON; then
    build build
    run_ctest build --no-tests=error
  else
    stage_failed=$((stage_failed + 1))
  fi
  end_stage
}

stage_asan() {
  begin_stage "(b) clang-14, ASan+UBSan, fuzzers: all tests + fuzz-run (build-asan/)"
  if configure build-asan -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug -DBERTH_WERROR=ON \
       -DBERTH_SANITIZE=address,undefined -DBERTH_TLS_BACKEND=BoringSSL -DBERTH_BUILD_TESTS=ON \
       -DBERTH_BUILD_EXAMPLES=OFF -DBERTH_BUILD_FUZZERS=ON -DBERTH_BUILD_BENCH=OFF -DBERTH_BUILD_CLI=ON; then
    build build-asan
    run_ctest build-asan --no-tests=error -LE '^fuzz-run$'
    if [[ -n $(cd "$repo/build-asan" && ctest -N -L '^fuzz-run$' | grep -E '^ +Test +#') ]]; then
      run_ctest build-asan -L '^fuzz-run$'
      end_stage
    else
      end_stage "no fuzz/*_fuzzer.cpp yet, so no fuzz runs"
    fi
  else
    stage_failed=$((stage_failed + 1))
    end_stage
  fi
}

# Only the network tests need these two builds: TSan for the acceptor's threads and strands, OpenSSL for the
# second TLS backend.
stage_net_only() {
  local name=$1 dir=$2
  shift 2
  begin_stage "$name"
  if ! has_sources 'tests/net/*.cpp'; then
    end_stage "skipped: no tests/net/*.cpp yet"
    return
  fi
  if configure "$dir" -DBERTH_WERROR=ON -DBERTH_BUILD_TESTS=ON -DBERTH_BUILD_EXAMPLES=OFF -DBERTH_BUILD_FUZZERS=OFF \
       -DBERTH_BUILD_BENCH=OFF -DBERTH_BUILD_CLI=OFF "$@"; then
    build "$dir" berth_net_tests
    run_ctest "$dir" --no-tests=error -L '^net$'
  else
    stage_failed=$((stage_failed + 1))
  fi
  end_stage
}

test_matrix() {
  install_missing_packages
  local start=$SECONDS
  stage_release
  stage_asan
  stage_net_only "(c) clang-14, TSan: net tests (build-tsan/)" build-tsan \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug -DBERTH_SANITIZE=thread -DBERTH_TLS_BACKEND=BoringSSL
  stage_net_only "(d) g++, OpenSSL 3 backend, Asio's accept: net tests (build-openssl/)" build-openssl \
    -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Debug -DBERTH_SANITIZE= -DBERTH_TLS_BACKEND=OpenSSL \
    -DBERTH_ASIO_ACCEPT=ON

  printf '\n==== summary (%d s) ====\n' "$((SECONDS - start))"
  printf '%s\n' "${stage_results[@]}"
  printf '%d passed, %d failed\n' "$total_passed" "$total_failed"
  ((total_failed == 0))
}

case ${1:-} in
  serve) shift; serve "$@" ;;
  test) [[ $# -eq 1 ]] || usage; test_matrix ;;
  *) usage ;;
esac
