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

free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    echo "policy-screenshots.sh: no free port found" >&2
    return 1
}

# start NAME: sets POLICY_PORT and CONTROL_PORT (not in a subshell: PIDS must keep the PID).
start() {
    local name=$1 policy control=
    policy=$(free_port)
    "$BIN/greygated" --inet="127.0.0.1:$policy" --dbdir="$WORK/$name" --delay=5 \
        --control-listen=127.0.0.1:0 --hostname="$name.example.net" >"$WORK/$name.log" 2>&1 &
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
    exec 3<>"/dev/tcp/127.0.0.1/$MX1_POLICY"
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
