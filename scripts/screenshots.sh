#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Screenshots of the console's pages with real data: starts a real greygated (policy server
# and control API on loopback, in a temp dir), makes real decisions through its policy port
# (Postfix's policy delegation protocol, as smtpd speaks it: first sights deferred, retries
# after the delay passed, a Blocked Sender rejected, a bypass policy), then, under xvfb-run,
# opens the pages against it and writes one PNG per page into docs/screenshots/.
#
#   scripts/screenshots.sh [BUILD_DIR]      (default: build; needs bin/greygated,
#                                            bin/greygatectl and bin/analysis_screenshots)
#
# The console's own `greygate --screenshot-dir` is used too when the build has it (every
# page of the main window); the analysis pages come from bin/analysis_screenshots.
# Stops only the greygated it started, by its PID.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
BIN=$BUILD/bin
OUT=${OUT:-$ROOT/docs/screenshots}
DELAY=5

for tool in greygated greygatectl analysis_screenshots; do
    [[ -x $BIN/$tool ]] || { echo "screenshots.sh: $BIN/$tool is missing: build it first" >&2; exit 2; }
done
command -v xvfb-run >/dev/null || { echo "screenshots.sh: xvfb-run is missing (apt-get install xvfb)" >&2; exit 2; }

WORK=$(mktemp -d)
DAEMON_PID=
cleanup() {
    if [[ -n $DAEMON_PID ]]; then
        kill "$DAEMON_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$DAEMON_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

source "$ROOT/scripts/lib/loopback.sh" # free_port, listening, wait_listening

POLICY_PORT=$(free_port)
"$BIN/greygated" --inet="127.0.0.1:$POLICY_PORT" --dbdir="$WORK/db" --delay=$DELAY \
    --control-listen=127.0.0.1:0 --hostname=mx1.example.net >"$WORK/greygated.log" 2>&1 &
DAEMON_PID=$!
CONTROL_PORT=
for _ in $(seq 1 200); do
    CONTROL_PORT=$(sed -n 's/.*msg="control API listening".* port=\([0-9]*\).*/\1/p' "$WORK/greygated.log" | head -n1)
    [[ -n $CONTROL_PORT ]] && break
    kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/greygated.log" >&2; exit 1; }
    sleep 0.1
done
[[ -n $CONTROL_PORT ]] || { echo "screenshots.sh: greygated did not start:" >&2; cat "$WORK/greygated.log" >&2; exit 1; }
URL="ws://127.0.0.1:$CONTROL_PORT"
TOKEN="$WORK/db/control.token"
ctl() { "$BIN/greygatectl" --proxy "$URL" --token-file "$TOKEN" --timeout 20 "$@" >/dev/null; }

# One RCPT request as Postfix's smtpd sends it; prints the action.
INSTANCE=0
ask() {
    local client=$1 sender=$2 recipient=$3 answer=
    INSTANCE=$((INSTANCE + 1))
    exec 3<>"/dev/tcp/127.0.0.1/$POLICY_PORT"
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=%s\nclient_name=unknown\nhelo_name=mail.%s\nsender=%s\nrecipient=%s\ninstance=%x.%d\n\n' \
        "$client" "${sender#*@}" "$sender" "$recipient" "$$" "$INSTANCE" >&3
    read -r -t 10 answer <&3 || true
    exec 3>&-
    echo "${answer#action=}"
}

# Policies and groups the pages can name: a Blocked Senders group and a bypass for a partner.
ctl group add "Blocked Senders" --kind blocked
ctl group members add "Blocked Senders" spam@spammer.example @phish.example
cat >"$WORK/partner.json" <<'JSON'
{"narrative": "Partners skip greylisting", "action": "bypass",
 "from": {"type": "domain", "value": "partner.example"}, "to": {"type": "everyone"}}
JSON
ctl policy add "$WORK/partner.json"

RCPTS=(alice@corp.example bob@corp.example carol@corp.example dave@corp.example)
declare -a FIRST=()
round() { # domain count client-prefix
    local domain=$1 count=$2 prefix=$3 i
    for i in $(seq 1 "$count"); do
        local sender="news$i@$domain" rcpt=${RCPTS[$((i % 4))]} client="$prefix.$((10 + i))"
        ask "$client" "$sender" "$rcpt" >/dev/null
        FIRST+=("$client $sender $rcpt")
    done
}
echo "screenshots.sh: first sights (deferred)"
round bulk-mailer.example 14 198.51.100
round newsletter.example 9 203.0.113
round shop.example 6 192.0.2
round bank.example 3 192.0.2
for i in 1 2 3 4 5; do ask 198.18.0.$i "orders@partner.example" "${RCPTS[$((i % 4))]}" >/dev/null; done

sleep $((DELAY + 1))
echo "screenshots.sh: retries after the delay (passed)"
n=0
for entry in "${FIRST[@]}"; do
    n=$((n + 1))
    (( n % 3 == 0 )) && continue # a third never retries
    read -r client sender rcpt <<<"$entry"
    ask "$client" "$sender" "$rcpt" >/dev/null
done
# Known triplets again (passed silently).
for entry in "${FIRST[@]:0:6}"; do
    read -r client sender rcpt <<<"$entry"
    ask "$client" "$sender" "$rcpt" >/dev/null
done

# Sent while the pages watch, so the Rejection Viewer shows the Blocked Senders live.
cat >"$WORK/during.sh" <<'EOF2'
port=$1
ask() {
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=%s\nsender=%s\nrecipient=%s\ninstance=%s\n\n' \
        "$1" "$2" "$3" "$4" >&3
    read -r -t 10 answer <&3 || true
    exec 3>&-
}
for i in 1 2 3 4; do
    ask "185.220.101.$i" spam@spammer.example alice@corp.example "b$i"
    ask "45.9.20.$i" "invoice$i@phish.example" bob@corp.example "p$i"
done
EOF2

mkdir -p "$OUT"
if [[ -x $BIN/greygate ]] && QT_QPA_PLATFORM=offscreen "$BIN/greygate" --help 2>&1 | grep -q -- '--screenshot-dir'; then
    echo "screenshots.sh: every page of the console"
    # Mail keeps arriving while the console grabs its pages, so the live view has rows
    # (bounded: 60 requests over about 18 s).
    cat >"$WORK/live.sh" <<'EOF2'
port=$1
for i in $(seq 1 60); do
    exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 0
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=203.0.113.%s\nsender=promo%s@newsletter.example\nrecipient=alice@corp.example\ninstance=l%s\n\n' \
        "$((i % 40 + 10))" "$i" "$i" >&3
    read -r -t 10 answer <&3 || true
    exec 3>&-
    sleep 0.3
done
EOF2
    bash "$WORK/live.sh" "$POLICY_PORT" &
    LIVE_PID=$!
    # Its own settings file in the temp dir: the admin's saved proxies are not touched, and
    # no bundled engine competes for the policy port.
    xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/greygate" --no-local-engine \
        --settings "$WORK/console-settings.json" --proxy "$URL" \
        --proxy-token-file "$TOKEN" --screenshot-dir "$OUT" --screenshot-delay 2500 ||
        echo "screenshots.sh: the console's own screenshots failed (see above)" >&2
    kill "$LIVE_PID" 2>/dev/null || true
    wait "$LIVE_PID" 2>/dev/null || true
fi
# The analysis pages last: their grabber fills them further (a built report, live blocked rows).
echo "screenshots.sh: analysis pages"
xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/analysis_screenshots" --proxy "$URL" \
    --token-file "$TOKEN" --out "$OUT" --name mx1.example.net \
    --during "bash $WORK/during.sh $POLICY_PORT" --settle 4000
ls -l "$OUT"
