#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Screenshots of "Replay changes" and the policy history with real data: starts two real
# greygated (mx1 and mx2: policy server and control API on loopback, temp dirs), sends mx1
# real traffic through its policy port, then, under xvfb-run, the grabber gives mx1 a few
# policy versions through the control API (a partner bypass, a greylist, a shadow policy, an
# edit) and mx2 a table that differs, replays an edited table on mx1 and opens its history
# (an older version selected, mx2 compared), writing docs/screenshots/policy-replay.png and
# policy-history.png.
#
# Then, for issue 11's pages (when bin/release_screenshots and libfaketime are there), a third
# greygated, mx3, on a clock sped up 240 times (libfaketime: an hour passes in 15 s) starting
# six hours back: real traffic through its policy port over six "hours" (senders that retry
# after 8, 20 or 45 minutes, some that never retry, some that retry too early, one that comes
# back from another network), so the delay analytics have hours of history and the retry
# windows (1 h) close into "Sender Failed to Retry" entries; then the grabber makes a few
# timed releases and an expectation (one revoked) and writes releases.png, delay.png and
# triage.png.
#
#   scripts/policy-screenshots.sh [BUILD_DIR]   (default: build; needs bin/greygated and
#                                                bin/policy_screenshots)
#
# Stops only the greygated processes it started, by their PIDs.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
BIN=$BUILD/bin
OUT=${OUT:-$ROOT/docs/screenshots}

for tool in greygated policy_screenshots; do
    [[ -x $BIN/$tool ]] || { echo "policy-screenshots.sh: $BIN/$tool is missing: build it first" >&2; exit 2; }
done
command -v xvfb-run >/dev/null || { echo "policy-screenshots.sh: xvfb-run is missing" >&2; exit 2; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

source "$ROOT/scripts/lib/loopback.sh" # free_port, listening, wait_listening

# start NAME [OPTIONS...]: sets POLICY_PORT and CONTROL_PORT (not in a subshell: PIDS must
# keep the PID). $PRELOAD/$FAKE run it on a fake clock.
start() {
    local name=$1 policy control=
    shift
    policy=$(free_port)
    local clock=()
    [[ -n ${PRELOAD:-} ]] && clock=(LD_PRELOAD="$PRELOAD" FAKETIME="$FAKE" FAKETIME_NO_CACHE=1)
    env "${clock[@]}" "$BIN/greygated" --inet="127.0.0.1:$policy" --dbdir="$WORK/$name" --delay=5 \
        --control-listen=127.0.0.1:0 --hostname="$name.example.net" "$@" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 1 200); do
        control=$(sed -n 's/.*msg="control API listening".* port=\([0-9]*\).*/\1/p' "$WORK/$name.log" | head -n1)
        [[ -n $control ]] && break
        sleep 0.1
    done
    [[ -n $control ]] || { echo "policy-screenshots.sh: $name did not start:" >&2; cat "$WORK/$name.log" >&2; exit 1; }
    POLICY_PORT=$policy
    CONTROL_PORT=$control
}

start mx1
MX1_POLICY=$POLICY_PORT
MX1_CONTROL=$CONTROL_PORT
start mx2
MX2_CONTROL=$CONTROL_PORT
ask() {
    local client=$1 sender=$2 recipient=$3 answer=
    exec 3<>"/dev/tcp/127.0.0.1/${ASK_PORT:-$MX1_POLICY}"
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=%s\nsender=%s\nrecipient=%s\n\n' \
        "$client" "$sender" "$recipient" >&3
    read -r -t 10 answer <&3 || true
    exec 3>&-
}
RCPTS=(alice@corp.example bob@corp.example carol@corp.example dave@corp.example)
round() { # domain count client-prefix
    local i
    for i in $(seq 1 "$2"); do ask "$3.$((10 + i))" "news$i@$1" "${RCPTS[$((i % 4))]}"; done
}
echo "policy-screenshots.sh: traffic"
round newsletter.example 23 203.0.113
round bulk-mailer.example 17 198.51.100
round shop.example 9 192.0.2
round bank.example 4 192.0.2
round partner.example 6 198.18.0
round eu.partner.example 3 198.18.1

