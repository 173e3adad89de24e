#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Policy delegation benchmark (DESIGN.md §7, bench/README.md): greygated, Debian's postgrey,
# the trivial responder (greygated's own PolicyServer answering DUNNO without deciding) and
# the raw epoll responder, with 1, 4 and 16 connections over 10k and 1M distinct triplets,
# in one run on one machine. Everything is on loopback; every process it starts it stops by
# PID; every phase is bounded in time.
set -uo pipefail

usage() {
    cat <<'EOF'
usage: bench/run-policy-bench.sh [options]
  --build-dir=DIR        use (and build in) DIR (default: <repo>/build-bench)
  --no-build             use the binaries already in the build dir
  --quick                short cells (3 s, postgrey 4 s) for a smoke run (~3 minutes)
  --duration=S           seconds per cell for the fast servers (default 10)
  --postgrey-duration=S  seconds per postgrey cell (default 12)
  --prefill-limit=S      at most S seconds to send every triplet once (default 60;
                         postgrey: its cell duration)
  --io-threads=N         greygated's --policy-io-threads (default: its own default, 0)
  --delay=N              greylisting delay for greygated and postgrey (default 1: retries
                         in the run pass, first sights are deferred)
  --new-ratio=F          share of first sights in the measured cells (default 0.1)
  --prefill-share=F      share of the triplets sent once before the cells (default 0.9:
                         the rest are first sights during the cells)
  --triplets="A B"       distinct triplet counts (default "10000 1000000")
  --connections="A B C"  connection counts (default "1 4 16")
  --servers="..."        subset of: raw trivial greygated gdpol postgrey (default: all but
                         gdpol)
  --policies             also run gdpol: greygated with 200 policies and a sender group of
                         10,000 members (generated, see gen_policies), and report its
                         decisions/s against plain greygated's (target: ratio >= 0.9)
  --out=DIR              keep logs and results here (default: a new /tmp/greygate-bench.*)
  --perf                 also record a perf profile of greygated on its 4-connection 1M cell
  --rounds=N             measure each cell N times, the servers taking turns (all of them
                         running, one loaded at a time), and report the median of each and
                         every round's ratios (default 1): on a shared or noisy machine the
                         servers then see the same conditions
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$repo/build-bench"
do_build=1
duration=10
pg_duration=12
prefill_limit=60
delay=1
new_ratio=0.1
prefill_share=0.9
triplet_counts="10000 1000000"
connection_counts="1 4 16"
servers="raw trivial greygated postgrey"
out=""
do_perf=0
quick=0
with_policies=0
io_threads=""
rounds=1

for arg in "$@"; do
    case "$arg" in
    --build-dir=*) build_dir=${arg#*=} ;;
    --no-build) do_build=0 ;;
    --quick) quick=1 ;;
    --duration=*) duration=${arg#*=} ;;
    --postgrey-duration=*) pg_duration=${arg#*=} ;;
    --prefill-limit=*) prefill_limit=${arg#*=} ;;
    --delay=*) delay=${arg#*=} ;;
    --io-threads=*) io_threads=${arg#*=} ;;
    --new-ratio=*) new_ratio=${arg#*=} ;;
    --prefill-share=*) prefill_share=${arg#*=} ;;
    --triplets=*) triplet_counts=${arg#*=} ;;
    --connections=*) connection_counts=${arg#*=} ;;
    --servers=*) servers=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --perf) do_perf=1 ;;
    --policies) with_policies=1 ;;
    --rounds=*) rounds=${arg#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $arg" >&2; usage >&2; exit 2 ;;
    esac
done
[[ "$rounds" =~ ^[1-9][0-9]?$ ]] || { echo "--rounds: a number from 1 to 99" >&2; exit 2; }
if ((quick)); then
    duration=3
    pg_duration=4
    prefill_limit=15
fi
if ((with_policies)) && [[ " $servers " != *" gdpol "* ]]; then
    servers=${servers/greygated/greygated gdpol} # right after greygated: same conditions
    [[ " $servers " == *" gdpol "* ]] || servers="$servers gdpol"
fi
[[ -n "$out" ]] || out=$(mktemp -d /tmp/greygate-bench.XXXXXX)
mkdir -p "$out"
bin="$build_dir/bin"
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# --- build -------------------------------------------------------------------------------
if ((do_build)); then
    if [[ ! -f "$build_dir/build.ninja" ]]; then
        cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            >"$out/cmake.log" 2>&1 || { echo "cmake failed, see $out/cmake.log" >&2; exit 1; }
    fi
    for target in policy_loadgen raw_dunno_responder trivial_responder greygated; do
        if ! cmake --build "$build_dir" -j2 --target "$target" >"$out/build-$target.log" 2>&1; then
            log "could not build $target (see $out/build-$target.log); its rows are skipped"
        fi
    done
fi
[[ -x "$bin/policy_loadgen" ]] || { echo "no $bin/policy_loadgen" >&2; exit 1; }
cd "$out" || exit 1 # nothing the run writes lands in the source tree

have_server() {
    case "$1" in
    raw) [[ -x "$bin/raw_dunno_responder" ]] ;;
    trivial) [[ -x "$bin/trivial_responder" ]] ;;
    greygated | gdpol) [[ -x "$bin/greygated" ]] ;;
    postgrey) [[ -x /usr/sbin/postgrey ]] ;;
    esac
}

