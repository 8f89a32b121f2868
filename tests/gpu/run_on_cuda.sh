#!/usr/bin/env bash
# GPU.*: runs the given pixab command line on CUDA when this build and machine have a CUDA device; otherwise
# exits 77, which CTest reports as skipped (tests never depend on a GPU).
set -uo pipefail
output=$("$@" 2>&1)
status=$?
if printf '%s\n' "$output" | grep -q "has no CUDA device"; then
  echo "skipped: no CUDA device in this LibTorch build or machine"
  exit 77
fi
printf '%s\n' "$output" | tail -20
exit "$status"
