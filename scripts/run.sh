#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing, builds, and runs Greygate: the desktop console with its bundled
# engine (greygated's engine in-process: Postfix policy service on 127.0.0.1:10023, state in
# ~/.local/share/greygate, control API on an ephemeral loopback port the console finds
# itself). Extra arguments go to the console (greygate --help).
#   scripts/run.sh                     the console with its bundled engine
#   scripts/run.sh --daemon-only ...   greygated alone, as a Postfix policy server
# Without a display (no $DISPLAY or $WAYLAND_DISPLAY) the console runs offscreen
# (QT_QPA_PLATFORM=offscreen): the bundled engine serves Postfix, nothing is shown.
# Idempotent: installs only what is missing, rebuilds only what changed.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/install-deps.sh"
build="${GREYGATE_BUILD_DIR:-$here/build}"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
dbdir="${XDG_DATA_HOME:-$HOME/.local/share}/greygate"
mkdir -p "$dbdir"

if [[ "${1:-}" == "--daemon-only" ]]; then
    shift
    cmake --build "$build" -j2 --target greygated
    exec "$build/bin/greygated" --inet=127.0.0.1:10023 --dbdir="$dbdir" "$@"
fi

cmake --build "$build" -j2 --target greygate
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" && -z "${QT_QPA_PLATFORM:-}" ]]; then
    echo "greygate: no display; running offscreen (the bundled engine serves 127.0.0.1:10023)" >&2
    export QT_QPA_PLATFORM=offscreen
fi
exec "$build/bin/greygate" --dbdir="$dbdir" "$@"
