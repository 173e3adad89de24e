#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Where greygated's CPU goes per message on the SMTP proxy path (bench/README.md "SMTP proxy",
# "Per-message cost"): smtp-source -> greygated -> smtp-sink on loopback, the passed triplet
# (so every message takes the accepting path: decision, pooled backend, DATA streamed), and
# greygated measured in a way that does not depend on how loaded the machine is:
#   --mode=cpu        CPU seconds (user + system, /proc/PID/stat) per message, natively
#   --mode=callgrind  instructions per message under valgrind's callgrind, counters zeroed
#                     after the warm-up, so only the measured messages count; the profile is
#                     kept for callgrind_annotate
# Compare two builds with --build-dir for each, in the same run. Every process it starts it
# stops by PID; every phase is bounded in time.
set -uo pipefail

usage() {
    cat <<'EOF'
usage: bench/smtp/profile-smtp-proxy.sh [options]
  --build-dir=DIR[::ARGS]  greygated from DIR/bin (default: <repo>/build-bench; repeat the
                    option to compare builds or option sets, e.g. DIR::--smtp-threads=2: each
                    is measured in turn, in the same run; ARGS are added to --args)
  --mode=cpu|callgrind   (default: cpu)
  --messages=N      messages measured (default: 20000 for cpu, 2000 for callgrind)
  --sessions=N      smtp-source's parallel sessions (default 20)
  --reuse           several messages per connection (smtp-source -d)
  --rounds=N        cpu mode: rounds per build, interleaved (default 3)
  --args="..."      extra greygated options for every build (e.g. "--smtp-threads=2")
  --budget          cpu mode: also a direct cell per round (smtp-source straight to
                    smtp-sink) and smtp-source's and smtp-sink's CPU per message in every
                    cell, for the 2-core budget (bench/README.md "CPU budget")
  --out=DIR         keep logs and profiles here (default: a new /tmp/greygate-smtp-profile.*)
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
builds=()
mode=cpu
messages=""
sessions=20
reuse=0
rounds=3
extra_args=""
out=""
budget=0
for arg in "$@"; do
    case "$arg" in
    --build-dir=*) builds+=("${arg#*=}") ;;
    --mode=*) mode=${arg#*=} ;;
    --messages=*) messages=${arg#*=} ;;
    --sessions=*) sessions=${arg#*=} ;;
    --reuse) reuse=1 ;;
    --rounds=*) rounds=${arg#*=} ;;
    --args=*) extra_args=${arg#*=} ;;
    --out=*) out=${arg#*=} ;;
    --budget) budget=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option: $arg" >&2; usage >&2; exit 2 ;;
    esac
