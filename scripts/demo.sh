#!/usr/bin/env bash
# The README's first command: set up, prepare the demo model and dataset once (cached in build/demo/), run the demo
# job (configs/demo.toml) into results/demo.h5 and the sanity check (configs/sanity.toml, first 20 items) into
# results/demo-sanity.h5, the adversarial-patch tasks (configs/dap1.toml on the first 40 images into
# results/demo-dap1.h5, configs/dap2.toml on 20 zero canvases into results/demo-dap2.h5), print the paper's tables
# for the four files (Tables 1-6) and draw figures; then every method (the paper's seven and the nine beyond it) on
# the first 40 items into results/demo-every.h5, with its tables and figures.
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
# Adversarial patches: AE1s (patches pasted into the images) and AE2s (patches alone on zero canvases, one row per
# patch). An attack that does not reach its class leaves an attack_failed row (exit 2), counted in the report's
# attack success rate.
"$PIXAB" run --config configs/dap1.toml --model "$DEMO_DIR/demo-model.pt" --dataset.root "$DEMO_DIR/demo-data" \
  --out results/demo-dap1.h5 --limit 40 --overwrite || { rc=$?; [ "$rc" -eq 2 ] || exit "$rc"; }
"$PIXAB" run --config configs/dap2.toml --model "$DEMO_DIR/demo-model.pt" --out results/demo-dap2.h5 --limit 20 \
  --overwrite || { rc=$?; [ "$rc" -eq 2 ] || exit "$rc"; }
"$PIXAB" report results/demo.h5 results/demo-sanity.h5 results/demo-dap1.h5 results/demo-dap2.h5 \
  | tee results/demo-report.md
"$PIXAB" render results/demo.h5 --out results/figures --items 4
"$PIXAB" render results/demo-sanity.h5 --out results/figures --items 2
"$PIXAB" render results/demo-dap2.h5 --out results/figures-dap --items 3
mpirun -n 2 --oversubscribe "$PIXAB" run --config configs/demo.toml --model "$DEMO_DIR/demo-model.pt" \
  --dataset.root "$DEMO_DIR/demo-data" --methods every --limit 40 --out results/demo-every.h5 --overwrite \
  || { rc=$?; [ "$rc" -eq 2 ] || exit "$rc"; }
"$PIXAB" report results/demo-every.h5 | tee results/demo-every-report.md
"$PIXAB" render results/demo-every.h5 --out results/figures-every --items 2
echo "Results: results/demo.h5, results/demo-sanity.h5, results/demo-dap1.h5 and results/demo-dap2.h5 (tables 1-6:"
echo "results/demo-report.md; figures of the first items, deletion/insertion curves and the sanity check:"
echo "results/figures/; adversarial patches (AE2): results/figures-dap/); every method on 40 items:"
echo "results/demo-every.h5 (tables: results/demo-every-report.md; figures: results/figures-every/)"
exit "$status"
