#!/usr/bin/env bash
# berth serve next to the two yardsticks (bench/epoll_server, bench/tls_epoll_server), measured with
# bench/berth_load in one run, with bench/example_server (the documented embedding: the caller's io_context, the
# public API, a coroutine handler) beside berth serve: rounds alternate between the servers, each server is pinned to one core and the
# load tool to another, and the result is one table of ratios. A second copy of each yardstick is measured the
# same way (an A/A comparison), so the table shows the noise floor next to the ratios. Interleaved rounds then
# load berth serve and both copies of a yardstick at once, a hundred connections to each in turn, so that all
# three are measured over the same seconds: on a machine whose speed drifts, the steadiest of the ratios. When
# the berth tool has no `serve` command, only the yardsticks run. docs/performance.md explains the method and
# the targets.
#
# usage: bench/side_by_side.sh [--build-dir DIR] [--no-build] [--rounds N] [--seconds S] [--concurrency C]
#                              [--hold-rounds N] [--hold-plain N] [--hold-tls N] [--hold-seconds S]
#
#   --build-dir DIR   the build to use (default: build/ in the repository, the one `tools/setup.sh serve` uses;
#                     configured as that does when it has no cache yet); the targets needed are built unless
#                     --no-build
#   --rounds N        alternating rounds of rate runs (default 5)
#   --seconds S       length of each rate run (default 2)
#   --concurrency C   connections in progress at once in the rate runs (default 8)
#   --hold-rounds N   rounds of idle-connection runs (default 2; memory varies much less than time)
#   --hold-plain N, --hold-tls N, --hold-seconds S
#                     idle connections held (default 2000 and 1000) and for how long (default 2)
#   --interleaved-rounds N
#                     rounds of interleaved rate runs (default 5; 0 skips them): one plain and one TLS run each,
#                     every run loading berth serve and both yardstick copies, --turn connections to each in turn
#   --turn N          connections to one server before the next one's turn in the interleaved runs (default 100:
#                     a few milliseconds; with turns of one connection the servers' switching on the shared core
#                     costs all of them alike and pulls the ratios towards 1)
#   --compare-berth PATH
#                     a second berth tool (another build: the BERTH_ASIO_INTERNALS opt-in, say), started like the
#                     first and loaded in the interleaved rounds as a fourth server; the table adds its CPU per
#                     connection and per handshake over the first berth's, measured over the same seconds
#   --core-rounds N   rounds of the multi-core comparison (default 3; 0 skips it): berth serve with
#                     --threads 2 and socket.reuse-port against --threads 1, neither pinned, plain connections at
#                     concurrency 4x --concurrency; reports the rate and the server CPU per connection
#
# berth serve runs as `berth serve CONFIG --threads 1` (one I/O thread, like the yardsticks) with a self-signed
# ECDSA P-256 certificate of its own making, the same kind the TLS yardstick makes. BERTH_SERVE_ARGS adds
# arguments (for example "--threads 2").
# BERTH_JOBS sets the build's parallelism (default 2). With the defaults the whole run, build excepted, takes
# about three minutes with berth serve and one without.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$repo/build"
do_build=1
rounds=5
seconds=2
hold_rounds=2
concurrency=8
hold_plain=2000
hold_tls=1000
hold_seconds=2
core_rounds=3
interleaved_rounds=5
turn=100
compare_berth=""

