#!/usr/bin/env bash
# The README's first command: set up, prepare the demo model and dataset once (cached in build/demo/), run the demo
# job (configs/demo.toml) into results/demo.h5 and the sanity check (configs/sanity.toml, first 20 items) into
# results/demo-sanity.h5, print the paper's tables for them and draw figures; then every method (the paper's seven
# and the nine beyond it) on the first 40 items into results/demo-every.h5, with its tables and figures.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$PIXAB_ROOT"

PIXAB="$PIXAB_BUILD/pixab"
DEMO_DIR="$PIXAB_BUILD/demo"
mkdir -p "$DEMO_DIR" results

if [ ! -f "$DEMO_DIR/demo-model.pt" ]; then
  "$PIXAB" demo-model --out "$DEMO_DIR/demo-model.pt"
fi
if [ ! -f "$DEMO_DIR/demo-data/ImageSets/Main/test.txt" ]; then
  "$PIXAB" demo-data --out "$DEMO_DIR/demo-data"
fi

# Two MPI ranks claim the demo's chunks between them (one thread each on this 2-core default). --overwrite
# replaces a results file left by an earlier demo with another model; an identical one is left as it is.
status=0
mpirun -n 2 --oversubscribe "$PIXAB" run --config configs/demo.toml --model "$DEMO_DIR/demo-model.pt" \
  --dataset.root "$DEMO_DIR/demo-data" --out results/demo.h5 --overwrite || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
  exit "$status"
fi
"$PIXAB" run --config configs/sanity.toml --model "$DEMO_DIR/demo-model.pt" --dataset.root "$DEMO_DIR/demo-data" \
  --out results/demo-sanity.h5 --limit 20 --overwrite || { rc=$?; [ "$rc" -eq 2 ] || exit "$rc"; }  # 2: item errors
"$PIXAB" report results/demo.h5 results/demo-sanity.h5 | tee results/demo-report.md
"$PIXAB" render results/demo.h5 --out results/figures --items 4
"$PIXAB" render results/demo-sanity.h5 --out results/figures --items 2
mpirun -n 2 --oversubscribe "$PIXAB" run --config configs/demo.toml --model "$DEMO_DIR/demo-model.pt" \
  --dataset.root "$DEMO_DIR/demo-data" --methods every --limit 40 --out results/demo-every.h5 --overwrite \
  || { rc=$?; [ "$rc" -eq 2 ] || exit "$rc"; }
"$PIXAB" report results/demo-every.h5 | tee results/demo-every-report.md
"$PIXAB" render results/demo-every.h5 --out results/figures-every --items 2
echo "Results: results/demo.h5 and results/demo-sanity.h5 (tables: results/demo-report.md; figures of the first"
echo "items, deletion/insertion curves and the sanity check: results/figures/); every method on 40 items:"
echo "results/demo-every.h5 (tables: results/demo-every-report.md; figures: results/figures-every/)"
exit "$status"
