#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the libFuzzer targets (tests/fuzz, clang with ASan+UBSan; only the engine layers they
# link, never the console) and runs each for a bounded time, two at a time, then prints one
# row per target: executions, executions per second, corpus growth, result.
#   scripts/fuzz.sh                      every target, GREYGATE_FUZZ_SECONDS (15) each
#   scripts/fuzz.sh --seconds=300 smtp_reply control_api
#   scripts/fuzz.sh --no-build ...       reuse the fuzz build as it is
# The seeds in tests/fuzz/corpus/<what> are read, never written: what a run discovers goes
# to BUILD/fuzz/corpus/<what>. A crash, a leak, undefined behaviour or a failed property
# fails the run and leaves the input in BUILD/fuzz/crashes/<what>/ (reproduce:
# BUILD/bin/fuzz_<what> FILE); add it to the seeds with the fix so it never comes back.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${GREYGATE_FUZZ_BUILD_DIR:-$here/build-fuzz}"
seconds="${GREYGATE_FUZZ_SECONDS:-15}"
jobs="${GREYGATE_FUZZ_JOBS:-2}"
do_build=1
targets=()
for arg in "$@"; do
    case "$arg" in
    --seconds=*) seconds="${arg#--seconds=}" ;;
    --jobs=*) jobs="${arg#--jobs=}" ;;
    --no-build) do_build=0 ;;
    -h | --help)
        sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "fuzz.sh: unknown option $arg (see --help)" >&2
        exit 2
        ;;
    *) targets+=("${arg#fuzz_}") ;;
    esac
done
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ && "$jobs" =~ ^[1-9][0-9]*$ ]]; then
    echo "fuzz.sh: --seconds and --jobs take positive whole numbers (seconds=$seconds jobs=$jobs)" >&2
    exit 2
fi

if [[ $do_build -eq 1 ]]; then
    if ! command -v clang++ >/dev/null; then
        echo "fuzz.sh: clang++ is missing: run scripts/install-deps.sh --test" >&2
        exit 1
    fi
    launcher=()
    command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    start=$SECONDS
    cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" -DGREYGATE_FUZZ=ON \
        -DGREYGATE_BUILD_CONSOLE=OFF -DGREYGATE_BUILD_BENCH=OFF >/dev/null
    cmake --build "$build" -j2 --target greygate_fuzzers
    echo "fuzz.sh: fuzzers built in $((SECONDS - start)) s"
fi

if [[ ${#targets[@]} -eq 0 ]]; then
    for bin in "$build"/bin/fuzz_*; do
        [[ -x "$bin" ]] && targets+=("$(basename "$bin" | sed 's/^fuzz_//')")
    done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "fuzz.sh: no fuzz targets in $build/bin (build them first)" >&2
    exit 1
fi

out="$build/fuzz"
mkdir -p "$out/logs"
# Qt is not instrumented: its one-time allocations are not ours (tests/sanitizers/lsan.supp).
export LSAN_OPTIONS="suppressions=$here/tests/sanitizers/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

run_one() {
    local what="$1" bin="$build/bin/fuzz_$1"
    local seeds="$here/tests/fuzz/corpus/$1" work="$out/corpus/$1" crashes="$out/crashes/$1/"
    mkdir -p "$work" "$crashes"
    local dirs=("$work")
    [[ -d "$seeds" ]] && dirs+=("$seeds")
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb bounds memory; -max_len lets
    # inputs grow past libFuzzer's default (4 KiB), enough for over-long lines and documents.
    if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$crashes" "${dirs[@]}" \
        >"$out/logs/$what.log" 2>&1; then
        echo ok >"$out/logs/$what.result"
    else
        echo FAILED >"$out/logs/$what.result"
    fi
}

echo "fuzz.sh: ${#targets[@]} targets, $seconds s each, $jobs at a time"
start=$SECONDS
running=0
for what in "${targets[@]}"; do
    if [[ ! -x "$build/bin/fuzz_$what" ]]; then
        echo "fuzz.sh: no such target fuzz_$what in $build/bin" >&2
        exit 2
    fi
    rm -f "$out/logs/$what.result"
    run_one "$what" &
    running=$((running + 1))
    if [[ $running -ge $jobs ]]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

failed=0
total=0
printf '\n%-18s %12s %10s %8s  %s\n' target execs 'execs/s' corpus result
for what in "${targets[@]}"; do
    log="$out/logs/$what.log"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null | tail -1 || true)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" 2>/dev/null | tail -1 || true)
    units=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | sed 's/corp: //' || true)
    result=$(cat "$out/logs/$what.result" 2>/dev/null || echo FAILED)
    if [[ "$result" != ok ]]; then
        failed=$((failed + 1))
        artifact=$(ls -t "$out/crashes/$what/" 2>/dev/null | head -1 || true)
        [[ -n "$artifact" ]] && result="FAILED: input $out/crashes/$what/$artifact"
    fi
    total=$((total + ${execs:-0}))
    printf '%-18s %12s %10s %8s  %s\n' "fuzz_$what" "${execs:-?}" "${rate:-?}" "${units:-?}" "$result"
done
printf '%-18s %12s   (%d s)\n' total "$total" "$((SECONDS - start))"

if [[ $failed -gt 0 ]]; then
    for what in "${targets[@]}"; do
        if [[ "$(cat "$out/logs/$what.result" 2>/dev/null)" != ok ]]; then
            echo
            echo "---- fuzz_$what ($out/logs/$what.log) ----"
            grep -v '^#[0-9]\|^INFO:\|^stat::' "$out/logs/$what.log" | tail -40 || true
        fi
    done
    echo "fuzz.sh: $failed target(s) failed; reproduce with $build/bin/fuzz_<what> INPUT" >&2
    exit 1
fi
