#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# CPU per decision of greygated on the write-heavy 1M-triplet load (mostly first retries,
# PREPEND), measured as CPU time rather than wall time: on a shared machine the rate moves
# with everyone's builds, the CPU a decision costs much less. Prints the whole process's and
# the event-loop thread's microseconds of CPU per decision, and with --callgrind the
# instructions per decision of the measured phase (callgrind_annotate output in --out).
#
#   bench/policy-cpu.sh --bin=build-bench/bin [--prefill=300000] [--count=200000]
#       [--connections=4] [--triplets=1000000] [--callgrind] [--out=DIR] [--label=NAME]
#       [--io-threads=N] [--server-args="ARGS"] [--cache-sim]
# --io-threads=N runs greygated with --policy-io-threads=N and reports the I/O threads' CPU
# per decision beside the event-loop (decision) thread's. --server-args adds options to
# greygated's command line (e.g. "--event-dispatcher=qt", to compare with a build without it).
# --cache-sim (implies --callgrind) simulates the caches too and reports the event-loop
# thread's first-level and last-level data cache misses per decision: what a change of
# memory layout saves where instruction counts do not show it (no hardware counters in VMs).
# The rings of 100,000 events only wrap after a prefill that large.
#
# Every process is started here, on loopback, and stopped by its PID.
set -euo pipefail

bin=""
prefill=300000
count=200000
conns=4
triplets=1000000
callgrind=0
cache_sim=0
out=""
label=greygated
io_threads=""
server_args=""
for arg in "$@"; do
    case "$arg" in
    --bin=*) bin=${arg#*=} ;;
    --prefill=*) prefill=${arg#*=} ;;
    --count=*) count=${arg#*=} ;;
    --connections=*) conns=${arg#*=} ;;
    --triplets=*) triplets=${arg#*=} ;;
    --callgrind) callgrind=1 ;;
    --cache-sim) callgrind=1 cache_sim=1 ;;
    --out=*) out=${arg#*=} ;;
    --label=*) label=${arg#*=} ;;
    --io-threads=*) io_threads=${arg#*=} ;;
    --server-args=*) server_args=${arg#*=} ;;
    -h | --help)
        sed -n '2,17p' "$0"
        exit 0
        ;;
    *)
        echo "unknown option $arg (see --help)" >&2
        exit 2
        ;;
    esac
done
[[ -x "$bin/greygated" && -x "$bin/policy_loadgen" ]] ||
    { echo "--bin=DIR must hold greygated and policy_loadgen" >&2; exit 2; }
[[ -n "$out" ]] || out=$(mktemp -d /tmp/greygate-cpu.XXXXXX)
mkdir -p "$out/db-$label"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
server_pid=""
cleanup() {
    [[ -n "$server_pid" ]] || return 0
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
}
trap cleanup EXIT

wrap=()
if ((callgrind)); then
    # One profile per thread (.out-01 is the event-loop thread, which decides), so the
    # decision thread's own instructions and allocations can be told from the store's.
    wrap=(valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes
        "--callgrind-out-file=$out/callgrind.$label.out")
    ((cache_sim)) && wrap+=(--cache-sim=yes)
fi
extra=()
[[ -n "$io_threads" ]] && extra=("--policy-io-threads=$io_threads")
[[ -n "$server_args" ]] && read -r -a more <<<"$server_args" && extra+=("${more[@]}")
"${wrap[@]}" "$bin/greygated" --inet="127.0.0.1:$port" --dbdir="$out/db-$label" --delay=1 \
    "${extra[@]}" >"$out/server-$label.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
    ss -ltnH "sport = :$port" | grep -q . && break
    sleep 0.1
done

