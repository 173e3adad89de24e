# SPDX-License-Identifier: GPL-3.0-or-later
# Sourced by the scripts and benchmarks that start servers on loopback (scripts/*screenshots.sh,
# bench/): ports and readiness, one definition for all. Not a program of its own.

# A loopback port free now: the kernel picks it (bind to port 0), so no guessing loop.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Whether something listens on loopback TCP port $1.
listening() { ss -ltnH "sport = :$1" 2>/dev/null | grep -q .; }

# wait_listening PORT PID [SECONDS]: until PORT listens, at most SECONDS (default 30) and only
# while PID lives.
wait_listening() {
    local i
    for ((i = 0; i < ${3:-30} * 10; i++)); do
        listening "$1" && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