# --- processes, all by PID ---------------------------------------------------------------
server_pid=""
declare -A pid_of=() # server -> PID, of the servers running for the current triplet count
cleanup() {
    local pid
    for pid in "$server_pid" "${pid_of[@]}"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null
            sleep 1
            kill -KILL "$pid" 2>/dev/null
        fi
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

source "$repo/scripts/lib/loopback.sh" # free_port, listening, wait_listening

# gen_policies FILE: 200 policies and a custom group of 10,000 members, none of which match
# the load generator's senders (mail.<letters>.example) or clients, so both servers give the
# same answers and only the cost of evaluating differs. The mix exercises every path of
# PolicyIndex: address- and domain-keyed policies (hash lookups), group, internal/external
# and source-range policies (walked), Blocked and Permitted Senders groups.
gen_policies() {
    python3 - "$1" <<'PY'
import json, sys
policies, groups = [], []
def add(action, frm, to, **extra):
    policies.append(dict(id=len(policies) + 1, narrative="bench %d" % (len(policies) + 1),
                         action=action, **{"from": frm, "to": to}, **extra))
for i in range(100):
    add("bypass", {"type": "domain", "value": "partner%d.test" % i}, {"type": "everyone"})
for i in range(30):
    add("bypass", {"type": "domain", "value": "group%d.test" % i, "includeSubdomains": True},
        {"type": "internal"})
for i in range(40):
    add("bypass", {"type": "address", "value": "ceo%d@vendor%d.test" % (i, i)},
        {"type": "everyone"})
for i in range(10):
    add("greylist", {"type": "group", "value": "Big Group"}, {"type": "internal"},
        bidirectional=(i % 2 == 0))
for i in range(10):
    add("greylist", {"type": "everyone"}, {"type": "everyone"},
        sourceRanges=["10.%d.0.0/16" % i, "fd00:%x::/32" % i])
for i in range(10):
    add("greylist", {"type": "external", "basedOn": "envelope"}, {"type": "internal"},
        start="2020-01-01T00:00:00Z", end="2099-01-01T00:00:00Z")
assert len(policies) == 200
members = ["member%d@corp%d.test" % (i, i % 500) for i in range(9000)]
members += ["@domain%d.test" % i for i in range(900)]
members += ["10.%d.%d.0/24" % (i // 256, i % 256) for i in range(100)]
assert len(members) == 10000
groups.append({"name": "Big Group", "members": members})
groups.append({"name": "Blocked Senders", "members": ["spam%d@bad.test" % i for i in range(50)]})
groups.append({"name": "Permitted Senders", "members": ["@friend%d.test" % i for i in range(50)]})
json.dump({"policies": policies, "groups": groups}, open(sys.argv[1], "w"))
PY
}


# start_server NAME PORT DIR: starts it in the background, sets server_pid, waits until it
# listens (at most 30 s: greygated may load a database).
start_server() {
    local name=$1 port=$2 dir=$3
    case "$name" in
    raw) "$bin/raw_dunno_responder" --listen="127.0.0.1:$port" >"$dir/server.log" 2>&1 & ;;
    trivial) "$bin/trivial_responder" --listen="127.0.0.1:$port" >"$dir/server.log" 2>&1 & ;;
    greygated)
        mkdir -p "$dir/db"
        "$bin/greygated" --inet="127.0.0.1:$port" --dbdir="$dir/db" --delay="$delay" \
            ${io_threads:+"--policy-io-threads=$io_threads"} >"$dir/server.log" 2>&1 &
        ;;
    gdpol)
        mkdir -p "$dir/db"
        [[ -f "$out/bench-policies.json" ]] || gen_policies "$out/bench-policies.json"
        "$bin/greygated" --inet="127.0.0.1:$port" --dbdir="$dir/db" --delay="$delay" \
            --policies="$out/bench-policies.json" --internal-domains="*.greygate.example" \
            --internal-networks=10.0.0.0/8 ${io_threads:+"--policy-io-threads=$io_threads"} \
            >"$dir/server.log" 2>&1 &
        ;;
    postgrey)
        # As root on loopback: --user/--group root, a private dbdir, its log in a file.
        mkdir -p "$dir/db"
        /usr/sbin/postgrey --inet="127.0.0.1:$port" --dbdir="$dir/db" --delay="$delay" \
            --user=root --group=root >"$dir/server.log" 2>&1 &
        ;;
    esac
    server_pid=$!
    local i
    for ((i = 0; i < 300; i++)); do
        listening "$port" && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    log "$name did not start listening on $port (see $dir/server.log)"
    stop_server
    return 1
}

