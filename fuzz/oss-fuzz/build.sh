#!/bin/bash -eu
# OSS-Fuzz build script: compiles every fuzz/<name>_fuzzer.cpp with OSS-Fuzz's compiler, flags and fuzzing engine,
# and puts next to each fuzzer in $OUT its dictionary, its options and <name>_seed_corpus.zip (the checked-in
# seeds and regression inputs). berth is header-only: each fuzzer is one translation unit against include/,
# toml++ and nlohmann-json (from the system packages the Dockerfile installs).
#
# It reads only $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $SRC $OUT. The project is the checkout this script
# lives in (fuzz/oss-fuzz/build.sh inside it), or else $SRC/berth when OSS-Fuzz runs a copy from $SRC/build.sh.
# fuzz/run_oss_fuzz_build.sh runs it locally.

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -f "$script_dir/../../include/berth/version.hpp" ]; then
  project=$(cd "$script_dir/../.." && pwd)
else
  project=$SRC/berth
fi
fuzz_dir=$project/fuzz

# toml++ in header-only mode without exceptions, as berth's CMake package sets it (cmake/berthDependencies.cmake).
berth_flags="-std=c++20 -I$project/include -DTOML_HEADER_ONLY=1 -DTOML_EXCEPTIONS=0"

built=0
for source in "$fuzz_dir"/*_fuzzer.cpp; do
  name=$(basename "$source" .cpp)
  echo "building $name"
  # shellcheck disable=SC2086  # the flag variables are lists of words
  $CXX $CXXFLAGS $berth_flags "$source" -o "$OUT/$name" $LIB_FUZZING_ENGINE

  for extra in "$name.dict" "$name.options"; do
    if [ -f "$fuzz_dir/$extra" ]; then cp "$fuzz_dir/$extra" "$OUT/"; fi
  done

  # python3's zipfile rather than the zip tool, which the base image need not have.
  python3 - "$OUT/${name}_seed_corpus.zip" "$fuzz_dir/corpus/$name" "$fuzz_dir/regressions/$name" <<'PYTHON'
import sys
import zipfile
from pathlib import Path

archive, corpus, regressions = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
count = 0
with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
    for folder, prefix in ((corpus, ""), (regressions, "regression-")):
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                z.write(path, arcname=prefix + path.name)
                count += 1
print(f"  {Path(archive).name}: {count} inputs")
PYTHON
  built=$((built + 1))
done

if [ "$built" -eq 0 ]; then
  echo "no fuzz/*_fuzzer.cpp found under $project" >&2
  exit 1
fi
echo "built $built fuzzers into $OUT"
