#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Event stream benchmark (bench/README.md, "Events"): greygated with --control-listen under
# policy load from policy_loadgen, with 0, 1 and 10 subscribers to the control API's event
# stream (bench/events/events_subscriber, the console's own client). Reports the events per
# second pushed to each subscriber and the decisions per second in each phase, against the
# same load with no subscriber in the same run (before and after, averaged). Everything is on
# loopback; every process it starts it stops by PID; every phase is bounded in time.
set -uo pipefail

usage() {
    cat <<'EOF'
usage: bench/run-events-bench.sh [options]
  --build-dir=DIR     use (and build in) DIR (default: <repo>/build-events-bench; the
                      project builds RelWithDebInfo unless told otherwise)
  --no-build          use the binaries already in the build dir
  --greygated=PATH    run this greygated instead of the build dir's (another commit's, to
                      compare before and after a change on the same machine, run after run)
  --quick             3 s phases, one round (about half a minute in all)
  --duration=S        seconds per phase (default 10)
  --rounds=N          rounds of phases (0, then each subscriber count), interleaved so
                      that the machine's drift falls on every phase alike (default 3)
  --connections=N     policy connections of the load (default 4)
  --triplets=N        distinct triplets (default 100000)
  --subscribers="A B" subscriber counts to measure (default "1 10")
  --out=DIR           keep logs and results here (default: a new /tmp/greygate-events-bench.*)
  --pin               greygated alone on CPU 0; the load generator on CPU 1, the subscribers
                      on CPU 1 at idle priority (SCHED_IDLE): what greygated pushes is
                      measured without the subscribers' own work taking its CPU, as when a
                      console watches from another machine (needs 2 CPUs and taskset/chrt)
  --busy-baseline     with --pin: also a phase without subscribers in which an idle-priority
                      busy loop keeps the subscribers' CPU (the load generator's) busy, as
                      ten subscribers do; waking the load generator on a busy CPU costs
                      greygated system time of its own (bench/README.md, "Events"), and this
                      baseline separates that from the stream's cost
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$repo/build-events-bench"
do_build=1
duration=10
rounds=3
connections=4
triplets=100000
subscriber_counts="1 10"
out=""
pin=0
busy_baseline=0
server_bin=""

for arg in "$@"; do
    case "$arg" in
    --build-dir=*) build_dir=${arg#*=} ;;
    --no-build) do_build=0 ;;
    --greygated=*) server_bin=${arg#*=} ;;
    --quick) duration=3 rounds=1 ;;
    --rounds=*) rounds=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --connections=*) connections=${arg#*=} ;;
    --triplets=*) triplets=${arg#*=} ;;
    --subscribers=*) subscriber_counts=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --pin) pin=1 ;;
    --busy-baseline) busy_baseline=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option $arg" >&2; usage >&2; exit 2 ;;
    esac
done
[[ "$duration" =~ ^[0-9]+$ ]] && ((duration >= 1 && duration <= 600)) ||
    { echo "--duration takes 1..600 seconds" >&2; exit 2; }
[[ "$rounds" =~ ^[0-9]+$ ]] && ((rounds >= 1 && rounds <= 20)) ||
    { echo "--rounds takes 1..20" >&2; exit 2; }
((busy_baseline == 0 || pin == 1)) || { echo "--busy-baseline needs --pin" >&2; exit 2; }
for n in $subscriber_counts; do
    [[ "$n" =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 50)) ||
        { echo "--subscribers takes counts of 1..50" >&2; exit 2; }
done
[[ -n "$out" ]] || out=$(mktemp -d /tmp/greygate-events-bench.XXXXXX)
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
mkdir -p "$build_dir" && build_dir=$(cd "$build_dir" && pwd)
bin="$build_dir/bin"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# --- build -------------------------------------------------------------------------------
if ((do_build)); then
    if [[ ! -f "$build_dir/build.ninja" ]]; then
        cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            >"$out/cmake.log" 2>&1 || { echo "cmake failed, see $out/cmake.log" >&2; exit 1; }
    fi
    cmake --build "$build_dir" -j2 --target greygated policy_loadgen events_subscriber \
        >"$out/build.log" 2>&1 || { echo "build failed, see $out/build.log" >&2; exit 1; }
fi
for p in greygated policy_loadgen events_subscriber; do
    [[ -x "$bin/$p" ]] || { echo "no $bin/$p" >&2; exit 1; }
done
[[ -n "$server_bin" ]] || server_bin="$bin/greygated"
[[ -x "$server_bin" ]] || { echo "no $server_bin" >&2; exit 1; }
cd "$out" || exit 1

