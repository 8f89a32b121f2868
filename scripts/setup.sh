#!/usr/bin/env bash
# Shared set-up of the README's two commands: installs the missing Debian packages (scripts/packages.txt), then
# configures (once) and builds pixab in Release mode into build/. Sourced by scripts/demo.sh and scripts/test.sh,
# and by scripts/fuzz.sh with PIXAB_SETUP_PACKAGES_ONLY=1.
set -euo pipefail

PIXAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PIXAB_BUILD=${PIXAB_BUILD:-$PIXAB_ROOT/build}

pixab_install_packages() {
  local wanted missing=()
  mapfile -t wanted < <(grep -Ev '^\s*(#|$)' "$PIXAB_ROOT/scripts/packages.txt")
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "pixab setup: installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "pixab setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

pixab_build() {
  if [ ! -f "$PIXAB_BUILD/CMakeCache.txt" ]; then
    cmake -S "$PIXAB_ROOT" -B "$PIXAB_BUILD" -DCMAKE_BUILD_TYPE=Release
  fi
  cmake --build "$PIXAB_BUILD" -j "$(nproc)"
}

# Open MPI refuses to run as root unless told that this is intended (containers, CI machines).
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

pixab_install_packages
# scripts/fuzz.sh wants the packages only: its build is a separate one (build-fuzz/, clang, no LibTorch).
[ -n "${PIXAB_SETUP_PACKAGES_ONLY:-}" ] || pixab_build
