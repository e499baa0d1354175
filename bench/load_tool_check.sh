#!/usr/bin/env bash
# Checks that bench/berth_load does what docs/performance.md relies on, against the plain yardstick: one target
# gives the keys side_by_side.sh reads; several targets get connections in turns and each its own server CPU;
# wrong uses are refused. It measures nothing: CTest runs it (label "bench") in builds that have the bench tools.
#
# usage: bench/load_tool_check.sh BENCH_DIR   (the directory holding epoll_server and berth_load)
set -euo pipefail

bench_dir=${1:?usage: load_tool_check.sh BENCH_DIR}
load="$bench_dir/berth_load"
server="$bench_dir/epoll_server"
work=$(mktemp -d "${TMPDIR:-/tmp}/berth-load-check.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "load_tool_check: $*" >&2; exit 1; }

# start NAME: an epoll_server on a port of the OS's choosing; sets port and pid.
start() {
  : >"$work/$1.out"
  "$server" --port 0 >>"$work/$1.out" 2>"$work/$1.err" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/$1.out")
    [[ -n "$port" ]] && return 0
    sleep 0.05
  done
  fail "$1 did not start: $(cat "$work/$1.err")"
}

# field RESULT_LINE KEY: the value of KEY in a RESULT line, empty when absent.
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

start a; port_a=$port; pid_a=$pid
start b; port_b=$port; pid_b=$pid

# One target: the keys a run of one server has always had.
out=$(timeout 60 "$load" connect-rate --target "127.0.0.1:$port_a" --server-pid "$pid_a" --connections 300 \
        --seconds 20 --warmup 4) || fail "one target: berth_load failed: $out"
result=$(grep '^RESULT ' <<<"$out")
[[ $(field "$result" greeted) == 300 ]] || fail "one target: not 300 greeted: $result"
[[ -n $(field "$result" server_cpu_us_per_connection) ]] || fail "one target: no server CPU: $result"
[[ -z $(field "$result" target0_greeted) ]] || fail "one target: per-target keys in a one-target run: $result"

# Two targets, turns of 50: both served, the counts add up, each server sampled on its own.
out=$(timeout 60 "$load" connect-rate --target "127.0.0.1:$port_a" --server-pid "$pid_a" \
        --target "127.0.0.1:$port_b" --server-pid "$pid_b" --connections 400 --seconds 20 --turn 50 --warmup 4) ||
  fail "two targets: berth_load failed: $out"
result=$(grep '^RESULT ' <<<"$out")
greeted=$(field "$result" greeted)
first=$(field "$result" target0_greeted)
second=$(field "$result" target1_greeted)
[[ $greeted == 400 ]] || fail "two targets: not 400 greeted: $result"
(( first + second == greeted )) || fail "two targets: $first + $second is not $greeted"
(( first == 200 && second == 200 )) || fail "two targets: turns of 50 over 400 connections are not 200 each: $result"
for key in target0_server_cpu_us_per_connection target1_server_cpu_us_per_connection; do
  [[ -n $(field "$result" "$key") ]] || fail "two targets: no $key: $result"
done
grep -q "server CPU of 127.0.0.1:$port_b:" <<<"$out" || fail "two targets: no line for the second server: $out"

# Wrong uses: refused with the usage status.
refused() {
  local status=0
  timeout 10 "$load" "$@" >/dev/null 2>&1 || status=$?
  [[ $status == 2 ]] || fail "berth_load $* exited with $status, not 2"
}
refused hold --target "127.0.0.1:$port_a" --target "127.0.0.1:$port_b"
refused connect-rate --target "127.0.0.1:$port_a" --target "127.0.0.1:$port_b" --server-pid "$pid_a"
refused connect-rate --target "127.0.0.1:$port_a" --server-pid "$pid_a" --server-pid "$pid_b"
refused connect-rate --target "127.0.0.1:$port_a" --turn 0

echo "load_tool_check: berth_load passed"
