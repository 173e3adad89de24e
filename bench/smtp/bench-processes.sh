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

# free_port, listening, wait_listening
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/loopback.sh"