die() { echo "side_by_side: $*" >&2; exit 2; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 takes a positive whole number"; echo "$2"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) [[ $# -ge 2 ]] || die "--build-dir needs a directory"; build_dir=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --rounds) rounds=$(positive "$1" "${2:-}"); shift 2 ;;
    --seconds) seconds=$(positive "$1" "${2:-}"); shift 2 ;;
    --concurrency) concurrency=$(positive "$1" "${2:-}"); shift 2 ;;
    --hold-rounds) hold_rounds=$(positive "$1" "${2:-}"); shift 2 ;;
    --hold-plain) hold_plain=$(positive "$1" "${2:-}"); shift 2 ;;
    --hold-tls) hold_tls=$(positive "$1" "${2:-}"); shift 2 ;;
    --hold-seconds) hold_seconds=$(positive "$1" "${2:-}"); shift 2 ;;
    --core-rounds) [[ "${2:-}" =~ ^[0-9]+$ ]] || die "--core-rounds takes a whole number"; core_rounds=$2; shift 2 ;;
    --interleaved-rounds) [[ "${2:-}" =~ ^[0-9]+$ ]] || die "--interleaved-rounds takes a whole number"
      interleaved_rounds=$2; shift 2 ;;
    --turn) turn=$(positive "$1" "${2:-}"); shift 2 ;;
    --compare-berth) [[ $# -ge 2 && -x "$2" ]] || die "--compare-berth needs an executable berth tool"
      compare_berth=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
(( rounds <= 20 && hold_rounds <= 20 && core_rounds <= 20 && interleaved_rounds <= 20 && seconds <= 60 &&
   hold_seconds <= 60 )) ||
  die "at most 20 rounds of 60 seconds: keep it bounded"

# ---- build ----
berth_built=1
if (( do_build )); then
  if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
    echo "== configuring $build_dir (g++, RelWithDebInfo: what tools/setup.sh serve builds)"
    cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  log="$build_dir/side_by_side-build.log"
  echo "== building the yardsticks and the load tool in $build_dir"
  cmake --build "$build_dir" -j "${BERTH_JOBS:-2}" --target bench_epoll_server bench_tls_epoll_server bench_berth_load \
    bench_example_server \
    >"$log" 2>&1 || die "the build failed (it needs BERTH_BUILD_BENCH=ON and BERTH_NET=ON): $(tail -5 "$log")"
  echo "== building the berth tool"
  # Not fatal: without the tool, or while it does not build, the yardsticks still run.
  if ! cmake --build "$build_dir" -j "${BERTH_JOBS:-2}" --target berth >>"$log" 2>&1; then
    berth_built=0
    echo "   the berth tool did not build (see $log)"
  fi
fi
epoll_server="$build_dir/bench/epoll_server"
tls_server="$build_dir/bench/tls_epoll_server"
load="$build_dir/bench/berth_load"
example_server="$build_dir/bench/example_server"
berth="$build_dir/berth"
for tool in "$epoll_server" "$tls_server" "$load" "$example_server"; do
  [[ -x "$tool" ]] || die "$tool is missing (build the bench_* targets, or drop --no-build)"
done

build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
case "$build_type" in
  Release|RelWithDebInfo) ;;
  *) echo "side_by_side: warning: $build_dir is a '${build_type:-unknown}' build; the ratios of unoptimised code say little" ;;
esac

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-side-by-side.XXXXXX")
pids=()
stop_servers() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap 'stop_servers; rm -rf "$work"' EXIT
# A signal ends bash without the EXIT trap unless it is trapped itself; Ctrl-C, a timeout or a closed pipe must
# still stop the servers.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE
# Holding thousands of connections needs descriptors; the servers inherit this limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---- cores: the servers on the last CPU, the load tool on the first ----
cpus=$(nproc)
if (( cpus >= 2 )) && command -v taskset >/dev/null; then
  server_pin=(taskset -c "$((cpus - 1))")
  client_pin=(taskset -c 0)
  pinning="servers on CPU $((cpus - 1)), load tool on CPU 0"
else
  server_pin=()
  client_pin=()
  pinning="not pinned (needs taskset and 2 CPUs): expect more noise"
fi

# ---- servers ----
# start_yardstick NAME PROGRAM [ARGS...]: starts it, waits for its "listening on" line; sets started_pid and
# started_port. The example server is started this way too.
start_yardstick() {
  local name=$1 program=$2
  shift 2
  : >"$work/$name.out"  # exists before the line is looked for: the background child opens it only later
  "${server_pin[@]}" "$program" "$@" >>"$work/$name.out" 2>"$work/$name.err" &
  started_pid=$!
  pids+=("$started_pid")
  for _ in $(seq 100); do
    started_port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/$name.out")
    [[ -n "$started_port" ]] && return 0
    kill -0 "$started_pid" 2>/dev/null || break
    sleep 0.1
  done
  die "$name did not start: $(tail -3 "$work/$name.err")"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 10000))
    port_in_use "$port" || { echo "$port"; return 0; }
  done
  die "found no free port"
}

serve_available=0
serve_note="no berth tool in $build_dir"
if (( ! berth_built )); then
  serve_note="the berth tool did not build"
elif [[ -x "$berth" ]]; then
  if "$berth" serve --help >/dev/null 2>&1; then
    serve_available=1
  else
    serve_note="this berth tool has no 'serve' command yet"
  fi
fi

serve_args="--threads 1 ${BERTH_SERVE_ARGS:-}"

