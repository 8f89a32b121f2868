#!/usr/bin/env bash
# The whole paper from one command on a Slurm cluster: submits one job per experiment through slurm/pixab.sbatch
# (the four natural datasets, the sanity check, DAP1, DAP2 and the Pixab-CAM design study on DAP1 and DAP2), then
# a report job that starts once all of them have ended well (--dependency=afterok) and writes the paper's tables
# from their files into $PIXAB_RESULTS/paper-tables.md (and its job output).
#
#   PIXAB_MODEL=models/inception_v3.pt PIXAB_IMAGENET=/data/ILSVRC2012 PIXAB_VOC=/data/VOCdevkit/VOC2007 \
#   PIXAB_COCO=/data/coco PIXAB_MOD=/data/mod.csv slurm/reproduce-paper.sh
#   slurm/reproduce-paper.sh --demo        # the same jobs on the embedded demo model and data (a try-out)
#
# Environment:
#   PIXAB_MODEL, PIXAB_IMAGENET, PIXAB_VOC, PIXAB_COCO, PIXAB_MOD   the paper's model and datasets (docs/slurm.md)
#   PIXAB_DEMO_MODEL, PIXAB_DEMO_DATA   --demo's model and data (default build/demo/, made by scripts/demo.sh)
#   PIXAB_RESULTS      where the results files and the tables go (default results/paper, results/paper-demo)
#   PIXAB_SBATCH_ARGS  more sbatch options for every job (partition, account, GPUs per node, time), split on spaces
#   PIXAB_RUN_ARGS     more `pixab run` options for every experiment (e.g. --device cuda), split on spaces
#   PIXAB              the pixab executable (default: pixab on PATH, else build/pixab here)
# Prints one line per submitted job ("submitted NAME as job ID") and the report job's id.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sbatch_script=$root/slurm/pixab.sbatch
demo=no
case "${1:-}" in
  --demo) demo=yes ;;
  "") ;;
  *) echo "usage: slurm/reproduce-paper.sh [--demo]" >&2; exit 1 ;;
esac

export PIXAB=${PIXAB:-$(command -v pixab || echo "$root/build/pixab")}
read -r -a sbatch_args <<<"${PIXAB_SBATCH_ARGS:-}"
read -r -a run_args <<<"${PIXAB_RUN_ARGS:-}"

need() {  # need VARIABLE WHAT: the variable's value, or a clear refusal
  [ -n "${!1:-}" ] || { echo "reproduce-paper.sh: set $1 to $2 (or try --demo)" >&2; exit 1; }
  echo "${!1}"
}

# One line per experiment: name, config, then its own `pixab run` options ("@MODEL", "@IMAGENET", ... are
# replaced by the paths above). Every experiment writes $results/<name>.h5.
if [ "$demo" = yes ]; then
  model=${PIXAB_DEMO_MODEL:-$root/build/demo/demo-model.pt}
  data=${PIXAB_DEMO_DATA:-$root/build/demo/demo-data}
  results=${PIXAB_RESULTS:-results/paper-demo}
  [ -f "$model" ] && [ -d "$data" ] || { echo "reproduce-paper.sh --demo: run scripts/demo.sh first" >&2; exit 1; }
  experiments=(
    "demo configs/demo.toml --dataset.root $data"
    "sanity configs/sanity.toml --dataset.root $data"
    "dap1 configs/dap1.toml --dataset.root $data"
    "dap2 configs/dap2.toml"
    "design-dap1 configs/pixab-design-study.toml --task dap1 --dataset.root $data"
    "design-dap2 configs/pixab-design-study.toml --task dap2"
  )
else
  model=$(need PIXAB_MODEL "the Inception V3 of tools/export_model.py")
  imagenet=$(need PIXAB_IMAGENET "the ILSVRC2012 folder")
  voc=$(need PIXAB_VOC "the VOC2007 folder")
  coco=$(need PIXAB_COCO "the COCO 2014 folder")
  mod=$(need PIXAB_MOD "the multi-object list or folder")
  results=${PIXAB_RESULTS:-results/paper}
  # The sanity check and the adversarial examples start from ImageNet validation images (the paper: 500 AE1s).
  on_imagenet="--dataset.kind imagenet --dataset.root $imagenet --dataset.split val --dataset.label IMGN"
  experiments=(
    "imgn configs/imagenet.toml --dataset.root $imagenet"
    "voc configs/voc.toml --dataset.root $voc"
    "coco configs/coco.toml --dataset.root $coco"
    "mod configs/mod.toml --dataset.root $mod"
    "sanity configs/sanity.toml $on_imagenet --dataset.sample 1000"
    "dap1 configs/dap1.toml $on_imagenet --dataset.sample 500"
    "dap2 configs/dap2.toml --adversarial.count 500"
    "design-dap1 configs/pixab-design-study.toml --task dap1 $on_imagenet --dataset.sample 500"
    "design-dap2 configs/pixab-design-study.toml --task dap2 --adversarial.count 500"
  )
fi
mkdir -p "$results"
results=$(cd "$results" && pwd)

job_ids=()
files=()
for experiment in "${experiments[@]}"; do
  read -r -a words <<<"$experiment"
  name=${words[0]}
  config=$root/${words[1]}
  out=$results/$name.h5
  # The adversarial tasks leave attack_failed rows (exit 2) by design: they count in the report's attack success
  # rate, so such a run ends COMPLETED and the report's afterok holds.
  # The run's options go on the command line; the job must not find others in the environment it inherits.
  job_id=$(PIXAB_ACCEPT_ITEM_ERRORS=1 PIXAB_RUN_ARGS="" PIXAB_OUT="" PIXAB_LOG_DIR="" PIXAB_CONFIG="" \
    sbatch --parsable --job-name="pixab-$name" ${sbatch_args[@]+"${sbatch_args[@]}"} \
    "$sbatch_script" "$config" --model "$model" "${words[@]:2}" --out "$out" ${run_args[@]+"${run_args[@]}"})
  job_id=${job_id%%;*}
  echo "submitted $name as job $job_id ($out)"
  job_ids+=("$job_id")
  files+=("$out")
done

dependency=afterok$(printf ':%s' "${job_ids[@]}")
tables=$results/paper-tables.md
report_id=$(sbatch --parsable --job-name=pixab-report --dependency="$dependency" --kill-on-invalid-dep=yes \
  ${sbatch_args[@]+"${sbatch_args[@]}"} --ntasks=1 --ntasks-per-node=1 --output="pixab-report-%j.out" \
  --wrap="$(printf '%q ' "$PIXAB" report "${files[@]}" --out "$tables") && cat $(printf '%q' "$tables")")
report_id=${report_id%%;*}
echo "report job $report_id runs after ${job_ids[*]} and writes $tables"
