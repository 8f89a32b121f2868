#!/usr/bin/env bash
# The README's second command: set up, then run the whole test suite (unit, CLI, end-to-end) under CTest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$PIXAB_BUILD"
ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@"