# start_berth NAME [PIN] [ARGS] [TOML] [TOOL]: berth serve with a plain SMTP listener and an implicit-TLS one
# (berth's defaults otherwise, plus the TOML lines given for both); PIN "pin" (the default) runs it on the servers'
# CPU, ARGS replaces "$serve_args", TOOL replaces "$berth" (the --compare-berth build). Sets started_pid,
# plain_port, tls_port. Returns 1 (the reason is in NAME.err) when it does not come up.
start_berth() {
  local name=$1 pin=${2:-pin} args=${3:-$serve_args} extra=${4:-} tool=${5:-$berth}
  local pin_command=("${server_pin[@]}")
  [[ $pin == pin ]] || pin_command=()
  plain_port=$(free_port)
  tls_port=$(free_port)
  while [[ "$tls_port" == "$plain_port" ]]; do tls_port=$(free_port); done
  cat >"$work/$name.toml" <<EOF
[server.listener.bench-plain]
bind = ["127.0.0.1:$plain_port"]
protocol = "smtp"
tls.enable = false
$extra

[server.listener.bench-tls]
bind = ["127.0.0.1:$tls_port"]
protocol = "smtp"
tls.implicit = true
$extra
EOF
  # shellcheck disable=SC2086  # args is a list of words
  "${pin_command[@]}" "$tool" serve "$work/$name.toml" $args >"$work/$name.out" 2>"$work/$name.err" &
  started_pid=$!
  pids+=("$started_pid")
  for _ in $(seq 150); do
    if port_in_use "$plain_port" && port_in_use "$tls_port"; then return 0; fi
    kill -0 "$started_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# ---- measuring ----
# measure KEY PORT PID MODE [ARGS...]: one berth_load run in round $round; appends "KEY ROUND RESULT..." to
# $work/results.
measure() {
  local key=$1 port=$2 pid=$3 mode=$4
  shift 4
  local out
  local pin_command=("${client_pin[@]}")
  [[ ${measure_unpinned:-0} == 1 ]] && pin_command=()
  out=$(timeout --kill-after=5 $((seconds + hold_seconds + 90)) "${pin_command[@]}" "$load" "$mode" \
          --target "127.0.0.1:$port" --server-pid "$pid" "$@" 2>&1) || {
    echo "   $key: berth_load failed:"; tail -6 <<<"$out" | sed 's/^/     /'
    return 0
  }
  echo "$key $round $(grep '^RESULT ' <<<"$out" | tail -1)" >>"$work/results"
  printf '   %-16s %s\n' "$key" "$(grep -E 'server CPU:|server RSS:|negotiated:' <<<"$out" | sed 's/^ *//' | paste -sd ';' -)"
}

# measure_interleaved MODE "KEY PORT PID"...: one berth_load run loading every server given at once, --turn
# connections to each in turn, in round $round; appends "interleaved-KEY ROUND RESULT..." per server to
# $work/results, with the fields each server has in a run of its own.
measure_interleaved() {
  local mode=$1
  shift
  local keys=() targets=() names=() run key port pid out result i
  for run in "$@"; do
    read -r key port pid <<<"$run"
    keys+=("$key")
    targets+=(--target "127.0.0.1:$port" --server-pid "$pid")
    names+=(-e "s/of 127\.0\.0\.1:$port:/of $key:/")
  done
  out=$(timeout --kill-after=5 $((seconds + 90)) "${client_pin[@]}" "$load" "$mode" "${targets[@]}" \
          "${rate_args[@]}" --turn "$turn" 2>&1) || {
    echo "   interleaved ${keys[*]}: berth_load failed:"; tail -6 <<<"$out" | sed 's/^/     /'
    return 0
  }
  result=$(grep '^RESULT ' <<<"$out" | tail -1)
  for i in "${!keys[@]}"; do
    echo "interleaved-${keys[$i]} $round $(tr ' ' '\n' <<<"$result" | sed -n "s/^target${i}_//p" | paste -sd ' ' -)" \
      >>"$work/results"
  done
  grep -E 'server CPU of' <<<"$out" | sed "${names[@]}" -e 's/^ */   /'
}

# ratios NUMERATOR DENOMINATOR [DENOMINATOR2] FIELD: NUMERATOR's FIELD over DENOMINATOR's in each round (over
# the mean of both denominators' when two are given), as "median (min-max, N rounds)".
ratios() {
  local num=$1 den=$2 den2="" field
  if (($# == 4)); then den2=$3; field=$4; else field=$3; fi
  awk -v num="$num" -v den="$den" -v den2="$den2" -v field="$field" '
    function get(    i, kv) { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == field) return kv[2] } return "" }
    $1 == num { a[$2] = get() }
    $1 == den { b[$2] = get() }
    den2 != "" && $1 == den2 { c[$2] = get() }
    END {
      if (den2 != "") for (round in b) { if ((round in c) && c[round] != "") b[round] = (b[round] + c[round]) / 2; else delete b[round] }
      for (round in a) if ((round in b) && b[round] > 0 && a[round] != "") r[n++] = a[round] / b[round]
      if (n == 0) { print "n/a"; exit }
      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
      median = n % 2 ? r[int(n / 2)] : (r[n / 2 - 1] + r[n / 2]) / 2
      printf "%.3f (%.3f-%.3f; n=%d)", median, r[0], r[n - 1], n
    }' "$work/results"
}

# median KEY FIELD: the median of KEY's FIELD over the rounds.
median() {
  awk -v key="$1" -v field="$2" '
    $1 == key { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == field) print kv[2] } }' "$work/results" |
    sort -g | awk '{ v[n++] = $1 } END { if (n == 0) { print "n/a"; exit } print (n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2) }'
}

