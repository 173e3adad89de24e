#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The documented long run of the robustness load test (docs/robustness.md, "Load"): one
# greygated serving the policy server and the SMTP proxy under sustained load for SECONDS
# (default 300), memory and descriptors checked flat at the end. CI runs the same test for
# 60 s. Usage: bench/load/run-load.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
build=${1:-build}
seconds=${2:-300}
build=$(cd "$build" && pwd)
cmake --build "$build" --target tst_load_sustained greygated
# The environment CTest gives the test, without CTest's timeout (set for the 60 s CI run).
export GREYGATE_LOAD_SECONDS=$seconds GREYGATE_BINARY_DIR=$build QT_QPA_PLATFORM=offscreen
# Qt Test aborts a test function after 5 minutes unless told otherwise.
export QTEST_FUNCTION_TIMEOUT=$(((seconds + 240) * 1000))
test=$(find "$build" -type f -name tst_load_sustained -perm -u+x | head -n 1)
exec timeout $((seconds + 240)) "$test"
