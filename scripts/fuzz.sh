#!/usr/bin/env bash
# Fuzzes the dataset-file parsers (VOC XML, COCO JSON, list CSV): builds their libFuzzer targets with clang under
# AddressSanitizer and UndefinedBehaviorSanitizer in build-fuzz/, runs each for SECONDS (default 60, the three at
# once), and fails if any reports a crash, a leak, undefined behaviour, a timeout or running out of memory.
# Usage: scripts/fuzz.sh [SECONDS [TARGET...]]   (TARGET: voc_xml, coco_json, list_csv; default all three)
set -euo pipefail
PIXAB_SETUP_PACKAGES_ONLY=1 source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

seconds=${1:-60}
if [ $# -gt 0 ]; then shift; fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(voc_xml coco_json list_csv)
build=${PIXAB_FUZZ_BUILD:-$PIXAB_ROOT/build-fuzz}
seeds=$PIXAB_ROOT/tests/fuzz

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$PIXAB_ROOT" -B "$build" -DPIXAB_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
fi
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

# UBSan's report aborts the input (the build also sets -fno-sanitize-recover=all) and shows where it happened;
# ASan looks for leaks after every input, which libFuzzer turns into a finding.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1

# The corpus grows in build-fuzz/corpus/<target>/ (the first folder, the only one libFuzzer writes to) from the
# committed seeds; a finding's input goes to build-fuzz/findings/<target>/.
pids=()
for target in "${targets[@]}"; do
  rm -rf "$build/findings/$target"
  mkdir -p "$build/corpus/$target" "$build/findings/$target" "$build/logs"
  "$build/fuzz_$target" "$build/corpus/$target" "$seeds/corpus/$target" -dict="$seeds/$target.dict" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$target/" >"$build/logs/$target.log" 2>&1 &
  pids+=($!)
done

failed=0
for i in "${!targets[@]}"; do
  target=${targets[$i]}
  log=$build/logs/$target.log
  if wait "${pids[$i]}"; then
    echo "fuzz_$target: no finding in ${seconds} s ($(grep -o 'number_of_executed_units: *[0-9]*' "$log" |
      grep -o '[0-9]*$') inputs, $(ls "$build/corpus/$target" | wc -l) in the corpus)"
  else
    failed=1
    echo "fuzz_$target: FINDING (log: $log)"
    tail -n 60 "$log"
    for input in "$build/findings/$target"/*; do
      [ -e "$input" ] && echo "  reproduce: $build/fuzz_$target $input"
    done
  fi
done
exit $failed