stop_server() {
    [[ -n "$server_pid" ]] || return 0
    kill -TERM "$server_pid" 2>/dev/null
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        log "pid $server_pid ignored SIGTERM for 10 s: SIGKILL"
        kill -KILL "$server_pid" 2>/dev/null
    fi
    wait "$server_pid" 2>/dev/null
    server_pid=""
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
ticks_per_second=$(getconf CLK_TCK)

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# loadgen LABEL PORT CONNS TRIPLETS FIRST_UNSEEN NEW_RATIO DURATION [COUNT]: one run; prints
# its RESULT line with the server's CPU use (cores) appended.
loadgen() {
    local label=$1 port=$2 conns=$3 triplets=$4 first=$5 ratio=$6 seconds=$7 count=${8:-0}
    local before after line args=()
    ((count > 0)) && args+=(--count="$count")
    before=$(cpu_ticks "$server_pid")
    "$bin/policy_loadgen" --connect="127.0.0.1:$port" --connections="$conns" \
        --triplets="$triplets" --first-unseen="$first" --new-ratio="$ratio" \
        --duration="$seconds" --label="$label" "${args[@]}" >"$out/$label.txt" 2>&1
    after=$(cpu_ticks "$server_pid")
    line=$(grep '^RESULT ' "$out/$label.txt")
    [[ -n "$line" ]] || { log "$label: no result (see $out/$label.txt)"; return 1; }
    local secs
    secs=$(field seconds "$line")
    echo "$line server_cores=$(awk -v d=$((after - before)) -v t="$ticks_per_second" -v s="$secs" \
        'BEGIN { printf "%.2f", (s > 0 ? d / t / s : 0) }')"
}

# --- the run -----------------------------------------------------------------------------
results="$out/results.txt"
: >"$results"
extras="$out/extras.txt"
: >"$extras"
started=$(date +%s)
log "results in $out"

# For each triplet count every server runs at once (an idle one costs nothing) and the
# cells take turns: round r of a connection count loads each server in turn, so that with
# --rounds the servers are compared under the same conditions.
for triplets in $triplet_counts; do
    pid_of=()
    declare -A port_of=() first_of=() dir_of=()
    running=""
    for server in $servers; do
        have_server "$server" || { log "skipping $server: not built / not installed"; continue; }
        dir="$out/$server-$triplets"
        mkdir -p "$dir"
        port=$(free_port)
        start_server "$server" "$port" "$dir" || continue
        pid_of[$server]=$server_pid
        port_of[$server]=$port
        dir_of[$server]=$dir
        running="$running $server"
        first_unseen=0
        prefill_count=$(awk -v t="$triplets" -v s="$prefill_share" 'BEGIN { printf "%d", t * s }')
        if [[ "$server" == greygated || "$server" == gdpol || "$server" == postgrey ]]; then
            # Prefill: most triplets once (all first sights, all deferred), so the measured
            # cells run against a database of about that size and still see first sights;
            # bounded in time (postgrey only gets through part of 1M, the table says how
            # many it knew).
            limit=$prefill_limit
            [[ "$server" == postgrey ]] && limit=$pg_duration
            log "$server $triplets: prefill (at most $limit s)"
            line=$(loadgen "$server-$triplets-prefill" "$port" 4 "$triplets" 0 1 "$limit" \
                "$prefill_count")
            if [[ -n "$line" ]]; then
                first_unseen=$(field next_unseen "$line")
                echo "$line" >>"$results"
            fi
        else
            first_unseen=$prefill_count # stateless: the same request stream, no prefill needed
        fi
        first_of[$server]=$first_unseen
    done
    sleep $((delay + 1)) # so that the prefilled triplets' retries pass
    for conns in $connection_counts; do
        for ((round = 1; round <= rounds; round++)); do
            for server in $running; do
                server_pid=${pid_of[$server]}
                cell_seconds=$duration
                [[ "$server" == postgrey ]] && cell_seconds=$pg_duration
                label="$server-$triplets-c$conns"
                ((rounds > 1)) && label="$label-r$round"
                log "$label: $cell_seconds s"
                line=$(loadgen "$label" "${port_of[$server]}" "$conns" "$triplets" \
                    "${first_of[$server]}" "$new_ratio" "$cell_seconds") || continue
                first_of[$server]=$(field next_unseen "$line")
                echo "$line" >>"$results"
            done
        done
    done
    for server in $running; do
        server_pid=${pid_of[$server]}
        port=${port_of[$server]}
        dir=${dir_of[$server]}
        if [[ "$server" == greygated && $do_perf == 1 && "$triplets" == "${triplet_counts##* }" ]] &&
            command -v perf >/dev/null; then
            log "perf: profiling greygated for $duration s with 4 connections"
            perf record -g -o "$out/greygated.perf.data" -p "$server_pid" \
                >"$out/perf-record.log" 2>&1 &
            perf_pid=$!
            loadgen "greygated-$triplets-perf" "$port" 4 "$triplets" "${first_of[$server]}" \
                "$new_ratio" "$duration" >/dev/null
            kill -INT "$perf_pid" 2>/dev/null
            wait "$perf_pid" 2>/dev/null
            perf report -i "$out/greygated.perf.data" --no-children --percent-limit 1.5 \
                --stdio >"$out/greygated.perf.txt" 2>/dev/null
        fi
        rss=$(status_kb "$server_pid" VmRSS)
        hwm=$(status_kb "$server_pid" VmHWM)
        db_running=$(du -sk "$dir/db" 2>/dev/null | cut -f1)
        stop_server
        unset "pid_of[$server]"
        db_stopped=$(du -sk "$dir/db" 2>/dev/null | cut -f1)
        echo "EXTRA server=$server triplets=$triplets known=${first_of[$server]} rss_kb=${rss:-} hwm_kb=${hwm:-} db_kb=${db_running:-} db_stopped_kb=${db_stopped:-}" >>"$extras"
    done
done
elapsed=$(($(date +%s) - started))

# --- the report --------------------------------------------------------------------------
report="$out/report.md"
# What both report programs share: f(line, key) reads a field of a RESULT line; add(key,
# line) files a cell's round under key (server SUBSEP triplets SUBSEP conns); pick(key)
# returns the round whose rate is the median (the lower middle one for an even count), so
# that the latency and CPU shown are that round's own.
# shellcheck disable=SC2016
awk_common='
function f(line, key) {
    if (match(line, " " key "=[^ ]*")) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
    return ""
}
function add(key, l) { n_of[key]++; round_of[key, n_of[key]] = l }
function pick(key,   n, i, j, r, tmp, idx) {
    n = n_of[key]
    if (n == 0) return ""
    for (i = 1; i <= n; i++) idx[i] = i
    for (i = 2; i <= n; i++) for (j = i; j > 1 && f(round_of[key, idx[j - 1]], "rate") + 0 > f(round_of[key, idx[j]], "rate") + 0; j--) {
        tmp = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = tmp }
    return round_of[key, idx[int((n + 1) / 2)]]
}'
awk -v elapsed="$elapsed" -v rounds="$rounds" "$awk_common"'
function mb(kb) { return kb == "" ? "-" : sprintf("%.1f MB", kb / 1024) }
function ratio(a, b) { return (b > 0 && a != "") ? sprintf(a / b < 10 ? "%.2fx" : "%.1fx", a / b) : "-" }
FNR == NR && /^RESULT / {
    label = f($0, "label")
    if (label ~ /-prefill$/ || label ~ /-perf$/) { prefill[label] = $0; next }
    split(label, p, "-")                     # server-triplets-cN[-rR]
    key = p[1] SUBSEP p[2] SUBSEP f($0, "conns")
    add(key, $0)
    if (!(p[2] in seenT)) { seenT[p[2]] = 1; Ts[++nT] = p[2] }
    if (!(f($0, "conns") in seenC)) { seenC[f($0, "conns")] = 1; Cs[++nC] = f($0, "conns") }
    next
}
/^EXTRA / { split($0, kv, " "); s = f($0, "server"); t = f($0, "triplets")
    known[s, t] = f($0, "known"); rss[s, t] = f($0, "rss_kb"); hwm[s, t] = f($0, "hwm_kb")
    db[s, t] = f($0, "db_kb"); dbs[s, t] = f($0, "db_stopped_kb") }
END {
    for (key in n_of) { line[key] = pick(key); rate[key] = f(line[key], "rate") }
    if (rounds > 1) {
        printf "Medians of %d rounds (the servers took turns; the latency and CPU are the median round'"'"'s):\n\n", rounds
    }
    print "| triplets | conns | greygated dec/s | p99 ms | postgrey dec/s | p99 ms | vs postgrey | trivial dec/s | vs trivial | raw dec/s | loadgen / greygated cores |"
    print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= nT; i++) for (j = 1; j <= nC; j++) {
        t = Ts[i]; c = Cs[j]
        g = rate["greygated", t, c]; pg = rate["postgrey", t, c]; tr = rate["trivial", t, c]; rw = rate["raw", t, c]
        gl = line["greygated", t, c]; pl = line["postgrey", t, c]
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t, c,
            g == "" ? "-" : g, gl == "" ? "-" : sprintf("%.2f", f(gl, "p99_us") / 1000),
            pg == "" ? "-" : pg, pl == "" ? "-" : sprintf("%.2f", f(pl, "p99_us") / 1000),
            ratio(g, pg), tr == "" ? "-" : tr, ratio(g, tr), rw == "" ? "-" : rw,
            gl == "" ? "-" : f(gl, "loadgen_cores") " / " f(gl, "server_cores")
    }
    if (rounds > 1) {
        print ""
        print "Every round (dec/s; a round loads each server in turn, a few seconds apart):"
        print ""
        print "| triplets | conns | round | greygated | trivial | vs trivial | postgrey | vs postgrey | raw |"
        print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= nT; i++) for (j = 1; j <= nC; j++) for (r = 1; r <= rounds; r++) {
            t = Ts[i]; c = Cs[j]
            g = f(round_of["greygated", t, c, r], "rate"); tr = f(round_of["trivial", t, c, r], "rate")
            pg = f(round_of["postgrey", t, c, r], "rate"); rw = f(round_of["raw", t, c, r], "rate")
            if (g == "" && tr == "") continue
            printf "| %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", t, c, r, g == "" ? "-" : g,
                tr == "" ? "-" : tr, ratio(g, tr), pg == "" ? "-" : pg, ratio(g, pg), rw == "" ? "-" : rw
        }
    }
    print ""
    print "| server | triplets | known at end | VmRSS | VmHWM | database (running) | database (stopped) |"
    print "|---|---:|---:|---:|---:|---:|---:|"
    for (k in known) { split(k, q, SUBSEP)
        if (q[1] == "greygated" || q[1] == "postgrey")
            printf "| %s | %s | %s | %s | %s | %s | %s |\n", q[1], q[2], known[k], mb(rss[k]), mb(hwm[k]), mb(db[k]), mb(dbs[k]) }
    print ""
    print "Prefill (first sights only, 4 connections):"
    print ""
    for (k in prefill) printf "- %s: %s decisions/s, %s answered in %s s, p99 %.2f ms\n", k,
        f(prefill[k], "rate"), f(prefill[k], "answered"), f(prefill[k], "seconds"), f(prefill[k], "p99_us") / 1000
    print ""
    printf "Whole run: %d s.\n", elapsed
}' "$results" "$extras" >"$report"

