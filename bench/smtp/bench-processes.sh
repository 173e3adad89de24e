# SPDX-License-Identifier: GPL-3.0-or-later
# Sourced by run-smtp-bench.sh and profile-smtp-proxy.sh: the processes they start, stopped
# by PID at exit, and loopback ports. Not a program of its own.

pids=() # every process started, appended by the caller
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    sleep 1
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }
wait_listening() { # PORT PID [SECONDS]: at most SECONDS (default 30), only while PID lives
    local i
    for ((i = 0; i < ${3:-30} * 10; i++)); do
        listening "$1" && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
