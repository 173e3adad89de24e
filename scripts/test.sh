#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs what is missing, builds everything and runs every test. Idempotent.
# The test build is the sanitized one (AddressSanitizer + UndefinedBehaviorSanitizer,
# GREYGATE_SANITIZE=ON, in build-test/), so the whole suite runs under them with one full
# build; scripts/run.sh keeps its own plain build in build/. Then every fuzz target runs for
# GREYGATE_FUZZ_SECONDS (default 15; 0 skips fuzzing) in a second, minimal clang build
# (scripts/fuzz.sh). Extra arguments go to ctest (e.g. -R smtp). The run fails when a test,
# a sanitizer or a fuzz target fails; the phases' times are printed at the end.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/install-deps.sh" --test
build="${GREYGATE_TEST_BUILD_DIR:-$here/build-test}"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

t0=$SECONDS
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
    -DGREYGATE_SANITIZE=ON >/dev/null
cmake --build "$build" -j2
t_build=$((SECONDS - t0))

status=0
t0=$SECONDS
(cd "$build" && ctest --output-on-failure -j2 --timeout 900 "$@") || status=1
t_test=$((SECONDS - t0))

t0=$SECONDS
if [[ "${GREYGATE_FUZZ_SECONDS:-15}" != 0 ]]; then
    "$here/scripts/fuzz.sh" || status=1
fi
t_fuzz=$((SECONDS - t0))

echo "test.sh: sanitized build ${t_build} s, tests ${t_test} s, fuzzing (build and runs) ${t_fuzz} s"
exit $status
