# SPDX-License-Identifier: GPL-3.0-or-later
# The statistics models (console-analysis), each against a real greygated.
foreach(test tst_stats_series_model tst_breakdown_model tst_rejection_model)
    greygate_add_test(${test} SOURCES ${test}.cpp AnalysisDaemon.h
        LIBS greygate_models TIMEOUT 120)
    if(TARGET greygated)
        add_dependencies(${test} greygated)
    endif()
endforeach()
# The Rejection Viewer's test writes its rows with the store's own API first.
target_link_libraries(tst_rejection_model PRIVATE greygate_store)
