#!/bin/bash
# Runs fuzz/oss-fuzz/build.sh here the way OSS-Fuzz's compile step runs it, with clang 14 and libFuzzer under
# AddressSanitizer and UndefinedBehaviorSanitizer, then runs every fuzzer it produced for a few seconds over its
# unpacked seed corpus (with its .options' max_len and dictionary), so that the OSS-Fuzz build is tested before
# it is submitted. Nothing in the checkout is written: the build output and the fuzzing work go to a temporary
# folder, removed at the end unless a fuzzer failed.
#
# usage: fuzz/run_oss_fuzz_build.sh [seconds-per-fuzzer]     (default 5)
#        CC and CXX may name other clang compilers (default clang-14, clang++-14).
# Exit status 0 when every fuzzer built and ran clean, 1 otherwise.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-5}

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-oss-fuzz.XXXXXX")
keep_work=0
cleanup() { if [ "$keep_work" -eq 0 ]; then rm -rf "$work"; fi; }
trap cleanup EXIT

# The variables OSS-Fuzz's compile step gives build.sh. -fno-sanitize=function only for clang 14, which cannot
# compile coroutines with it (see cmake/BerthCompilerFlags.cmake); OSS-Fuzz's newer clang keeps it on.
export CC=${CC:-clang-14}
export CXX=${CXX:-clang++-14}
sanitizers="-fsanitize=address,undefined -fno-sanitize-recover=all"
if "$CXX" --version | grep -q 'clang version 14\.'; then sanitizers+=" -fno-sanitize=function"; fi
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only $sanitizers -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
SRC=$(dirname "$repo")
export SRC
export OUT="$work/out"
mkdir -p "$OUT"

echo "== building with fuzz/oss-fuzz/build.sh into $OUT"
bash "$repo/fuzz/oss-fuzz/build.sh"

option() {  # option <file.options> <key>: a value of the [libfuzzer] section, or nothing
  if [ -f "$1" ]; then sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$1" | head -n 1; fi
}

passed_count=0
failed_count=0
for fuzzer in "$OUT"/*_fuzzer; do
  name=$(basename "$fuzzer")
  seeds="$work/seeds/$name"
  corpus="$work/corpus/$name"
  artifacts="$work/artifacts/$name"
  mkdir -p "$seeds" "$corpus" "$artifacts"
  if [ -f "$OUT/${name}_seed_corpus.zip" ]; then
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
      "$OUT/${name}_seed_corpus.zip" "$seeds"
  fi
  args=(-max_total_time="$seconds" -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/")
  max_len=$(option "$OUT/$name.options" max_len)
  dict=$(option "$OUT/$name.options" dict)
  if [ -n "$max_len" ]; then args+=(-max_len="$max_len"); fi
  if [ -n "$dict" ]; then args+=(-dict="$OUT/$dict"); fi

  echo "== $name: $(find "$seeds" -type f | wc -l) seeds, ${seconds}s"
  # The fresh work folder comes first: libFuzzer writes new inputs into its first corpus folder.
  if "$fuzzer" "${args[@]}" "$corpus" "$seeds" > "$work/$name.log" 2>&1; then
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$work/$name.log" | sed 's/^/   /'
    passed_count=$((passed_count + 1))
  else
    failed_count=$((failed_count + 1))
    keep_work=1
    echo "   FAILED; last lines of $work/$name.log:"
    tail -n 30 "$work/$name.log" | sed 's/^/   /'
  fi
done

echo "fuzzers: $passed_count passed, $failed_count failed"
if [ "$failed_count" -ne 0 ]; then
  echo "some fuzzers failed; their logs and crash inputs are in $work"
  exit 1
fi
echo "every fuzzer built by fuzz/oss-fuzz/build.sh ran clean"
