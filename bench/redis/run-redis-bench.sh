#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Shared Redis store benchmark (issue 7, bench/README.md "Redis"): decisions per second of
# greygated with --store=redis:// as 1 and as 3 instances on one redis-server, beside plain
# greygated on SQLite in the same run, driven by bench/policy's policy_loadgen. Everything is
# on loopback; every process it starts it stops by PID; every phase is bounded in time.
set -uo pipefail

usage() {
    cat <<'USAGE'
usage: bench/redis/run-redis-bench.sh [options]
  --build-dir=DIR     use (and build in) DIR (default: <repo>/build-bench)
  --no-build          use the binaries already in the build dir
  --quick             3 s cells, 10k triplets (about a minute)
  --duration=S        seconds per cell (default 10)
  --triplets=N        distinct triplets (default 100000)
  --connections=N     connections per greygated instance (default 4)
  --out=DIR           keep logs and results here (default: a new /tmp/greygate-redis-bench.*)
USAGE
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir="$repo/build-bench"
do_build=1
duration=10
triplets=100000
connections=4
out=""
for arg in "$@"; do
    case "$arg" in
    --build-dir=*) build_dir=${arg#*=} ;;
    --no-build) do_build=0 ;;
    --quick) duration=3; triplets=10000 ;;
    --duration=*) duration=${arg#*=} ;;
    --triplets=*) triplets=${arg#*=} ;;
    --connections=*) connections=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $arg" >&2; usage >&2; exit 2 ;;
    esac
done
command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 1; }
[[ -n "$out" ]] || out=$(mktemp -d /tmp/greygate-redis-bench.XXXXXX)
mkdir -p "$out"
out=$(cd "$out" && pwd)
if ((do_build)); then
    cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$out/cmake.log" 2>&1 &&
        cmake --build "$build_dir" -j2 --target greygated policy_loadgen >>"$out/cmake.log" 2>&1 ||
        { echo "build failed: $out/cmake.log" >&2; exit 1; }
fi
bin="$build_dir/bin"
for p in greygated policy_loadgen; do
    [[ -x "$bin/$p" ]] || { echo "no $bin/$p" >&2; exit 1; }
done
cd "$out" || exit 1

# --- processes, all by PID ---------------------------------------------------------------
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    sleep 0.5
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null
    done
    pids=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source "$repo/scripts/lib/loopback.sh" # free_port, listening, wait_listening
wait_port() { # PORT PID: until it accepts (at most 30 s) or the process is gone
    local i
    for ((i = 0; i < 300; ++i)); do
        kill -0 "$2" 2>/dev/null || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
user_args=()
if [[ $(id -u) == 0 ]] && "$bin/greygated" --help 2>/dev/null | grep -q -- '--user'; then
    user_args=(--user=root)
fi

last_port=""
start_greygated() { # NAME EXTRA-ARGS...: sets last_port (not in a subshell: pids must stay)
    local name=$1 port
    shift
    port=$(free_port)
    mkdir -p "$out/$name"
    "$bin/greygated" --inet="127.0.0.1:$port" --dbdir="$out/$name" --delay=1 \
        --log-level=warning "${user_args[@]}" "$@" >"$out/$name.log" 2>&1 &
    pids+=($!)
    wait_port "$port" "$!" || { echo "greygated $name did not start: $out/$name.log" >&2; exit 1; }
    last_port=$port
}

# loadgen LABEL PORT FIRST_UNSEEN: one cell, its RESULT line in $out/LABEL.txt
loadgen() {
    timeout $((duration + 30)) "$bin/policy_loadgen" --connect="127.0.0.1:$2" \
        --connections="$connections" --triplets="$triplets" --new-ratio=0.1 \
        --first-unseen="$3" --duration="$duration" --label="$1" >"$out/$1.txt" 2>&1
}
rate() { sed -n 's/^answered .*: \([0-9]*\) decisions\/s$/\1/p' "$out/$1.txt"; }
p99() { sed -n 's/^latency (us): .* p99 \([0-9.]*\) .*/\1/p' "$out/$1.txt"; }

redis_port=$(free_port)
mkdir -p "$out/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$out/redis" --save "" \
    --appendonly yes --appendfsync everysec --daemonize no --loglevel warning \
    >"$out/redis.log" 2>&1 &
redis_pid=$!
pids+=($redis_pid)
wait_port "$redis_port" "$redis_pid" || { echo "redis-server did not start" >&2; exit 1; }
url="redis://127.0.0.1:$redis_port/0"

echo "cells: ${duration} s, ${triplets} triplets, ${connections} connection(s) per instance"
# SQLite, the same run: first a pass that sees the triplets once (so retries pass), then
# the measured cell; the same for each Redis configuration.
start_greygated sqlite
port=$last_port
loadgen sqlite-warm "$port" 0
loadgen sqlite "$port" "$triplets"
cleanup_one() { kill -TERM "${pids[-1]}" 2>/dev/null; wait "${pids[-1]}" 2>/dev/null; unset 'pids[-1]'; }
cleanup_one

start_greygated redis1 --store="$url"
port=$last_port
loadgen redis1-warm "$port" 0
loadgen redis1 "$port" "$triplets"
cleanup_one

ports=()
for i in 1 2 3; do
    start_greygated "redis3-$i" --store="$url"
    ports+=("$last_port")
done
loaders=()
for i in 0 1 2; do
    loadgen "redis3-warm-$i" "${ports[$i]}" 0 &
    loaders+=($!)
done
wait "${loaders[@]}"
loaders=()
for i in 0 1 2; do
    loadgen "redis3-$i" "${ports[$i]}" "$triplets" &
    loaders+=($!)
done
wait "${loaders[@]}"

sqlite=$(rate sqlite)
redis1=$(rate redis1)
redis3=0
for i in 0 1 2; do
    redis3=$((redis3 + $(rate "redis3-$i")))
done
redis_cpu=$(ps -o times= -p "$redis_pid" | tr -d ' ')
{
    echo "| store | instances | decisions/s | p99 (us) | vs SQLite |"
    echo "|---|---|---|---|---|"
    echo "| SQLite (embedded) | 1 | $sqlite | $(p99 sqlite) | 1.00 |"
    awk -v r="$redis1" -v s="$sqlite" -v p="$(p99 redis1)" \
        'BEGIN { printf "| Redis | 1 | %d | %s | %.2f |\n", r, p, s ? r / s : 0 }'
    awk -v r="$redis3" -v s="$sqlite" -v p="$(p99 redis3-0)" \
        'BEGIN { printf "| Redis | 3 (sum) | %d | %s (instance 1) | %.2f |\n", r, p, s ? r / s : 0 }'
    echo
    echo "redis-server CPU over the run: ${redis_cpu} s; ${duration} s cells, ${triplets} triplets," \
        "${connections} connection(s) per instance, new ratio 0.1, $(nproc) cores"
} | tee "$out/results.md"
grep -h "^errors" "$out"/sqlite.txt "$out"/redis1.txt "$out"/redis3-*.txt | sort | uniq -c
