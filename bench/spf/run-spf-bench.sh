#!/usr/bin/env bash
# SPF-keyed triplets benchmark (docs/spf.md, bench/README.md "SPF keying"): greygated's
# decisions per second and CPU per decision with --triplet-key=ip and with --triplet-key=spf
# (warm DNS cache), in the same run, on the same machine, with bench/policy's load generator.
# The zone is served by a private dnsmasq on loopback: each of the workload's 20,000 sender
# domains has an SPF record; half of them pass every client through an include, half fail
# (so both the SPF-keyed and the fallback paths are measured). Every process started here is
# stopped by its PID; every phase is bounded in time.
set -uo pipefail

usage() {
    cat <<'USAGE'
usage: bench/spf/run-spf-bench.sh [options]
  --build-dir=DIR     use (and build in) DIR (default: <repo>/build-bench)
  --no-build          use the binaries already in the build dir
  --duration=S        seconds per measured cell (default 10)
  --triplets=N        distinct triplets (default 10000)
  --connections="A B" connection counts (default "4 16")
  --out=DIR           keep logs and results here (default: a new /tmp/greygate-spf-bench.*)
USAGE
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir="$repo/build-bench"
do_build=1
duration=10
triplets=10000
connection_counts="4 16"
out=""
for arg in "$@"; do
    case "$arg" in
    --build-dir=*) build_dir=${arg#*=} ;;
    --no-build) do_build=0 ;;
    --duration=*) duration=${arg#*=} ;;
    --triplets=*) triplets=${arg#*=} ;;
    --connections=*) connection_counts=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $arg" >&2; usage >&2; exit 2 ;;
    esac
done

log() { echo "[spf-bench $(date +%H:%M:%S)] $*" >&2; }
[[ -n "$out" ]] || out=$(mktemp -d /tmp/greygate-spf-bench.XXXXXX)
mkdir -p "$out"
bin="$build_dir/bin"
dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[[ -x "$dnsmasq" ]] || { echo "dnsmasq missing: scripts/install-deps.sh --test" >&2; exit 1; }

if ((do_build)); then
    export CCACHE_BASEDIR="$repo"
    [[ -f "$build_dir/build.ninja" ]] ||
        cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
            -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >"$out/cmake.log" 2>&1 ||
        { echo "configure failed (see $out/cmake.log)" >&2; exit 1; }
    cmake --build "$build_dir" -j2 --target policy_loadgen greygated >"$out/build.log" 2>&1 ||
        { echo "build failed (see $out/build.log)" >&2; exit 1; }
fi
for p in policy_loadgen greygated; do
    [[ -x "$bin/$p" ]] || { echo "no $bin/$p" >&2; exit 1; }
done

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
ticks_per_second=$(getconf CLK_TCK)
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# The zone: the load generator's sender domains are mail.letters(n).example for n < 20,000
# (bench/policy/PolicyWorkload.cpp); even n pass every address through an include, odd n
# authorise only 192.0.2.0/24, which the workload never uses (SPF fail: keyed by IP).
python3 - "$out/zone.conf" <<'PY'
import sys
def letters(n):
    out = ''
    n += 1
    while n > 0:
        n -= 1
        out = chr(ord('a') + n % 26) + out
        n //= 26
    return out
with open(sys.argv[1], 'w') as f:
    f.write('txt-record=_spf.pool.example,"v=spf1 ip4:0.0.0.0/1 ip4:128.0.0.0/1 -all"\n')
    for n in range(20000):
        record = ('v=spf1 ip4:198.51.100.0/24 include:_spf.pool.example -all' if n % 2 == 0
                  else 'v=spf1 ip4:192.0.2.0/24 -all')
        f.write('txt-record=mail.%s.example,"%s"\n' % (letters(n), record))
PY

dns_port=$(free_port)
"$dnsmasq" --keep-in-foreground --conf-file="$out/zone.conf" --no-resolv --no-hosts \
    --bind-interfaces --listen-address=127.0.0.1 --port="$dns_port" --user=root \
    --pid-file="$out/dnsmasq.pid" --local=/example/ --local-ttl=3600 --neg-ttl=3600 \
    --cache-size=0 --log-facility="$out/dnsmasq.log" &
dns_pid=$!
pids+=("$dns_pid")
sleep 1
kill -0 "$dns_pid" 2>/dev/null || { echo "dnsmasq did not start (see $out/dnsmasq.log)" >&2; exit 1; }
log "dnsmasq on 127.0.0.1:$dns_port (pid $dns_pid), results in $out"

results="$out/results.txt"
: >"$results"
for mode in ip spf; do
    for conns in $connection_counts; do
        port=$(free_port)
        db="$out/db-$mode-$conns"
        "$bin/greygated" --inet="127.0.0.1:$port" --dbdir="$db" --delay=1 --user=root \
            --triplet-key="$mode" --dns-server="127.0.0.1:$dns_port" \
            >"$out/greygated-$mode-$conns.log" 2>&1 &
        server_pid=$!
        pids+=("$server_pid")
        for _ in $(seq 1 100); do
            (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
            sleep 0.1
        done
        # Warm-up: every triplet once (first sights; fills the DNS cache in spf mode).
        timeout 300 "$bin/policy_loadgen" --connect="127.0.0.1:$port" --connections="$conns" \
            --triplets="$triplets" --new-ratio=1 --count="$triplets" --duration=240 \
            --label="warm-$mode-$conns" >"$out/warm-$mode-$conns.txt" 2>&1
        sleep 1.2 # past --delay=1: retries pass
        before=$(cpu_ticks "$server_pid")
        timeout $((duration + 60)) "$bin/policy_loadgen" --connect="127.0.0.1:$port" \
            --connections="$conns" --triplets="$triplets" --first-unseen="$triplets" \
            --new-ratio=0 --duration="$duration" --label="$mode-$conns" \
            >"$out/$mode-$conns.txt" 2>&1
        after=$(cpu_ticks "$server_pid")
        line=$(grep '^RESULT ' "$out/$mode-$conns.txt")
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        [[ -n "$line" ]] || { log "$mode-$conns: no result (see $out/$mode-$conns.txt)"; continue; }
        answered=$(field answered "$line")
        cpu_us=$(awk -v d=$((after - before)) -v t="$ticks_per_second" -v n="$answered" \
            'BEGIN { printf "%.1f", (n > 0 ? d / t / n * 1e6 : 0) }')
        echo "$line server_cpu_us_per_decision=$cpu_us" | tee -a "$results"
    done
done

echo
printf '%-5s %6s %12s %10s %10s %18s\n' key conns decisions/s p50_us p99_us server_cpu_us/dec
while read -r line; do
    label=$(field label "$line")
    printf '%-5s %6s %12s %10s %10s %18s\n' "${label%-*}" "${label##*-}" "$(field rate "$line")" \
        "$(field p50_us "$line")" "$(field p99_us "$line")" \
        "$(field server_cpu_us_per_decision "$line")"
done <"$results"
for conns in $connection_counts; do
    ip=$(grep "label=ip-$conns " "$results" | sed -n 's/.* rate=\([^ ]*\).*/\1/p')
    spf=$(grep "label=spf-$conns " "$results" | sed -n 's/.* rate=\([^ ]*\).*/\1/p')
    [[ -n "$ip" && -n "$spf" ]] &&
        awk -v a="$spf" -v b="$ip" -v c="$conns" 'BEGIN { printf "spf/ip at %s connections: %.2f\n", c, a / b }'
done
