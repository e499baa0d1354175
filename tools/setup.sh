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

# What each Debian generation needs. Debian 12 is the machine the two commands run on; Debian 13 is the second
# toolchain generation, which `test` runs in a chroot made with debootstrap (docs/building.md).
debian12_packages=(
  g++ cmake ninja-build ccache python3          # the build; python3 runs tools/amalgamate.py
  clang-14 libclang-rt-14-dev                   # sanitizer and libFuzzer builds
  libtomlplusplus-dev nlohmann-json3-dev        # berth::berth
  libasio-dev android-libboringssl-dev libssl-dev   # berth::net: Asio, BoringSSL (default), OpenSSL 3
  catch2 librapidcheck-dev libbenchmark-dev     # tests, property tests, benchmarks
  haproxy openssl iproute2                      # network tests: a PROXY-protocol peer, certificates, ss
  debootstrap                                   # makes the Debian 13 chroot
)
debian13_packages=(
  g++ cmake ninja-build ccache python3 git      # the build (g++ 14)
  clang-19 libclang-rt-19-dev                   # the OSS-Fuzz build and its fuzzers (clang 19, libFuzzer)
  libtomlplusplus-dev nlohmann-json3-dev        # toml++ 3.4.0, nlohmann-json 3.11.3
  libasio-dev android-libboringssl-dev libssl-dev   # Asio 1.30.2, BoringSSL, OpenSSL 3.5
  catch2 librapidcheck-dev                      # Catch2 3.7
  haproxy openssl iproute2                      # HAProxy 3.0 as the PROXY peer
)

# Where the Debian 13 chroot lives on this machine; it is made once and reused by every later run.
debian13_root=${BERTH_DEBIAN13_ROOT:-/var/cache/berth/debian-13}
# Where the checkout appears inside the chroot.
debian13_checkout=/src/berth

usage() {
  echo "usage: bash tools/setup.sh serve [ARGS...] | bash tools/setup.sh test" >&2
  exit 2
}

