#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Console benchmarks (DESIGN.md §7, bench/README.md "Console"):
#  1. live: 20,000 attempt events a second into the Live attempts view (the real control
#     server on another thread -> ProxyConnection -> LiveAttemptsModel -> filter -> a
#     QTableView, offscreen); the GUI thread's busy fraction (CPU time over wall time) and
#     event-loop latency. Target: busy < 50 %.
#  2. queue: a greygated holding 1M triplets (filled by policy_loadgen, as run-policy-bench.sh
#     prefills) and QueueModel paging through it with fetchMore; time per page.
# Everything on loopback; every process it starts it stops by PID; every phase is bounded.
set -uo pipefail

usage() {
    cat <<'USAGE'
usage: bench/run-console-bench.sh [options]
  --build-dir=DIR     use (and build in) DIR (default: <repo>/build-bench)
  --no-build          use the binaries already in the build dir
  --quick             a smoke run: 3 s live cells, 100,000 triplets, 50 pages (~2 minutes)
  --seconds=S         measured seconds per live cell (default 10)
  --rates="A B"       event rates for the live view (default "20000 40000")
  --triplets=N        queue size for the paging bench (default 1000000)
  --pages=N           pages to fetch at most when scrolling (default 1000; 1000 entries each)
  --only=live|queue   run one of the two
  --out=DIR           keep logs and results here (default: a new /tmp/greygate-console-bench.*)
USAGE
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$repo/build-bench"
do_build=1
seconds=10
rates="20000 40000"
triplets=1000000
pages=1000
only=""
out=""
quick=0
for arg in "$@"; do
    case "$arg" in
    --build-dir=*) build_dir=${arg#*=} ;;
    --no-build) do_build=0 ;;
    --quick) quick=1 ;;
    --seconds=*) seconds=${arg#*=} ;;
    --rates=*) rates=${arg#*=} ;;
    --triplets=*) triplets=${arg#*=} ;;
    --pages=*) pages=${arg#*=} ;;
    --only=*) only=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $arg" >&2; usage >&2; exit 2 ;;
    esac
done
if ((quick)); then
    seconds=3
    rates="20000"
    triplets=100000
    pages=50
fi
[[ -n "$out" ]] || out=$(mktemp -d /tmp/greygate-console-bench.XXXXXX)
mkdir -p "$out"
bin="$build_dir/bin"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

if ((do_build)); then
    if [[ ! -f "$build_dir/build.ninja" ]]; then
        cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            >"$out/cmake.log" 2>&1 || { echo "cmake failed, see $out/cmake.log" >&2; exit 1; }
    fi
    for target in console_live_bench console_queue_bench policy_loadgen greygated; do
        cmake --build "$build_dir" -j2 --target "$target" >"$out/build-$target.log" 2>&1 ||
            { echo "could not build $target (see $out/build-$target.log)" >&2; exit 1; }
    done
fi
cd "$out" || exit 1
results="$out/results.txt"
: >"$results"
started=$(date +%s)
log "results in $out"

# --- 1. live view -------------------------------------------------------------------------
if [[ -z "$only" || "$only" == live ]]; then
    for rate in $rates; do
        for filter in "" "mail7"; do
            label="live-$rate${filter:+-filtered}"
            log "$label: $seconds s"
            QT_QPA_PLATFORM=offscreen timeout $((seconds + 60)) "$bin/console_live_bench" \
                --rate="$rate" --seconds="$seconds" ${filter:+--filter="$filter"} \
                >"$out/$label.txt" 2>&1
            grep '^RESULT ' "$out/$label.txt" | sed "s/^RESULT /RESULT label=$label /" >>"$results" ||
                log "$label: no result (see $out/$label.txt)"
        done
    done
fi

# --- 2. queue paging over a big queue --------------------------------------------------------
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        sleep 1
        kill -KILL "$server_pid" 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
source "$repo/scripts/lib/loopback.sh" # free_port, listening, wait_listening