# --- processes, all by PID ---------------------------------------------------------------
server_pid=""
subscriber_pids=()
burner_pid=""
stop_burner() {
    if [[ -n "$burner_pid" ]]; then
        kill -TERM "$burner_pid" 2>/dev/null
        wait "$burner_pid" 2>/dev/null
        burner_pid=""
    fi
}
stop_subscribers() {
    local p
    for p in "${subscriber_pids[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${subscriber_pids[@]}"; do
        wait "$p" 2>/dev/null
    done
    subscriber_pids=()
}
cleanup() {
    stop_burner
    stop_subscribers
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null
        sleep 1
        kill -KILL "$server_pid" 2>/dev/null
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source "$repo/scripts/lib/loopback.sh" # free_port, listening, wait_listening
# "user system" CPU ticks of a process (fields 14 and 15 of /proc/PID/stat).
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat" 2>/dev/null || echo 0 0; }
ticks_per_second=$(getconf CLK_TCK)
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# With --pin, each kind of process gets its CPU; taskset and chrt exec what they run, so
# $! is still the program's own PID.
server_on=() loadgen_on=() subscriber_on=()
if ((pin)); then
    if (($(nproc) < 2)) || ! command -v taskset >/dev/null || ! command -v chrt >/dev/null; then
        echo "--pin needs 2 CPUs, taskset and chrt" >&2
        exit 2
    fi
    server_on=(taskset -c 0) loadgen_on=(taskset -c 1) subscriber_on=(taskset -c 1 chrt --idle 0)
fi

# --- the server ----------------------------------------------------------------------------
policy_port=$(free_port)
control_port=$(free_port)
mkdir -p "$out/db"
"${server_on[@]}" "$server_bin" --inet="127.0.0.1:$policy_port" --dbdir="$out/db" --delay=1 \
    --control-listen="127.0.0.1:$control_port" >"$out/greygated.log" 2>&1 &
server_pid=$!
for ((i = 0; i < 300; i++)); do
    listening "$policy_port" && listening "$control_port" && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
listening "$control_port" || { log "greygated did not start (see $out/greygated.log)"; exit 1; }
token="$out/db/control-readonly.token"

# loadgen LABEL SECONDS [COUNT]: one bounded run of the policy load; prints its RESULT line.
first_unseen=0
loadgen() {
    local label=$1 seconds=$2 count=${3:-0} args=() line
    ((count > 0)) && args+=(--count="$count")
    "${loadgen_on[@]}" "$bin/policy_loadgen" --connect="127.0.0.1:$policy_port" --connections="$connections" \
        --triplets="$triplets" --first-unseen="$first_unseen" --new-ratio=0.1 \
        --duration="$seconds" --label="$label" "${args[@]}" >"$out/$label.txt" 2>&1
    line=$(grep '^RESULT ' "$out/$label.txt")
    [[ -n "$line" ]] || { log "$label: no result (see $out/$label.txt)"; return 1; }
    first_unseen=$(field next_unseen "$line")
    echo "$line"
}

# phase N: the load for $duration s with N subscribers started (and subscribed) first; phase
# busy: none, and the subscribers' CPU kept busy at idle priority (--busy-baseline).
results="$out/results.txt"
: >"$results"
phase() {
    local n=$1 i line ready label busy=0
    if [[ "$n" == busy ]]; then
        n=0 busy=1
    fi
    label="sub$n-$((phase_no + 1))"
    ((busy)) && label="busy-$((phase_no + 1))"
    stop_subscribers
    if ((busy)); then
        # Bounded like everything else: it ends with the phase, or after the phase's time.
        "${subscriber_on[@]}" timeout $((duration + 30)) sh -c 'while :; do :; done' &
        burner_pid=$!
    fi
    for ((i = 1; i <= n; i++)); do
        "${subscriber_on[@]}" "$bin/events_subscriber" --url="ws://127.0.0.1:$control_port" --token-file="$token" \
            --duration=$((duration + 1)) --label="$label-$i" >"$out/$label-$i.txt" 2>&1 &
        subscriber_pids+=($!)
    done
    for ((i = 0; i < 100; i++)); do # at most 10 s for every subscriber to be subscribed
        ready=$(cat "$out/$label"-*.txt 2>/dev/null | grep -c '^READY')
        ((n == 0 || ready >= n)) && break
        sleep 0.1
    done
    ((n == 0 || ready >= n)) || log "$label: only $ready of $n subscribers ready"
    ((++phase_no))
    local before after
    before=$(cpu_ticks "$server_pid")
    line=$(loadgen "load-$label-$phase_no" "$duration") || return 1
    after=$(cpu_ticks "$server_pid")
    stop_burner
    first_unseen=$(field next_unseen "$line") # loadgen ran in a subshell
    echo "$line subscribers=$n busy=$busy phase=$phase_no $(awk -v b="$before" -v a="$after" \
        -v t="$ticks_per_second" 'BEGIN { split(b, x, " "); split(a, y, " ");
            u = (y[1] - x[1]) / t; k = (y[2] - x[2]) / t;
            printf "server_cpu_s=%.2f server_user_s=%.2f server_sys_s=%.2f", u + k, u, k }')" \
        >>"$results"
    for p in "${subscriber_pids[@]}"; do
        wait "$p" 2>/dev/null
    done
    subscriber_pids=()
    for ((i = 1; i <= n; i++)); do
        grep '^RESULT ' "$out/$label-$i.txt" | sed "s/^RESULT/SUBSCRIBER phase=$phase_no/" \
            >>"$results"
    done
}
phase_no=0