install_missing_packages() {
  local missing=() package
  for package in "${debian12_packages[@]}"; do
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

# stage_all_tests <name> <build-dir> <cmake -D options...>: an unsanitized BoringSSL build of everything with
# warnings as errors, and every CTest test. The options name the compiler, the build type and the benchmarks.
stage_all_tests() {
  local name=$1 dir=$2
  shift 2
  begin_stage "$name"
  if configure "$dir" -DBERTH_WERROR=ON -DBERTH_SANITIZE= -DBERTH_TLS_BACKEND=BoringSSL -DBERTH_BUILD_TESTS=ON \
       -DBERTH_BUILD_EXAMPLES=ON -DBERTH_BUILD_FUZZERS=ON -DBERTH_BUILD_CLI=ON "$@"; then
    build "$dir"
    run_ctest "$dir" --no-tests=error
  else
    stage_failed=$((stage_failed + 1))
  fi
  end_stage
}

# read_counts <log> <prefix>: the numbers of the last line "<prefix>N passed, N failed" of <log>, into
# counted_passed and counted_failed; returns 1 when there is no such line.
read_counts() {
  local line
  line=$(grep -E "^$2[0-9]+ passed, [0-9]+ failed\$" "$1" | tail -n 1 || true)
  [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]] || return 1
  counted_passed=${BASH_REMATCH[1]}
  counted_failed=${BASH_REMATCH[2]}
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
# second TLS backend. The two embedding examples are network tests too (label net).
stage_net_only() {
  local name=$1 dir=$2
  shift 2
  begin_stage "$name"
  if ! has_sources 'tests/net/*.cpp'; then
    end_stage "skipped: no tests/net/*.cpp yet"
    return
  fi
  if configure "$dir" -DBERTH_WERROR=ON -DBERTH_BUILD_TESTS=ON -DBERTH_BUILD_EXAMPLES=ON -DBERTH_BUILD_FUZZERS=OFF \
       -DBERTH_BUILD_BENCH=OFF -DBERTH_BUILD_CLI=OFF "$@"; then
    build "$dir" berth_net_tests example_embedded_server example_thread_pool_handler
    run_ctest "$dir" --no-tests=error -L '^net$'
  else
    stage_failed=$((stage_failed + 1))
  fi
  end_stage
}

# ---- Debian 13: the second toolchain generation, in a chroot ----

# The Debian mirror this machine's apt uses (the first deb source of its Debian release), so the chroot comes
# from the same place as the machine's own packages. BERTH_DEBIAN_MIRROR overrides it.
debian_mirror() {
  if [[ -n ${BERTH_DEBIAN_MIRROR:-} ]]; then echo "$BERTH_DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
        awk '/^URIs:/ { uri = $2 } /^Suites:/ { if (uri !~ /security/ && uri ~ /debian/) { print uri; exit } }')
  if [[ -z $uri ]]; then
    uri=$(awk '$1 == "deb" && $2 !~ /security/ && $2 ~ /debian/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  fi
  [[ -n $uri ]] || return 1
  echo "$uri"
}

# Makes the chroot when it is missing (into <root>.partial, renamed when complete, so an interrupted run never
# leaves a half-made chroot behind), and installs whatever of debian13_packages it lacks when it exists.
# Prints the reason and returns 1 when that cannot be done.
ensure_debian13_root() {
  if [[ ! -f $debian13_root/etc/berth-debian13-ready ]]; then
    command -v debootstrap >/dev/null || { echo "setup.sh: debootstrap is not installed"; return 1; }
    local mirror
    mirror=$(debian_mirror) || { echo "setup.sh: no Debian mirror found in this machine's apt sources"; return 1; }
    local include
    include=$(IFS=,; echo "${debian13_packages[*]}")
    echo "setup.sh: making the Debian 13 chroot in $debian13_root (debootstrap, a few minutes)"
    rm -rf "$debian13_root.partial"
    mkdir -p "$(dirname "$debian13_root")"
    if ! debootstrap --variant=minbase --include="$include" trixie "$debian13_root.partial" "$mirror" \
         > "$repo/debootstrap.log" 2>&1; then
      echo "setup.sh: debootstrap failed; the last lines of debootstrap.log:"
      tail -n 20 "$repo/debootstrap.log"
      return 1
    fi
    rm -f "$repo/debootstrap.log"
    touch "$debian13_root.partial/etc/berth-debian13-ready"
    rm -rf "$debian13_root"
    mv "$debian13_root.partial" "$debian13_root"
    return 0
  fi
  local missing=() package
  for package in "${debian13_packages[@]}"; do
    chroot "$debian13_root" dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed$' ||
      missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0
  echo "setup.sh: installing ${missing[*]} in the Debian 13 chroot"
  cp /etc/resolv.conf "$debian13_root/etc/resolv.conf"
  chroot "$debian13_root" env DEBIAN_FRONTEND=noninteractive apt-get update &&
    chroot "$debian13_root" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      "${missing[@]}" || { echo "setup.sh: apt-get in the Debian 13 chroot failed"; return 1; }
}

debian13_mounted=()
unmount_debian13() {
  local i
  for ((i = ${#debian13_mounted[@]} - 1; i >= 0; i--)); do
    umount -R -l "${debian13_mounted[i]}" 2>/dev/null || true
  done
  debian13_mounted=()
}

mount_debian13() {
  local target
  mkdir -p "$debian13_root$debian13_checkout"
  for target in proc dev "${debian13_checkout#/}"; do
    mountpoint -q "$debian13_root/$target" && umount -R -l "$debian13_root/$target"
  done
  mount -t proc proc "$debian13_root/proc" && debian13_mounted+=("$debian13_root/proc") &&
    mount --rbind /dev "$debian13_root/dev" && debian13_mounted+=("$debian13_root/dev") &&
    mount --bind "$repo" "$debian13_root$debian13_checkout" && debian13_mounted+=("$debian13_root$debian13_checkout")
}

# Runs the Debian 13 stages inside the chroot and adds their results to this run's.
stage_debian13() {
  begin_stage "Debian 13 chroot ($debian13_root)"
  if ((EUID != 0)); then
    echo "setup.sh: the Debian 13 stages need root (debootstrap, chroot, mount)"
    stage_failed=$((stage_failed + 1))
    end_stage "not run: needs root"
    return
  fi
  if ! ensure_debian13_root; then
    stage_failed=$((stage_failed + 1))
    end_stage "the chroot could not be made"
    return
  fi
  trap unmount_debian13 EXIT
  if ! mount_debian13; then
    echo "setup.sh: mounting into the Debian 13 chroot failed"
    unmount_debian13
    stage_failed=$((stage_failed + 1))
    end_stage "mount failed"
    return
  fi
  end_stage "made or checked in $((SECONDS - stage_start)) s"

  local log
  log=$(mktemp)
  chroot "$debian13_root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LANG=C.UTF-8 CI="${CI:-}" BERTH_JOBS="$jobs" BERTH_FUZZ_SECONDS="${BERTH_FUZZ_SECONDS:-30}" \
    bash "$debian13_checkout/tools/setup.sh" test-debian13-stages 2>&1 | tee "$log" || true
  unmount_debian13
  trap - EXIT

  # The inner run ends with its stage lines, each prefixed "stage: ", and its own "N passed, N failed".
  local line
  while IFS= read -r line; do stage_results+=("${line#stage: }"); done < <(grep '^stage: ' "$log")
  if read_counts "$log" ''; then
    total_passed=$((total_passed + counted_passed))
    total_failed=$((total_failed + counted_failed))
  else
    echo "setup.sh: the Debian 13 stages reported no results"
    total_failed=$((total_failed + 1))
    stage_results+=("Debian 13 stages: no results")
  fi
  rm -f "$log"
}

# Inside the chroot: g++ 14 with BoringSSL (every test), the net tests on OpenSSL 3.5, and the OSS-Fuzz build
# under clang 19 with each fuzzer run over its seed corpus.
debian13_stages() {
  stage_oss_fuzz_d13() {
    begin_stage "(g) Debian 13, clang 19: fuzz/oss-fuzz/build.sh, each fuzzer ${BERTH_FUZZ_SECONDS:-30} s"
    local log
    log=$(mktemp)
    CC=clang-19 CXX=clang++-19 bash "$repo/fuzz/run_oss_fuzz_build.sh" "${BERTH_FUZZ_SECONDS:-30}" 2>&1 |
      tee "$log" || true
    if read_counts "$log" 'fuzzers: '; then
      stage_passed=$((stage_passed + counted_passed))
      stage_failed=$((stage_failed + counted_failed))
    else
      stage_failed=$((stage_failed + 1))
    fi
    rm -f "$log"
    end_stage
  }
  local start=$SECONDS
  # No build type: -O0 without debug information, the cheapest build that proves the code on this toolchain.
  stage_all_tests "(e) Debian 13, g++ 14, -Werror: all tests (build-debian13/)" build-debian13 \
    -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE= -DBERTH_BUILD_BENCH=OFF
  stage_net_only "(f) Debian 13, g++ 14, OpenSSL 3.5: net tests (build-debian13-openssl/)" build-debian13-openssl \
    -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE= -DBERTH_SANITIZE= -DBERTH_TLS_BACKEND=OpenSSL
  stage_oss_fuzz_d13
  printf '\n==== Debian 13 summary (%d s) ====\n' "$((SECONDS - start))"
  printf 'stage: %s\n' "${stage_results[@]}"
  printf '%d passed, %d failed\n' "$total_passed" "$total_failed"
}

test_matrix() {
  install_missing_packages
  local start=$SECONDS
  stage_all_tests "(a) g++, RelWithDebInfo, -Werror: all tests (build/)" build \
    -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_BUILD_BENCH=ON
  stage_asan
  stage_net_only "(c) clang-14, TSan: net tests (build-tsan/)" build-tsan \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug -DBERTH_SANITIZE=thread -DBERTH_TLS_BACKEND=BoringSSL
  stage_net_only "(d) g++, OpenSSL 3.0, Asio's internals opted in: net tests (build-openssl/)" build-openssl \
    -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Debug -DBERTH_SANITIZE= -DBERTH_TLS_BACKEND=OpenSSL \
    -DBERTH_ASIO_INTERNALS=ON
  stage_debian13

  printf '\n==== summary (%d s) ====\n' "$((SECONDS - start))"
  printf '%s\n' "${stage_results[@]}"
  printf '%d passed, %d failed\n' "$total_passed" "$total_failed"
  ((total_failed == 0))
}

case ${1:-} in
  serve) shift; serve "$@" ;;
  test) [[ $# -eq 1 ]] || usage; test_matrix ;;
  test-debian13-stages) [[ $# -eq 1 ]] || usage; debian13_stages ;;   # run by `test` inside the chroot
  *) usage ;;
esac