mkdir -p "$OUT"
xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/policy_screenshots" \
    --proxy "ws://127.0.0.1:$MX1_CONTROL" --token-file "$WORK/mx1/control.token" \
    --proxy2 "ws://127.0.0.1:$MX2_CONTROL" --token-file2 "$WORK/mx2/control.token" \
    --setup --out "$OUT"

# Issue 11's pages on mx3, whose clock runs 240 times faster from six hours ago.
FAKETIME_LIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n1 || true)
if [[ ! -x $BIN/release_screenshots || -z $FAKETIME_LIB ]]; then
    echo "policy-screenshots.sh: no bin/release_screenshots or libfaketime: releases, delay and triage skipped" >&2
    exit 0
fi
PRELOAD=$FAKETIME_LIB FAKE="-6h x240" start mx3 --delay=300 --retry-window=1h
ASK_PORT=$POLICY_PORT
MX3_CONTROL=$CONTROL_PORT
# Waits N fake minutes (one real second is four).
fake_minutes() { sleep "$(awk -v m="$1" 'BEGIN { printf "%.2f", m / 4 }')"; }
# Letters, not digits: greygated folds digits in local parts ("issue5-1" is "issue#-#").
L=(x a b c d e f g h)
senders() { # domain count prefix: "prefixa@domain prefixb@domain ..."
    local i
    for i in $(seq 1 "$2"); do echo "$3${L[$i]}@$1"; done
}
echo "policy-screenshots.sh: six fake hours of traffic on mx3 (about 90 s)"
for hour in 1 2 3 4 5 6; do
    net=$((hour * 10))
    # First attempts: every one is greylisted (5 min).
    for s in $(senders bank.example 3 alerts-${L[$hour]}); do ask 192.0.2.$net "$s" cfo@corp.example; done
    for s in $(senders shop.example $((2 + hour % 3)) order-${L[$hour]}); do ask 198.51.100.$net "$s" bob@corp.example; done
    for s in $(senders newsletter.example $((3 + hour % 4)) issue-${L[$hour]}); do ask 203.0.113.$net "$s" alice@corp.example; done
    ask 192.0.2.$((net + 1)) "orders@known.example" "buyer-${L[$hour]}@corp.example"
    ask 198.51.100.$((net + 1)) "lost-${L[$hour]}@gone.example" "dave@corp.example"
    ask 203.0.113.$((net + 2)) "eager-${L[$hour]}@early.example" "carol@corp.example"
    [[ $hour == 2 ]] && ask 203.0.113.99 "ship@moved.example" "dave@corp.example"
    fake_minutes 1
    ask 203.0.113.$((net + 2)) "eager-${L[$hour]}@early.example" "carol@corp.example" # too early
    fake_minutes $((6 + hour))
    for s in $(senders bank.example 3 alerts-${L[$hour]}); do ask 192.0.2.$net "$s" cfo@corp.example; done
    fake_minutes $((10 + 2 * hour))
    for s in $(senders shop.example $((2 + hour % 3)) order-${L[$hour]}); do ask 198.51.100.$net "$s" bob@corp.example; done
    fake_minutes $((20 + (hour % 3) * 5))
    for s in $(senders newsletter.example $((3 + hour % 4)) issue-${L[$hour]}); do ask 203.0.113.$net "$s" alice@corp.example; done
    # ship@moved.example gave up on 203.0.113.99 and comes back from another network.
    if [[ $hour == 4 ]]; then
        ask 192.0.2.200 "ship@moved.example" "dave@corp.example"
        fake_minutes 6
        ask 192.0.2.200 "ship@moved.example" "dave@corp.example"
    fi
    fake_minutes 2
done
# The last hour's windows close (1 h) and are swept into the rejection log.
fake_minutes 70
xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/release_screenshots" \
    --proxy "ws://127.0.0.1:$MX3_CONTROL" --token-file "$WORK/mx3/control.token" \
    --setup --out "$OUT"