log "results in $out"
log "prefill: $((triplets / 2)) first sights (at most 30 s)"
loadgen prefill 30 $((triplets / 2)) >>"$results"
sleep 2 # the prefilled triplets' retries pass after the 1 s delay
for ((round = 1; round <= rounds; round++)); do
    phases="0 $subscriber_counts"
    ((busy_baseline)) && phases="0 busy $subscriber_counts"
    for n in $phases; do
        log "round $round: $n subscriber(s), $duration s"
        phase "$n"
    done
done

# --- summary -------------------------------------------------------------------------------
python3 - "$results" >"$out/summary.md" <<'PY'
import re, statistics, sys
loads, subs = [], {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r'(\w+)=(\S+)', line))
    if line.startswith('RESULT') and 'subscribers' in kv:
        loads.append(kv)
    elif line.startswith('SUBSCRIBER'):
        subs.setdefault(kv['phase'], []).append(kv)
by_n = {}
busy = []  # no subscriber, their CPU kept busy (--busy-baseline)
for l in loads:
    if l.get('busy') == '1':
        busy.append(l)
    else:
        by_n.setdefault(int(l['subscribers']), []).append(l)
def cpu_ms(l):  # greygated's CPU per 1000 decisions, in ms
    return 1e6 * float(l['server_cpu_s']) / max(1, int(l['answered']))
base_rate = statistics.median(float(l['rate']) for l in by_n[0]) if 0 in by_n else 0
base_cpu = statistics.median(cpu_ms(l) for l in by_n[0]) if 0 in by_n else 0
rounds = max(len(v) for v in by_n.values())
print('| subscribers | greygated CPU per 1000 decisions | decisions/s capacity vs none | decisions/s measured | vs none | events/s to each subscriber | events/s pushed in all | delivered | resyncs |')
print('|---|---|---|---|---|---|---|---|---|')
for n in sorted(by_n):
    r = statistics.median(float(l['rate']) for l in by_n[n])
    cpu = statistics.median(cpu_ms(l) for l in by_n[n])
    each, total, delivered, resyncs = [], 0.0, [], 0
    for l in by_n[n]:
        seconds = float(l['seconds'])
        for s in subs.get(l['phase'], []):
            eps = int(s['events']) / seconds if seconds > 0 else 0
            each.append(eps)
            total += eps / len(by_n[n])
            delivered.append(int(s['events']) / max(1, int(l['answered'])))
            resyncs += int(s['resyncs'])
    pct = lambda a, b: '%+.1f %%' % ((a / b - 1) * 100) if b else '-'
    print('| %d | %.1f ms | %s | %.0f | %s | %s | %s | %s | %s |' % (
        n, cpu, '-' if n == 0 else pct(base_cpu, cpu), r, '-' if n == 0 else pct(r, base_rate),
        '-' if not each else '%.0f (%.0f..%.0f)' % (statistics.mean(each), min(each), max(each)),
        '-' if not each else '%.0f' % total,
        '-' if not delivered else '%.1f %%' % (100 * min(delivered)),
        '-' if n == 0 else resyncs))
if busy:
    busy_cpu = statistics.median(cpu_ms(l) for l in busy)
    busy_sys = statistics.median(1e6 * float(l['server_sys_s']) / max(1, int(l['answered'])) for l in busy)
    print()
    print('Busy baseline (no subscriber, their CPU kept busy at idle priority): %.1f ms per 1000'
          ' decisions (system %.1f), %+.1f %% against the plain baseline. Capacity against it: %s.' % (
        busy_cpu, busy_sys, (busy_cpu / base_cpu - 1) * 100 if base_cpu else 0, ', '.join(
            '%d subscriber(s) %+.1f %%' % (n, (busy_cpu / statistics.median(cpu_ms(l) for l in by_n[n]) - 1) * 100)
            for n in sorted(by_n) if n > 0)))
print()
print('Medians of %d interleaved rounds. "Capacity" compares greygated\'s CPU time per decision'
      ' (what bounds decisions/s when it is CPU bound); "measured" is what the load generator'
      ' got while the subscribers, the load generator and other work shared the machine.' % rounds)
print()
print('Per phase (subscribers: decisions/s, ms CPU per 1000 (user + system)): ' + ', '.join(
    '%s: %s, %.1f (%.1f + %.1f)' % ('busy' if l.get('busy') == '1' else l['subscribers'], l['rate'], cpu_ms(l),
                                    1e6 * float(l.get('server_user_s', 0)) / max(1, int(l['answered'])),
                                    1e6 * float(l.get('server_sys_s', 0)) / max(1, int(l['answered'])))
    for l in loads))
PY
cat "$out/summary.md"
