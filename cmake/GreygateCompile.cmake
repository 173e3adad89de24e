# SPDX-License-Identifier: GPL-3.0-or-later
# Strict Qt defines and warnings shared by every Greygate target (qBittorrent's approach:
# one place, so no target can quietly opt out).
function(greygate_strict target)
    target_compile_definitions(${target} PRIVATE
        QT_NO_CAST_FROM_ASCII
        QT_NO_CAST_TO_ASCII
        QT_NO_CAST_FROM_BYTEARRAY
        QT_NO_URL_CAST_FROM_STRING
        QT_USE_QSTRINGBUILDER
        QT_NO_CONTEXTLESS_CONNECT
        QT_NO_FOREACH
        QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
        QT_STRICT_ITERATORS)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
endfunction()

# GREYGATE_SANITIZE=ON (CMakeLists.txt adds -fsanitize=address,undefined) is the test build:
# an undefined-behaviour report aborts instead of scrolling by, so the test fails on it. Qt is
# not instrumented, so LeakSanitizer reads the leaks that belong to Qt, fontconfig and the
# system libraries from tests/sanitizers/lsan.supp; our own code is never suppressed.
# The fuzz build (GREYGATE_FUZZ) aborts on undefined behaviour too, so libFuzzer keeps the input.
# verify_asan_link_order=0: the clock-jump test preloads libfaketime into greygated.
set(GREYGATE_TEST_ENV "")
if(GREYGATE_SANITIZE OR GREYGATE_FUZZ)
    add_compile_options(-fno-sanitize-recover=undefined)
endif()
if(GREYGATE_SANITIZE)
    set(GREYGATE_TEST_ENV
        "ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:strict_init_order=1:check_initialization_order=1:verify_asan_link_order=0"
        "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/sanitizers/lsan.supp:print_suppressions=0"
        "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1")
endif()

# One Qt Test executable per test file, registered with CTest under the file's name.
# LIBS names the engine layers the test needs (greygate_engine for all of them).
function(greygate_add_test name)
    cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
    add_executable(${name} ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE greygate_testsupport Qt6::Test ${ARG_LIBS})
    greygate_strict(${name})
    add_test(NAME ${name} COMMAND ${name})
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 120)
    endif()
    set(test_env ${GREYGATE_TEST_ENV})
    # The console's widget tests run under ASan and UBSan but not LeakSanitizer: QtCharts,
    # QtGui and QtWidgets (not instrumented) keep text documents and chart items that LSan
    # reports as indirect leaks whose stacks end inside Qt (docs/robustness.md, "Sanitizers").
    if(GREYGATE_SANITIZE AND ("greygate_console" IN_LIST ARG_LIBS OR "greygate_app" IN_LIST ARG_LIBS))
        list(TRANSFORM test_env REPLACE "detect_leaks=1" "detect_leaks=0")
    endif()
    set(env QT_QPA_PLATFORM=offscreen GREYGATE_BINARY_DIR=${CMAKE_BINARY_DIR} ${test_env})
    set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT}
        ENVIRONMENT "${env}"
        LABELS "${ARG_LABELS}")
endfunction()
