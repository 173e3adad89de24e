#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Instructions per decision of greygated with 0, 1 and N event subscribers (bench/README.md,
# "Events"): greygated runs under callgrind with instrumentation off; for each subscriber
# count the subscribers (bench/events/events_subscriber, native) subscribe, instrumentation
# is switched on for exactly --count policy requests (policy_loadgen --count), then off, and
# that part's profile is dumped. Instruction counts do not depend on the machine's load.
# Everything on loopback, every process stopped by PID, every step bounded.
set -uo pipefail

usage() {
    cat <<'EOF'
usage: bench/events-callgrind.sh --bin=DIR [--count=N] [--subscribers="0 1 10"] [--out=DIR]
  --bin=DIR          a RelWithDebInfo build's bin/ (greygated, policy_loadgen, events_subscriber)
  --greygated=PATH   this greygated instead of DIR's (another commit's, same run)
  --count=N          policy requests profiled per subscriber count (default 20000)
  --subscribers="A"  subscriber counts (default "0 1 10")
  --out=DIR          callgrind.out.* and summary.txt (default: a new /tmp directory)
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="" server_bin="" count=20000 counts="0 1 10" out=""
for arg in "$@"; do
    case "$arg" in
    --bin=*) bin=${arg#*=} ;;
    --greygated=*) server_bin=${arg#*=} ;;
    --count=*) count=${arg#*=} ;;
    --subscribers=*) counts=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option $arg" >&2; usage >&2; exit 2 ;;
    esac
done
[[ -n "$bin" && -x "$bin/policy_loadgen" && -x "$bin/events_subscriber" ]] ||
    { usage >&2; exit 2; }
[[ "$count" =~ ^[0-9]+$ ]] && ((count >= 100 && count <= 1000000)) ||
    { echo "--count takes 100..1000000" >&2; exit 2; }
[[ -n "$server_bin" ]] || server_bin="$bin/greygated"
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
    { echo "needs valgrind (callgrind)" >&2; exit 2; }
[[ -n "$out" ]] || out=$(mktemp -d /tmp/greygate-events-callgrind.XXXXXX)
mkdir -p "$out/db" && out=$(cd "$out" && pwd)
source "$repo/scripts/lib/loopback.sh"

server_pid="" subs=()
stop_subs() {
    local p
    for p in "${subs[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${subs[@]}"; do wait "$p" 2>/dev/null; done
    subs=()
}
cleanup() {
    stop_subs
    [[ -n "$server_pid" ]] && kill -TERM "$server_pid" 2>/dev/null
    [[ -n "$server_pid" ]] && wait "$server_pid" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

policy_port=$(free_port)
control_port=$(free_port)
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.out.%p" \
    "$server_bin" --inet="127.0.0.1:$policy_port" --dbdir="$out/db" --delay=1 \
    --control-listen="127.0.0.1:$control_port" >"$out/greygated.log" 2>&1 &
server_pid=$!
wait_listening "$control_port" "$server_pid" 120 && wait_listening "$policy_port" "$server_pid" 10 ||
    { echo "greygated did not start (see $out/greygated.log)" >&2; exit 1; }

loadgen() { # loadgen FIRST_UNSEEN COUNT LABEL
    "$bin/policy_loadgen" --connect="127.0.0.1:$policy_port" --connections=4 --triplets=100000 \
        --first-unseen="$1" --new-ratio=0.1 --count="$2" --duration=600 --label="$3" |
        grep '^RESULT'
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
line=$(loadgen 0 20000 prefill) || exit 1
unseen=$(field next_unseen "$line")
sleep 2
: >"$out/summary.txt"
for n in $counts; do
    stop_subs
    for ((i = 1; i <= n; i++)); do
        "$bin/events_subscriber" --url="ws://127.0.0.1:$control_port" \
            --token-file="$out/db/control-readonly.token" --duration=3000 --label="s$i" \
            >"$out/sub$n-$i.txt" 2>&1 &
        subs+=($!)
    done
    for ((i = 0; i < 300; i++)); do
        ((n == 0)) && break
        (($(cat "$out"/sub"$n"-*.txt | grep -c '^READY') >= n)) && break
        sleep 0.1
    done
    callgrind_control -z "$server_pid" >/dev/null
    callgrind_control -i on "$server_pid" >/dev/null
    line=$(loadgen "$unseen" "$count" "sub$n") || exit 1
    sleep 1 # the last flush of the stream (every 50 ms) lands in the profile too
    callgrind_control -i off "$server_pid" >/dev/null
    callgrind_control -d "sub$n" "$server_pid" >/dev/null
    unseen=$(field next_unseen "$line")
    echo "subscribers=$n $line" >>"$out/summary.txt"
done
stop_subs
kill -TERM "$server_pid" 2>/dev/null
wait "$server_pid" 2>/dev/null
server_pid=""
for f in "$out"/callgrind.out.*.*; do
    total=$(callgrind_annotate "$f" 2>/dev/null | sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' |
        tr -d ,)
    part=$(sed -n 's/^desc: Trigger: Client Request: \(.*\)/\1/p;s/^cmd: .*//' "$f" | head -1)
    echo "profile=$f trigger=$part instructions=$total" >>"$out/summary.txt"
done
cat "$out/summary.txt"
