#!/usr/bin/env bash
# Checks that a change leaves every result as it was: builds BASE (a git revision, default origin/main or main)
# in build-base/ (or uses PIXAB_BASE_BIN), runs it and the current build/pixab on the same demo model and data,
# and compares the results files dataset by dataset and attribute by attribute (tests/mpi/compare_results.py:
# values with NaN in the same places, dtypes, shapes, strings; run provenance such as time and hosts aside).
# Runs the demo job (configs/demo.toml: every method and metric), the sanity check (configs/sanity.toml) and a
# run that stores channel weights and Pixab-CAM's D and R. Usage: scripts/check-same-results.sh [BASE] [ITEMS]
# (ITEMS: items per run, default 64; 0: the whole demo dataset). PIXAB_KEEP_BASE=1 reuses the base results of an
# earlier call. Exit 0 when every pair is the same.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$PIXAB_ROOT"

BASE=${1:-main}
ITEMS=${2:-64}
WORK=$PIXAB_BUILD/same-results
mkdir -p "$WORK"

if [ -n "${PIXAB_BASE_BIN:-}" ]; then
  BASE_BIN=$PIXAB_BASE_BIN
else
  BASE_SRC=$WORK/base-src
  rm -rf "$BASE_SRC"
  git worktree prune
  git worktree add --detach "$BASE_SRC" "$BASE" >/dev/null
  trap 'git worktree remove --force "$BASE_SRC" >/dev/null 2>&1 || true' EXIT
  cmake -S "$BASE_SRC" -B "$PIXAB_ROOT/build-base" -DCMAKE_BUILD_TYPE=Release -DPIXAB_BUILD_TESTS=OFF >/dev/null
  cmake --build "$PIXAB_ROOT/build-base" -j "$(nproc)" --target pixab
  BASE_BIN=$PIXAB_ROOT/build-base/pixab
fi
NEW_BIN=$PIXAB_BUILD/pixab

# One model and one dataset for both: the comparison is of the code, not of two trainings.
[ -f "$WORK/model.pt" ] || "$BASE_BIN" demo-model --out "$WORK/model.pt" --epochs 1 --train_items 4000
[ -f "$WORK/data/ImageSets/Main/test.txt" ] || "$BASE_BIN" demo-data --out "$WORK/data"

status=0
compare_run() {  # NAME, then the run's arguments
  local name=$1
  shift
  for side in base new; do
    local bin=$BASE_BIN
    [ "$side" = new ] && bin=$NEW_BIN
    [ "$side" = base ] && [ -n "${PIXAB_KEEP_BASE:-}" ] && [ -f "$WORK/$name-base.h5" ] && continue
    rm -rf "$WORK/$name-$side.h5" "$WORK/$name-$side.h5.parts" "$WORK/$name-$side.h5.lock"
    "$bin" run --model "$WORK/model.pt" --dataset.root "$WORK/data" --out "$WORK/$name-$side.h5" \
      --limit "$ITEMS" --threads 1 "$@" >"$WORK/$name-$side.log" 2>&1 || {
      rc=$?
      [ "$rc" -eq 2 ] || { echo "$name ($side) failed with exit $rc: $WORK/$name-$side.log" >&2; status=1; return; }
    }
  done
  /usr/bin/python3 tests/mpi/compare_results.py "$WORK/$name-base.h5" "$WORK/$name-new.h5" || status=1
}

compare_run demo --config configs/demo.toml
compare_run sanity --config configs/sanity.toml --sanity.stages 3
compare_run stored --config configs/demo.toml --metrics none --store_weights --store_pixab_maps \
  --methods grad_cam,score_cam,pixab_cam
exit "$status"
