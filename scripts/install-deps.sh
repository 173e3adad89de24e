#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs the Debian 12 packages Greygate needs to build, run and test. Idempotent:
# only missing packages are fetched, and nothing is installed when all are present.
# The packaging test needs dpkg-dev (dpkg-shlibdeps) and file for cpack -G DEB, and lintian.
set -euo pipefail

build_pkgs=(cmake ninja-build g++ pkg-config qt6-base-dev qt6-websockets-dev
            libqt6sql6-sqlite libsqlite3-dev sqlite3 qt6-charts-dev
            libgl-dev libqt6opengl6-dev libxkbcommon-dev clang-format libhiredis-dev
            libjemalloc-dev)
test_pkgs=(postfix swaks redis-server postgrey xvfb xauth procps iproute2 libclang-rt-14-dev clang faketime
           dpkg-dev file lintian dnsmasq-base)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
echo "greygate: installing missing packages: ${missing[*]}" >&2

# Packages such as postfix, redis-server and postgrey start system services on install;
# the tests run private instances instead, so keep the system ones from starting.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    made_policy=1
fi
cleanup() { [[ $made_policy -eq 1 ]] && $SUDO rm -f "$policy"; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    echo "greygate: apt-get install failed for: ${missing[*]}" >&2; exit 1; }
