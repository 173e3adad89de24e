#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# SMTP proxy benchmark (DESIGN.md §7, bench/README.md "SMTP proxy"): messages per second from
# Postfix's smtp-source to smtp-sink directly and through greygated's SMTP proxy, in the same
# run, rounds interleaved; the proxy's deferral rate with greylisting on (every message a new
# triplet); and 2,000 concurrent sessions held open against the proxy with greygated's
# resident memory. Everything is on loopback; every process it starts it stops by PID; every
# phase is bounded in time.
set -uo pipefail

usage() {
    cat <<'EOF'
usage: bench/smtp/run-smtp-bench.sh [options]
  --build-dir=DIR     use (and build in) DIR (default: <repo>/build-bench)
  --no-build          use the binaries already in the build dir
  --quick             a smoke run: 1,000 messages a cell, 1 round, hold 3 s (~1 minute)
  --messages=N        messages per throughput cell (default 10000)
  --sessions=N        smtp-source's parallel sessions (default 20)
  --size=BYTES        message payload (smtp-source -l; default: smtp-source's own, tiny)
  --reuse             several messages per connection (smtp-source -d); default: one
                      connection per message, as inbound MX traffic mostly is
  --rounds=N          direct/proxy rounds, interleaved; the median is reported (default 3)
  --pool=N            greygated's --smtp-backend-pool (default: greygated's own, 20)
  --args="..."        extra options for the measured greygated (e.g. "--smtp-threads=2")
  --no-pool-cell      also a second greygated with --smtp-backend-pool=0, its cells
                      interleaved with the others: the pool's gain in the same run
  --hold-sessions=N   sessions held open at once (default 2000)
  --hold=S            seconds they are held (default 10)
  --cell-timeout=S    bound on each cell (default 300)
  --out=DIR           keep logs and results here (default: a new /tmp/greygate-smtp-bench.*)
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir="$repo/build-bench"
do_build=1
messages=10000
sessions=20
size=""
reuse=0
rounds=3
hold_sessions=2000
hold=10
cell_timeout=300
out=""
pool=""
nopool_cell=0
gd_args=""

for arg in "$@"; do
    case "$arg" in
    --build-dir=*) build_dir=${arg#*=} ;;
    --no-build) do_build=0 ;;
    --quick) messages=1000 rounds=1 hold=3 ;;
    --messages=*) messages=${arg#*=} ;;
    --sessions=*) sessions=${arg#*=} ;;
    --size=*) size=${arg#*=} ;;
    --reuse) reuse=1 ;;
    --rounds=*) rounds=${arg#*=} ;;
    --pool=*) pool=${arg#*=} ;;
    --args=*) gd_args=${arg#*=} ;;
    --no-pool-cell) nopool_cell=1 ;;
    --hold-sessions=*) hold_sessions=${arg#*=} ;;
    --hold=*) hold=${arg#*=} ;;
    --cell-timeout=*) cell_timeout=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $arg" >&2; usage >&2; exit 2 ;;
    esac
done
[[ -n "$out" ]] || out=$(mktemp -d /tmp/greygate-smtp-bench.XXXXXX)
mkdir -p "$out"
bin="$build_dir/bin"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

for tool in /usr/sbin/smtp-source /usr/sbin/smtp-sink python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (Debian: postfix, python3)" >&2; exit 1; }
done
((EUID == 0)) || { echo "run as root: smtp-sink drops to the postfix user" >&2; exit 1; }

# --- build -------------------------------------------------------------------------------
if ((do_build)); then
    if [[ ! -f "$build_dir/build.ninja" ]]; then
        cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            >"$out/cmake.log" 2>&1 || { echo "cmake failed, see $out/cmake.log" >&2; exit 1; }
    fi
    for target in greygated smtp_hold; do
        cmake --build "$build_dir" -j2 --target "$target" >"$out/build-$target.log" 2>&1 ||
            { echo "could not build $target, see $out/build-$target.log" >&2; exit 1; }
    done
fi
for program in greygated smtp_hold; do
    [[ -x "$bin/$program" ]] || { echo "no $bin/$program" >&2; exit 1; }
done
cd "$out" || exit 1 # nothing the run writes lands in the source tree

# 2,000 sessions are 2,000 descriptors in greygated (and as many here): raise the limit.
want_fds=$((hold_sessions * 2 + 1024))
if (($(ulimit -n) < want_fds)); then
    ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
log "fd limit $(ulimit -n); results in $out"

# --- processes, all by PID ---------------------------------------------------------------
# shellcheck source=bench/smtp/bench-processes.sh
source "$repo/bench/smtp/bench-processes.sh"

