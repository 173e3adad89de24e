#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Store targets of DESIGN.md §7: fill greygated with N distinct triplets through the policy
# protocol, stop it, restart it on the same dbdir, and report the time until it is ready
# (its own load_ms and the wall time until the "ready" log line), its resident memory and
# the database size. Loopback only; every process started here is stopped here, by PID.
#   bench/run-restart-bench.sh [--build-dir=DIR] [--triplets=N]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="$here/build-bench"
triplets=1000000
for arg in "$@"; do
    case $arg in
    --build-dir=*) build=${arg#*=} ;;
    --triplets=*) triplets=${arg#*=} ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
    esac
done
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target greygated policy_loadgen >/dev/null

work=$(mktemp -d /tmp/greygate-restart.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pid=
cleanup() { [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start() { # $1: log file
    "$build/bin/greygated" --inet=127.0.0.1:$port --dbdir="$work/db" --delay=1 >"$1" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do
        grep -q 'greygated ready' "$1" && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$1" >&2; exit 1; }
        sleep 0.01
    done
    echo "greygated not ready after 6 s" >&2; exit 1
}
stop() { kill -TERM "$pid"; wait "$pid" || true; pid=; }
rss() { awk '/VmRSS/ {print $2 / 1024 " MB"}' /proc/$pid/status; }

start "$work/fill.log"
"$build/bin/policy_loadgen" --connect=127.0.0.1:$port --connections=4 --triplets="$triplets" \
    --new-ratio=1 --count="$triplets" --duration=300 | grep '^RESULT'
echo "resident after the fill: $(rss)"
stop
echo "database after a clean stop: $(du -sh "$work/db" | cut -f1)"

t0=$(date +%s.%N)
start "$work/restart.log"
t1=$(date +%s.%N)
echo "restart: $(grep -o 'triplets=[0-9]* clients=[0-9]* load_ms=[0-9]*' "$work/restart.log"), ready after $(python3 -c "print(round($t1-$t0,2))") s wall"
echo "resident after the restart: $(rss)"
stop