done
[[ $mode == cpu || $mode == callgrind ]] || { echo "--mode is cpu or callgrind" >&2; exit 2; }
((${#builds[@]})) || builds=("$repo/build-bench")
[[ -n "$messages" ]] || { [[ $mode == cpu ]] && messages=20000 || messages=2000; }
[[ -n "$out" ]] || out=$(mktemp -d /tmp/greygate-smtp-profile.XXXXXX)
mkdir -p "$out"
build_args=()
for k in "${!builds[@]}"; do
    b=${builds[k]}
    build_args[k]=""
    if [[ $b == *::* ]]; then
        build_args[k]=${b#*::}
        builds[k]=${b%%::*}
    fi
done
for b in "${builds[@]}"; do
    [[ -x "$b/bin/greygated" ]] || { echo "no $b/bin/greygated (build the greygated target)" >&2; exit 1; }
done
tools=(/usr/sbin/smtp-source /usr/sbin/smtp-sink python3)
[[ $mode == callgrind ]] && tools+=(valgrind callgrind_control callgrind_annotate)
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || { echo "missing $tool (Debian: postfix, valgrind, python3)" >&2; exit 1; }
done
((EUID == 0)) || { echo "run as root: smtp-sink drops to the postfix user" >&2; exit 1; }
cd "$out" || exit 1
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# shellcheck source=bench/smtp/bench-processes.sh
source "$repo/bench/smtp/bench-processes.sh"
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
user_ticks() { awk '{ sub(/^.*\) /, ""); print $12 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

sink_port=$(free_port)
/usr/sbin/smtp-sink -u postfix -c -m 1000 "127.0.0.1:$sink_port" 1024 >"$out/sink.log" 2>&1 &
sink_pid=$!
pids+=("$sink_pid")
wait_listening "$sink_port" "$sink_pid" || { echo "smtp-sink did not start" >&2; exit 1; }

# start NAME BUILD_DIR ARGS [WRAPPER...]: sets gd_pid and gd_port.
start() {
    local name=$1 build=$2 args=$3
    shift 3
    mkdir -p "$out/$name/db"
    gd_port=$(free_port)
    # shellcheck disable=SC2086 # --args is split on purpose
    "$@" "$build/bin/greygated" --dbdir="$out/$name/db" --delay=1 --auto-whitelist-clients=0 \
        --smtp-listen="127.0.0.1:$gd_port" --smtp-backend="127.0.0.1:$sink_port" \
        --smtp-hostname=mx.bench.test --smtp-max-connections=5000 --smtp-max-per-client=5000 \
        $extra_args $args >"$out/$name/greygated.log" 2>&1 &
    gd_pid=$!
    pids+=("$gd_pid")
    wait_listening "$gd_port" "$gd_pid" 120 || { echo "greygated ($name) did not start:" >&2; tail -5 "$out/$name/greygated.log" >&2; exit 1; }
}
source_run() { # PORT COUNT LOG: smtp-source's own CPU seconds (user system) go to LOG.time
    local args=(-s "$sessions" -m "$2" -M client.bench.test -f bulk@sender.bench -t rcpt@example.test)
    ((reuse)) && args+=(-d)
    timeout 1200 /usr/bin/time -o "$3.time" -f '%U %S' /usr/sbin/smtp-source "${args[@]}" "127.0.0.1:$1" >"$3" 2>&1
}
source_cpu() { awk 'NF == 2 { print $1 + $2 }' "$1.time" 2>/dev/null | tail -1; }
warm() { # PORT: the triplet passed (deferred once, accepted after the 1 s delay), then warm
    source_run "$1" 1 "$out/warm-1.log"
    sleep 1.5
    source_run "$1" 1 "$out/warm-2.log" || { echo "the passed triplet was not accepted: $(cat "$out/warm-2.log")" >&2; exit 1; }
    source_run "$1" 200 "$out/warm-3.log"
}
hz=$(getconf CLK_TCK)

if [[ $mode == callgrind ]]; then
    i=0
    for b in "${builds[@]}"; do
        i=$((i + 1))
        name="build$i"
        start "$name" "$b" "${build_args[i - 1]}" valgrind --tool=callgrind --callgrind-out-file="$out/$name/callgrind.out.%p" \
            --dump-instr=no --collect-jumps=no
        warm "$gd_port"
        callgrind_control -z "$gd_pid" >/dev/null
        source_run "$gd_port" "$messages" "$out/$name/source.log"
        rc=$?
        callgrind_control -d "$gd_pid" >/dev/null
        sleep 1
        kill -TERM "$gd_pid"
        wait "$gd_pid" 2>/dev/null
        # The dump taken after the run: the highest-numbered part file.
        profile=$(ls -t "$out/$name"/callgrind.out.* | grep -v '\.[0-9]*$' | head -1)
        part=$(ls -t "$out/$name"/callgrind.out.*.* 2>/dev/null | head -1)
        [[ -n "$part" ]] && profile=$part
        ir=$(callgrind_annotate "$profile" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(/,/, "", $1); print $1; exit }')
        printf '%s build=%s exit=%d messages=%d instructions=%s instructions_per_message=%.0f profile=%s\n' \
            "$name" "$b" "$rc" "$messages" "$ir" "$(echo "${ir:-0} / $messages" | bc -l)" "$profile" |
            tee -a "$out/results.txt"
    done
    exit 0
fi

# cpu mode: all builds started at once, rounds interleaved, CPU ticks per message.
ports=()
gpids=()
i=0
for b in "${builds[@]}"; do
    i=$((i + 1))
    start "build$i" "$b" "${build_args[i - 1]}"
    ports+=("$gd_port")
    gpids+=("$gd_pid")
    warm "$gd_port"
done
per_msg() { echo "$1 / $2 * 1000000" | bc -l; } # SECONDS MESSAGES -> µs per message
for ((r = 1; r <= rounds; r++)); do
    if ((budget)); then
        s0=$(cpu_ticks "$sink_pid")
        t0=$(date +%s.%N)
        source_run "$sink_port" "$messages" "$out/direct-round$r.log"
        rc=$?
        t1=$(date +%s.%N)
        s1=$(cpu_ticks "$sink_pid")
        printf 'direct round=%d exit=%d messages=%d source_us_per_message=%.1f sink_us_per_message=%.1f wall_s=%.2f msg_per_s=%.0f\n' \
            "$r" "$rc" "$messages" "$(per_msg "$(source_cpu "$out/direct-round$r.log")" "$messages")" \
            "$(per_msg "($s1 - $s0) / $hz" "$messages")" "$(echo "$t1 - $t0" | bc -l)" \
            "$(echo "$messages / ($t1 - $t0)" | bc -l)" | tee -a "$out/results.txt"
    fi
    for ((k = 0; k < ${#builds[@]}; k++)); do
        c0=$(cpu_ticks "${gpids[k]}")
        u0=$(user_ticks "${gpids[k]}")
        s0=$(cpu_ticks "$sink_pid")
        t0=$(date +%s.%N)
        log_="$out/build$((k + 1))-round$r.log"
        source_run "${ports[k]}" "$messages" "$log_"
        rc=$?
        t1=$(date +%s.%N)
        c1=$(cpu_ticks "${gpids[k]}")
        u1=$(user_ticks "${gpids[k]}")
        s1=$(cpu_ticks "$sink_pid")
        extra=""
        ((budget)) && extra=$(printf ' source_us_per_message=%.1f sink_us_per_message=%.1f msg_per_s=%.0f' \
            "$(per_msg "$(source_cpu "$log_")" "$messages")" "$(per_msg "($s1 - $s0) / $hz" "$messages")" \
            "$(echo "$messages / ($t1 - $t0)" | bc -l)")
        # user and system apart: the kernel's share (the dialogue's sends and receives) and
        # the proxy's own code move separately
        printf 'build%d round=%d build=%s args="%s" exit=%d messages=%d cpu_s=%.2f cpu_us_per_message=%.1f user_us=%.1f sys_us=%.1f wall_s=%.2f%s\n' \
            $((k + 1)) "$r" "${builds[k]}" "${build_args[k]}" "$rc" "$messages" "$(echo "($c1 - $c0) / $hz" | bc -l)" \
            "$(echo "($c1 - $c0) / $hz / $messages * 1000000" | bc -l)" \
            "$(per_msg "($u1 - $u0) / $hz" "$messages")" "$(per_msg "($c1 - $c0 - $u1 + $u0) / $hz" "$messages")" \
            "$(echo "$t1 - $t0" | bc -l)" "$extra" |
            tee -a "$out/results.txt"
    done
done