# The sink: no capture files and no -v (they would measure the disk and the terminal); -c
# for its message counter, which tells whether a cell's messages really all arrived.
sink_dir="$out/sink"
mkdir -p "$sink_dir"
sink_port=$(free_port)
/usr/sbin/smtp-sink -u postfix -c -m 1000 "127.0.0.1:$sink_port" 1024 >"$sink_dir/sink.log" 2>&1 &
sink_pid=$!
pids+=("$sink_pid")
wait_listening "$sink_port" "$sink_pid" || { echo "smtp-sink did not start: $(cat "$sink_dir/sink.log")" >&2; exit 1; }
sink_count() { tr '\r' '\n' <"$sink_dir/sink.log" | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2; }
# Connections the sink has seen end: how many backend connections the proxy used.
sink_sessions() { tr '\r' '\n' <"$sink_dir/sink.log" | grep -o 'sess=[0-9]*' | tail -1 | cut -d= -f2; }

# greygated: greylisting on (1 s delay), no auto-whitelisting of the one client (so the
# deferral cell stays deferred), limits per client raised for one load generator.
extra=()
# A build that drops privileges refuses to keep root unless told so.
"$bin/greygated" --help 2>&1 | grep -q -- '--user' && extra+=(--user=root)
# start_greygated NAME [ARGS...]: sets started_pid and started_port.
start_greygated() {
    local name=$1
    shift
    local dir="$out/$name"
    mkdir -p "$dir/db"
    started_port=$(free_port)
    "$bin/greygated" --dbdir="$dir/db" --inet="127.0.0.1:$(free_port)" --delay=1 \
        --auto-whitelist-clients=0 \
        --smtp-listen="127.0.0.1:$started_port" --smtp-backend="127.0.0.1:$sink_port" \
        --smtp-hostname=mx.bench.test --smtp-max-connections=$((hold_sessions + 500)) \
        --smtp-max-per-client=$((hold_sessions + 500)) "${extra[@]}" "$@" >"$dir/greygated.log" 2>&1 &
    started_pid=$!
    pids+=("$started_pid")
    wait_listening "$started_port" "$started_pid" || { echo "greygated ($name) did not start:" >&2; tail -20 "$dir/greygated.log" >&2; exit 1; }
}
pool_args=()
[[ -n "$pool" ]] && pool_args+=(--smtp-backend-pool="$pool")
# shellcheck disable=SC2206 # --args is split on purpose
pool_args+=($gd_args)
start_greygated greygated "${pool_args[@]}"
gd_pid=$started_pid gd_port=$started_port
if ((nopool_cell)); then
    start_greygated greygated-nopool --smtp-backend-pool=0
    np_pid=$started_pid np_port=$started_port
    log "greygated without a pool: pid $np_pid port $np_port"
fi
log "smtp-sink pid $sink_pid port $sink_port; greygated pid $gd_pid port $gd_port"