if [[ -z "$only" || "$only" == queue ]]; then
    dir="$out/queue"
    mkdir -p "$dir/db"
    port=$(free_port)
    # As root on loopback with a root-owned dbdir: keep root when the build drops privileges.
    keep_root=()
    "$bin/greygated" --help 2>&1 | grep -q -- '--user' && keep_root=(--user=root)
    # An hour's delay: every triplet stays deferred during the run, as the admin browses it.
    "$bin/greygated" --inet="127.0.0.1:$port" --dbdir="$dir/db" --delay=3600 \
        --control-listen=127.0.0.1:0 "${keep_root[@]}" >"$dir/greygated.log" 2>&1 &
    server_pid=$!
    for ((i = 0; i < 300; i++)); do
        listening "$port" && break
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    control_port=""
    for ((i = 0; i < 100; i++)); do
        control_port=$(sed -n 's/.*msg="control API listening".* port=\([0-9]*\).*/\1/p' "$dir/greygated.log" | head -1)
        [[ -n "$control_port" ]] && break
        sleep 0.1
    done
    if [[ -z "$control_port" ]]; then
        log "greygated did not start (see $dir/greygated.log)"
    else
        log "queue: filling greygated with $triplets triplets (at most 300 s)"
        "$bin/policy_loadgen" --connect="127.0.0.1:$port" --connections=4 \
            --triplets="$triplets" --new-ratio=1 --count="$triplets" --duration=300 \
            --label=queue-fill >"$dir/fill.txt" 2>&1
        grep '^RESULT ' "$dir/fill.txt" | sed 's/^RESULT /FILL /' >>"$results"
        log "queue: paging ($pages pages at most, 300 s per phase at most)"
        timeout 1200 "$bin/console_queue_bench" --url="ws://127.0.0.1:$control_port" \
            --token-file="$dir/db/control.token" --pages="$pages" --page-size=1000 \
            --seconds=300 >"$dir/paging.txt" 2>&1
        grep '^RESULT ' "$dir/paging.txt" >>"$results" ||
            log "queue: no result (see $dir/paging.txt)"
        echo "EXTRA greygated_rss_kb=$(awk '$1 == "VmRSS:" { print $2 }' /proc/$server_pid/status 2>/dev/null)" >>"$results"
    fi
    cleanup
    server_pid=""
fi

# --- report ---------------------------------------------------------------------------------
elapsed=$(($(date +%s) - started))
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
{
    echo "| live cell | events/s received | GUI thread busy (measured) | GUI µs/event | busy at the target rate | loop late p50 / p99 / max ms | rows (filtered) | resyncs |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    grep '^RESULT label=live' "$results" | while read -r l; do
        printf '| %s | %s | %s %% | %s | %s %% | %s / %s / %s | %s (%s) | %s |\n' "$(field label "$l")" \
            "$(field events_per_s "$l")" \
            "$(awk -v b="$(field gui_busy "$l")" 'BEGIN { printf "%.1f", b * 100 }')" \
            "$(field gui_us_per_event "$l")" \
            "$(awk -v b="$(field busy_at_target "$l")" 'BEGIN { printf "%.1f", b * 100 }')" \
            "$(field loop_late_p50_ms "$l")" "$(field loop_late_p99_ms "$l")" \
            "$(field loop_late_max_ms "$l")" "$(field rows "$l")" "$(field filtered_rows "$l")" \
            "$(field resyncs "$l")"
    done
    echo
    echo "| queue phase | total | rows loaded | pages | first page ms | page p50 / p99 / max ms | last page (offset) ms | bench RSS |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    grep '^RESULT bench=queue' "$results" | while read -r l; do
        printf '| %s | %s | %s | %s | %s | %s / %s / %s | %s (%s) | %s MB |\n' "$(field phase "$l")" \
            "$(field total "$l")" "$(field rows_loaded "$l")" "$(field pages "$l")" \
            "$(field first_page_ms "$l")" "$(field page_p50_ms "$l")" "$(field page_p99_ms "$l")" \
            "$(field page_max_ms "$l")" "$(field last_page_ms "$l")" "$(field last_offset "$l")" \
            "$(awk -v k="$(field rss_kb "$l")" 'BEGIN { printf "%.0f", k / 1024 }')"
    done
    grep '^FILL ' "$results" | while read -r l; do
        echo
        echo "Queue filled with $(field answered "$l") first sights in $(field seconds "$l") s ($(field rate "$l")/s)."
    done
    echo
    echo "Whole run: $elapsed s."
} >"$out/report.md"
cat "$out/report.md"