: >"$work/results"
echo "== side by side: $rounds rounds of ${seconds}s, concurrency $concurrency; ${build_type:-unknown} build; $pinning"
if (( serve_available )); then
  echo "   berth serve: $berth serve CONFIG $serve_args"
else
  echo "   berth serve: not measured ($serve_note); the yardsticks only"
fi

# The rate runs: every server stays up for all rounds, and the order rotates from one round to the next.
start_yardstick epoll-a "$epoll_server"; epoll_a_pid=$started_pid; epoll_a_port=$started_port
start_yardstick epoll-b "$epoll_server"; epoll_b_pid=$started_pid; epoll_b_port=$started_port
start_yardstick tls-a "$tls_server"; tls_a_pid=$started_pid; tls_a_port=$started_port
start_yardstick tls-b "$tls_server"; tls_b_pid=$started_pid; tls_b_port=$started_port
start_yardstick example-plain "$example_server"; example_plain_pid=$started_pid; example_plain_port=$started_port
start_yardstick example-tls "$example_server" --tls; example_tls_pid=$started_pid; example_tls_port=$started_port
berth_up=0
if (( serve_available )); then
  if start_berth berth-rates; then
    berth_up=1; berth_pid=$started_pid; berth_plain=$plain_port; berth_tls=$tls_port
  else
    echo "   berth serve did not start listening within 15 s:"; tail -5 "$work/berth-rates.err" | sed 's/^/     /'
  fi
fi
other_up=0
if (( berth_up )) && [[ -n $compare_berth ]]; then
  if start_berth other-rates pin "$serve_args" "" "$compare_berth"; then
    other_up=1; other_pid=$started_pid; other_plain=$plain_port; other_tls=$tls_port
  else
    echo "   the second berth serve did not start listening within 15 s:"; tail -5 "$work/other-rates.err" | sed 's/^/     /'
  fi
fi

