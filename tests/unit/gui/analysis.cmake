# SPDX-License-Identifier: GPL-3.0-or-later
# The analysis pages and reports (console-analysis), offscreen, against real greygated.
foreach(test tst_analysis_pages tst_report_export)
    greygate_add_test(${test} SOURCES ${test}.cpp ../models/AnalysisDaemon.h
        LIBS greygate_console TIMEOUT 180)
    if(TARGET greygated)
        add_dependencies(${test} greygated)
    endif()
endforeach()
target_link_libraries(tst_report_export PRIVATE greygate_store)

# scripts/screenshots.sh's grabber for these pages (not a test).
add_executable(analysis_screenshots analysis_screenshots.cpp)
target_link_libraries(analysis_screenshots PRIVATE greygate_console)
greygate_strict(analysis_screenshots)