{
    echo "Detailed cells (answer mix, latency, CPU):"
    echo
    echo '| cell | dec/s | p50 ms | p99 ms | max ms | DEFER_IF_PERMIT | PREPEND | DUNNO | other | errors | loadgen cores | server cores |'
    echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
    while read -r l; do
        printf '| %s | %s | %.2f | %.2f | %.2f | %s | %s | %s | %s | %s | %s | %s |\n' \
            "$(field label "$l")" "$(field rate "$l")" \
            "$(awk -v v="$(field p50_us "$l")" 'BEGIN{print v/1000}')" \
            "$(awk -v v="$(field p99_us "$l")" 'BEGIN{print v/1000}')" \
            "$(awk -v v="$(field max_us "$l")" 'BEGIN{print v/1000}')" \
            "$(field defer "$l")" "$(field prepend "$l")" "$(field dunno "$l")" "$(field other "$l")" \
            "$(field errors "$l")" "$(field loadgen_cores "$l")" "$(field server_cores "$l")"
    done <"$results"
} >>"$report"

if [[ " $servers " == *" gdpol "* ]]; then
    {
        echo
        echo "Policies: greygated with 200 policies and a group of 10,000 members (gdpol) against"
        echo "greygated without policies, same run, same request stream (target: ratio >= 0.90):"
        echo
        echo "The server's CPU per decision (server cores / dec/s) is the steadier figure on a"
        echo "shared machine: the rates move with whatever else runs, the cost of a decision less."
        echo
        echo '| triplets | conns | greygated dec/s | with policies dec/s | ratio | server CPU µs/decision (none / policies) | p99 ms (none / policies) |'
        echo '|---:|---:|---:|---:|---:|---:|---:|'
        awk "$awk_common"'
        /^RESULT / { label = f($0, "label"); if (label ~ /-prefill$|-perf$/) next
            split(label, p, "-"); key = p[2] SUBSEP f($0, "conns")
            if (!(key in seen)) { seen[key] = 1; order[++n] = key }
            add(p[1] SUBSEP key, $0) }
        function us(s, k) { return (rate[s, k] > 0 && cores[s, k] != "") ? sprintf("%.1f", cores[s, k] / rate[s, k] * 1e6) : "-" }
        END { for (key in n_of) { l = pick(key); rate[key] = f(l, "rate"); p99[key] = f(l, "p99_us")
                cores[key] = f(l, "server_cores") }
            for (i = 1; i <= n; i++) { k = order[i]; split(k, q, SUBSEP)
            g = rate["greygated", k]; d = rate["gdpol", k]
            printf "| %s | %s | %s | %s | %s | %s / %s | %s / %s |\n", q[1], q[2], g == "" ? "-" : g,
                d == "" ? "-" : d, (g > 0 && d != "") ? sprintf("%.2f", d / g) : "-",
                us("greygated", k), us("gdpol", k),
                p99["greygated", k] == "" ? "-" : sprintf("%.2f", p99["greygated", k] / 1000),
                p99["gdpol", k] == "" ? "-" : sprintf("%.2f", p99["gdpol", k] / 1000) } }' "$results"
    } >>"$report"
fi

cat "$report"
log "report: $report (raw results: $results, logs: $out)"