# CPU seconds (user + system) a process has used so far, from /proc/PID/stat.
cpu_seconds() {
    local hz
    hz=$(getconf CLK_TCK)
    awk -v hz="$hz" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# source_cell NAME PORT PID ARGS...: runs smtp-source, prints "seconds exit delivered
# greygated_cpu_seconds backend_connections".
source_cell() {
    local name=$1 port=$2 gpid=$3
    shift 3
    local args=(-s "$sessions" -m "$messages" -M client.bench.test -t rcpt@example.test)
    ((reuse)) && args+=(-d)
    [[ -n "$size" ]] && args+=(-l "$size")
    local before after t0 t1 rc c0 c1 s0 s1
    before=$(sink_count)
    s0=$(sink_sessions)
    c0=$(cpu_seconds "$gpid")
    t0=$(date +%s.%N)
    timeout "$cell_timeout" /usr/sbin/smtp-source "${args[@]}" "$@" "127.0.0.1:$port" \
        >"$out/$name.log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    c1=$(cpu_seconds "$gpid")
    sleep 0.3 # the sink's counter is written as sessions end
    after=$(sink_count)
    s1=$(sink_sessions)
    # Pooled connections still open are not counted yet: at least 1 when any were used.
    echo "$(echo "$t1 - $t0" | bc -l) $rc $((${after:-0} - ${before:-0})) $(echo "$c1 - $c0" | bc -l) $((${s1:-0} - ${s0:-0}))"
}

# --- throughput: direct and through the proxy, rounds interleaved ------------------------
# The proxy cell's triplet (127.0.0.1's /24, the sender, the recipient) is passed first:
# deferred once, then accepted after the delay, so the cells measure the accepting path.
warm_ports=("$gd_port")
((nopool_cell)) && warm_ports+=("$np_port")
for port in "${warm_ports[@]}"; do
    /usr/sbin/smtp-source -m 1 -f bulk@sender.bench -t rcpt@example.test -M client.bench.test \
        "127.0.0.1:$port" >"$out/warmup-1.log" 2>&1
done
sleep 1.5
for port in "${warm_ports[@]}"; do
    if ! /usr/sbin/smtp-source -m 1 -f bulk@sender.bench -t rcpt@example.test -M client.bench.test \
        "127.0.0.1:$port" >"$out/warmup-2.log" 2>&1; then
        echo "the passed triplet was not accepted by the proxy: $(cat "$out/warmup-2.log")" >&2
        exit 1
    fi
done
cells=(direct proxy)
((nopool_cell)) && cells+=(nopool)

results="$out/results.txt"
: >"$results"
for ((r = 1; r <= rounds; r++)); do
    for cell in "${cells[@]}"; do
        port=$sink_port gpid=$gd_pid
        [[ $cell == proxy ]] && port=$gd_port
        [[ $cell == nopool ]] && port=$np_port gpid=$np_pid
        read -r secs rc delivered gdcpu conns < <(source_cell "$cell-$r" "$port" "$gpid" -f bulk@sender.bench)
        rate=$(echo "$messages / $secs" | bc -l)
        printf '%s round=%d seconds=%.2f exit=%d delivered=%d greygated_cores=%.2f backend_connections_closed=%d msg_per_s=%.0f\n' \
            "$cell" "$r" "$secs" "$rc" "$delivered" "$(echo "$gdcpu / $secs" | bc -l)" "$conns" "$rate" |
            tee -a "$results" >&2
        if ((rc != 0 || delivered != messages)); then
            echo "cell $cell-$r: smtp-source exit $rc, $delivered of $messages delivered" \
                "(see $out/$cell-$r.log)" | tee -a "$results" >&2
        fi
    done
done

# --- greylisting on: every message a new triplet, deferred at RCPT -----------------------
read -r secs rc delivered gdcpu conns < <(source_cell deferred "$gd_port" "$gd_pid" -A -N -f new@sender.bench)
printf 'deferred seconds=%.2f exit=%d delivered=%d greygated_cores=%.2f attempts_per_s=%.0f\n' \
    "$secs" "$rc" "$delivered" "$(echo "$gdcpu / $secs" | bc -l)" "$(echo "$messages / $secs" | bc -l)" |
    tee -a "$results" >&2
((delivered == 0)) || echo "deferred: $delivered messages reached the sink" | tee -a "$results" >&2

# --- 2,000 sessions held at once --------------------------------------------------------
"$bin/smtp_hold" --port="$gd_port" --sessions="$hold_sessions" --hold="$hold" --pid="$gd_pid" \
    --sources=16 --timeout=120 >"$out/hold.log" 2>&1
hold_rc=$?
sed 's/^/hold /' "$out/hold.log" | tee -a "$results" >&2
grep -q '^held=' "$out/hold.log" || echo "hold: smtp_hold exit $hold_rc" | tee -a "$results" >&2
kill -0 "$gd_pid" 2>/dev/null || echo "greygated died during the run" | tee -a "$results" >&2

# --- summary -----------------------------------------------------------------------------
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
direct=$(grep '^direct ' "$results" | sed 's/.*msg_per_s=//' | median)
proxy=$(grep '^proxy ' "$results" | sed 's/.*msg_per_s=//' | median)
nopool=$(grep '^nopool ' "$results" | sed 's/.*msg_per_s=//' | median)
{
    echo
    echo "SMTP proxy, $messages messages a cell, $sessions sessions, $rounds round(s)$( ((reuse)) && echo ', connections reused')"
    printf '| path | msg/s (median) |\n|---|---|\n'
    printf '| smtp-source -> smtp-sink | %s |\n' "$direct"
    printf '| smtp-source -> greygated -> smtp-sink | %s |\n' "$proxy"
    if [[ -n "$direct" && -n "$proxy" && "$direct" != 0 ]]; then
        printf 'ratio proxy/direct: %.2f (target >= 0.80)\n' "$(echo "$proxy / $direct" | bc -l)"
    fi
    if [[ -n "$nopool" && -n "$direct" && "$direct" != 0 ]]; then
        printf '| smtp-source -> greygated (--smtp-backend-pool=0) -> smtp-sink | %s |\n' "$nopool"
        printf 'ratio without the pool: %.2f\n' "$(echo "$nopool / $direct" | bc -l)"
    fi
    grep '^deferred ' "$results"
    grep '^hold ' "$results"
} | tee "$out/summary.txt"