load() { # CONNS FIRST_UNSEEN NEW_RATIO COUNT SECONDS
    "$bin/policy_loadgen" --connect="127.0.0.1:$port" --connections="$1" --triplets="$triplets" \
        --first-unseen="$2" --new-ratio="$3" --count="$4" --duration="$5" --label="$label" |
        grep '^RESULT '
}
ticks() { awk '{ print $14 + $15 }' "$1"; }
iotks() { # CPU ticks of the policy I/O threads (named policy-io-N)
    local sum=0 t
    for t in /proc/"$server_pid"/task/*; do
        if grep -q '^policy-io' "$t/comm" 2>/dev/null; then sum=$((sum + $(ticks "$t/stat"))); fi
    done
    echo "$sum"
}
systicks() { awk '{ print $15 }' "$1"; }

line=$(load 4 0 1 "$prefill" 600)
first=$(sed -n 's/.* next_unseen=\([^ ]*\).*/\1/p' <<<"$line")
sleep 2 # the prefilled triplets' retries pass (--delay=1)

((callgrind)) && callgrind_control -i on "$server_pid" >/dev/null
all0=$(ticks "/proc/$server_pid/stat")
main0=$(ticks "/proc/$server_pid/task/$server_pid/stat")
sys0=$(systicks "/proc/$server_pid/stat")
io0=$(iotks)
line=$(load "$conns" "$first" 0.1 "$count" 600)
all1=$(ticks "/proc/$server_pid/stat")
main1=$(ticks "/proc/$server_pid/task/$server_pid/stat")
sys1=$(systicks "/proc/$server_pid/stat")
io1=$(iotks)
# The statistics tick (DaemonWatch, once a second) reads the events since its cursor: under
# callgrind, give it time to read this phase's last second too, so that every run counts the
# tick's work for all of its decisions and not for whatever share a timer left in the window.
((callgrind)) && sleep 3
((callgrind)) && callgrind_control -i off "$server_pid" >/dev/null

answered=$(sed -n 's/.* answered=\([^ ]*\).*/\1/p' <<<"$line")
hz=$(getconf CLK_TCK)
awk -v a=$((all1 - all0)) -v m=$((main1 - main0)) -v k=$((sys1 - sys0)) -v n="$answered" \
    -v io=$((io1 - io0)) -v hz="$hz" -v l="$label" \
    'BEGIN { printf "%s: %d decisions, %.1f us CPU/decision (kernel %.1f; event-loop thread %.1f; I/O threads %.1f)\n",
             l, n, a / hz / n * 1e6, k / hz / n * 1e6, m / hz / n * 1e6, io / hz / n * 1e6 }'
echo "loadgen: $line"
if ((callgrind)); then
    cleanup
    server_pid=""
    # Per thread: instructions (the summary line) and calls of malloc/calloc/realloc/new.
    python3 - "$answered" "$label" "$out/callgrind.$label.out"-* <<'PY'
import re, sys
n, label, files = int(sys.argv[1]), sys.argv[2], sorted(sys.argv[3:])
alloc = re.compile(r'^(malloc|calloc|realloc|operator new(\[\])?\(unsigned long\))$')
total = 0
for path in files:
    names, ir, calls, current, events, counts = {}, 0, 0, None, [], []
    with open(path, errors='replace') as f:
        for line in f:
            if line.startswith('events:'):
                events = line.split()[1:]
            elif line.startswith(('summary:', 'totals:')):
                counts = [int(v) for v in line.split()[1:]]
                ir = counts[0]
            elif line.startswith('fn='):
                # Names are compressed: "(id) name" the first time an id appears, on an fn= or
                # a cfn= line, "(id)" after; malloc is often first named by its own fn= block.
                m = re.match(r'fn=\((\d+)\) (.*)', line.rstrip('\n'))
                if m:
                    names[m.group(1)] = m.group(2)
            elif line.startswith('cfn='):
                m = re.match(r'cfn=\((\d+)\)(?: (.*))?', line.rstrip('\n'))
                if m:
                    if m.group(2) is not None:
                        names[m.group(1)] = m.group(2)
                    current = names.get(m.group(1), '')
                else:
                    current = line[4:].strip()
            elif line.startswith('calls=') and current is not None:
                if alloc.match(current):
                    calls += int(line[6:].split()[0])
                current = None
    total += ir
    if path.endswith('-01'):
        print(f'{label}: event-loop thread {ir / n:.0f} instructions and {calls / n:.2f} '
              f'allocations/decision (callgrind)')
        c = dict(zip(events, counts))
        if 'D1mr' in c:
            print(f"{label}: event-loop thread {(c['D1mr'] + c.get('D1mw', 0)) / n:.1f} D1 and "
                  f"{(c.get('DLmr', 0) + c.get('DLmw', 0)) / n:.1f} LL data misses/decision "
                  f'(callgrind cache simulation)')
print(f'{label}: {total / n:.0f} instructions/decision (callgrind, all threads)')
PY
    callgrind_annotate --inclusive=no "$out/callgrind.$label.out"-01 >"$out/callgrind.$label.txt" \
        2>/dev/null || true
    echo "profile (event-loop thread): $out/callgrind.$label.txt"
fi
