#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing, builds everything and runs every test. Idempotent.
# The test build (build-test/) is one clang build with AddressSanitizer + UndefinedBehavior-
# Sanitizer and libFuzzer's coverage (GREYGATE_SANITIZE=ON, GREYGATE_FUZZ=ON): the whole suite
# runs under the sanitizers, and the fuzz targets come out of the same build, so CI compiles
# everything once; scripts/run.sh keeps its own plain build in build/. After the tests every
# fuzz target runs for GREYGATE_FUZZ_SECONDS (default 10 here, which keeps a full run under 20
# minutes on 2 cores; 0 skips fuzzing; longer runs: scripts/fuzz.sh --seconds=N).
# Extra arguments go to ctest (e.g. -R smtp). The run fails when a test, a sanitizer or a
# fuzz target fails; the phases' times are printed at the end.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/install-deps.sh" --test
build="${GREYGATE_TEST_BUILD_DIR:-$here/build-test}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

# A build dir configured by an older test.sh with another compiler is configured afresh.
if [[ -f "$build/CMakeCache.txt" ]] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang++' "$build/CMakeCache.txt"; then
    rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
fi
t0=$SECONDS
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
    -DCMAKE_CXX_COMPILER=clang++ -DGREYGATE_SANITIZE=ON -DGREYGATE_FUZZ=ON \
    -DGREYGATE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j2
t_build=$((SECONDS - t0))

status=0
t0=$SECONDS
(cd "$build" && ctest --output-on-failure -j2 --timeout 900 "$@") || status=1
t_test=$((SECONDS - t0))

t0=$SECONDS
if [[ "${GREYGATE_FUZZ_SECONDS:=10}" != 0 ]]; then
    export GREYGATE_FUZZ_SECONDS
    GREYGATE_FUZZ_BUILD_DIR="$build" "$here/scripts/fuzz.sh" --no-build || status=1
fi
t_fuzz=$((SECONDS - t0))

echo "test.sh: sanitized clang build ${t_build} s, tests ${t_test} s, fuzzing ${t_fuzz} s"
exit $status