rate_args=(--seconds "$seconds" --concurrency "$concurrency")
for round in $(seq "$rounds"); do
  echo "-- round $round of $rounds: rates"
  plain_runs=("epoll-a $epoll_a_port $epoll_a_pid" "epoll-b $epoll_b_port $epoll_b_pid"
              "example-plain $example_plain_port $example_plain_pid")
  tls_runs=("tls-a $tls_a_port $tls_a_pid" "tls-b $tls_b_port $tls_b_pid" "example-tls $example_tls_port $example_tls_pid")
  if (( berth_up )); then
    plain_runs+=("berth-plain $berth_plain $berth_pid")
    tls_runs+=("berth-tls $berth_tls $berth_pid")
  fi
  for runs_name in plain_runs tls_runs; do
    declare -n runs=$runs_name
    count=${#runs[@]}
    for i in $(seq 0 $((count - 1))); do
      # round 1: a b berth; round 2: b berth a; round 3: berth a b; ...
      read -r key port pid <<<"${runs[$(((i + round - 1) % count))]}"
      if [[ $runs_name == plain_runs ]]; then measure "$key" "$port" "$pid" connect-rate "${rate_args[@]}"
      else measure "$key" "$port" "$pid" tls-rate "${rate_args[@]}"; fi
    done
    unset -n runs
  done
done
if (( berth_up )); then
  for round in $(seq "$interleaved_rounds"); do
    echo "-- round $round of $interleaved_rounds: interleaved rates"
    # The order of the targets rotates too, so that no server always starts the run.
    plain_runs=("berth-plain $berth_plain $berth_pid" "epoll-a $epoll_a_port $epoll_a_pid" "epoll-b $epoll_b_port $epoll_b_pid"
                "example-plain $example_plain_port $example_plain_pid")
    tls_runs=("berth-tls $berth_tls $berth_pid" "tls-a $tls_a_port $tls_a_pid" "tls-b $tls_b_port $tls_b_pid"
              "example-tls $example_tls_port $example_tls_pid")
    if (( other_up )); then
      plain_runs+=("other-plain $other_plain $other_pid")
      tls_runs+=("other-tls $other_tls $other_pid")
    fi
    first=$(((round - 1) % ${#plain_runs[@]}))
    measure_interleaved connect-rate "${plain_runs[@]:$first}" "${plain_runs[@]:0:$first}"
    measure_interleaved tls-rate "${tls_runs[@]:$first}" "${tls_runs[@]:0:$first}"
  done
fi
stop_servers

# The hold runs: a fresh server each time, so that memory freed by earlier connections cannot be reused and
# hide the growth.
for round in $(seq "$hold_rounds"); do
  echo "-- round $round of $hold_rounds: idle connections"
  start_yardstick hold-epoll "$epoll_server"
  measure hold-epoll "$started_port" "$started_pid" hold --connections "$hold_plain" --seconds "$hold_seconds"
  stop_servers
  start_yardstick hold-tls "$tls_server"
  measure hold-tls "$started_port" "$started_pid" hold --tls --connections "$hold_tls" --seconds "$hold_seconds"
  stop_servers
  start_yardstick hold-example-plain "$example_server"
  measure hold-example-plain "$started_port" "$started_pid" hold --connections "$hold_plain" --seconds "$hold_seconds"
  stop_servers
  start_yardstick hold-example-tls "$example_server" --tls
  measure hold-example-tls "$started_port" "$started_pid" hold --tls --connections "$hold_tls" \
    --seconds "$hold_seconds"
  stop_servers
  if (( berth_up )); then
    if start_berth berth-hold-plain; then
      measure hold-berth-plain "$plain_port" "$started_pid" hold --connections "$hold_plain" --seconds "$hold_seconds"
    else
      echo "   hold-berth-plain: berth serve did not start: $(tail -1 "$work/berth-hold-plain.err")"
    fi
    stop_servers
    if start_berth berth-hold-tls; then
      measure hold-berth-tls "$tls_port" "$started_pid" hold --tls --connections "$hold_tls" --seconds "$hold_seconds"
    else
      echo "   hold-berth-tls: berth serve did not start: $(tail -1 "$work/berth-hold-tls.err")"
    fi
    stop_servers
  fi
done

# The multi-core comparison: one server at a time, unpinned, so that two I/O threads can use both CPUs.
if (( berth_up && core_rounds > 0 )); then
  measure_unpinned=1
  for round in $(seq "$core_rounds"); do
    echo "-- round $round of $core_rounds: one I/O thread against two (socket.reuse-port)"
    for threads in 1 2; do
      if start_berth "berth-threads-$threads" unpinned "--threads $threads ${BERTH_SERVE_ARGS:-}" "socket.reuse-port = true"; then
        measure "threads-$threads" "$plain_port" "$started_pid" connect-rate --seconds "$seconds" \
          --concurrency $((concurrency * 4))
      else
        echo "   threads-$threads: berth serve did not start: $(tail -1 "$work/berth-threads-$threads.err")"
      fi
      stop_servers
    done
  done
  measure_unpinned=0
fi

# ---- the table ----
pending="pending (${serve_note})"
(( serve_available && ! berth_up )) && pending="berth serve did not start"
berth_or_pending() { if (( berth_up )); then "$@"; else echo "$pending"; fi; }
bytes() { local m; m=$(median "$1" server_rss_bytes_per_connection); [[ $m == n/a ]] && echo n/a || printf '%.0f B' "$m"; }

echo
echo "| measure (server side) | berth serve / yardstick: median (range) | example_server / yardstick | yardstick A/A: median (range) | target |"
echo "|---|---|---|---|---|"
echo "| CPU per plain connection, vs epoll_server | $(berth_or_pending ratios berth-plain epoll-a server_cpu_us_per_connection) | $(ratios example-plain epoll-a server_cpu_us_per_connection) | $(ratios epoll-b epoll-a server_cpu_us_per_connection) | <= 1.10 |"
echo "| CPU per TLS 1.3 handshake, vs tls_epoll_server | $(berth_or_pending ratios berth-tls tls-a server_cpu_us_per_handshake) | $(ratios example-tls tls-a server_cpu_us_per_handshake) | $(ratios tls-b tls-a server_cpu_us_per_handshake) | <= 1.10 |"
echo "| CPU per plain connection, vs the mean of both epoll_server copies | $(berth_or_pending ratios berth-plain epoll-a epoll-b server_cpu_us_per_connection) | $(ratios example-plain epoll-a epoll-b server_cpu_us_per_connection) | | <= 1.10 |"
echo "| CPU per TLS 1.3 handshake, vs the mean of both tls_epoll_server copies | $(berth_or_pending ratios berth-tls tls-a tls-b server_cpu_us_per_handshake) | $(ratios example-tls tls-a tls-b server_cpu_us_per_handshake) | | <= 1.10 |"
if (( interleaved_rounds > 0 )); then
  echo "| CPU per plain connection, interleaved, vs the mean of both epoll_server copies | $(berth_or_pending ratios interleaved-berth-plain interleaved-epoll-a interleaved-epoll-b server_cpu_us_per_connection) | $(berth_or_pending ratios interleaved-example-plain interleaved-epoll-a interleaved-epoll-b server_cpu_us_per_connection) | $(berth_or_pending ratios interleaved-epoll-b interleaved-epoll-a server_cpu_us_per_connection) | <= 1.10 |"
  echo "| CPU per TLS 1.3 handshake, interleaved, vs the mean of both tls_epoll_server copies | $(berth_or_pending ratios interleaved-berth-tls interleaved-tls-a interleaved-tls-b server_cpu_us_per_handshake) | $(berth_or_pending ratios interleaved-example-tls interleaved-tls-a interleaved-tls-b server_cpu_us_per_handshake) | $(berth_or_pending ratios interleaved-tls-b interleaved-tls-a server_cpu_us_per_handshake) | <= 1.10 |"
fi
if (( other_up && interleaved_rounds > 0 )); then
  echo
  echo "| the second berth ($compare_berth) over the first, interleaved | median (range) |"
  echo "|---|---|"
  echo "| CPU per plain connection | $(ratios interleaved-other-plain interleaved-berth-plain server_cpu_us_per_connection) |"
  echo "| CPU per TLS 1.3 handshake | $(ratios interleaved-other-tls interleaved-berth-tls server_cpu_us_per_handshake) |"
fi
echo
echo "| memory per idle connection (VmRSS growth, median of $hold_rounds) | berth serve | example_server | yardstick | target |"
echo "|---|---|---|---|---|"
echo "| plain ($hold_plain connections) | $(berth_or_pending bytes hold-berth-plain) | $(bytes hold-example-plain) | $(bytes hold-epoll) | <= 2 KB |"
echo "| TLS 1.3 ($hold_tls connections) | $(berth_or_pending bytes hold-berth-tls) | $(bytes hold-example-tls) | $(bytes hold-tls) | <= 8 KB |"
if (( berth_up && core_rounds > 0 )); then
  echo
  echo "| berth serve, plain connections, nothing pinned | --threads 2 / --threads 1: median (range) |"
  echo "|---|---|"
  echo "| connections per second (the client's limit on this machine) | $(ratios threads-2 threads-1 rate_per_s) |"
  echo "| server CPU per connection | $(ratios threads-2 threads-1 server_cpu_us_per_connection) |"
  echo "| server CPU in all | $(ratios threads-2 threads-1 server_cpu_s) |"
fi
echo
echo "Ratios are per round (adjacent runs), so machine load shared by both sides cancels; the A/A column is the"
echo "noise floor: two copies of the same yardstick should read 1.000. The rows against the mean of both copies"
echo "divide by the mean of the round's two yardstick runs, which halves the yardstick's share of the noise."
if (( interleaved_rounds > 0 )); then
  echo "The interleaved rows come from runs that load the servers at once (berth serve, example_server, both"
  echo "yardstick copies, and the second berth with --compare-berth), $turn connections to each in"
  echo "turn: every ratio compares the same seconds, so the machine's drift cancels almost entirely."
fi
