#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing, builds, and runs Greygate's main job. Until the console lands
# this is greygated as a Postfix policy server on 127.0.0.1:10023 with its state in
# ~/.local/share/greygate. Extra arguments go to greygated. Idempotent.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/install-deps.sh"
build="${GREYGATE_BUILD_DIR:-$here/build}"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target greygated
dbdir="${XDG_DATA_HOME:-$HOME/.local/share}/greygate"
mkdir -p "$dbdir"
exec "$build/bin/greygated" --inet=127.0.0.1:10023 --dbdir="$dbdir" "$@"
