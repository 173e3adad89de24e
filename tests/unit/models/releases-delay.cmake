# SPDX-License-Identifier: GPL-3.0-or-later
# console-11 (issue 11): the timed release and delay analytics models, against a real
# greygated (tests/unit/models/LiveModelsDaemon.h).
foreach(test tst_release_models tst_delay_stats_model)
    greygate_add_test(${test}
        SOURCES ${CMAKE_CURRENT_LIST_DIR}/${test}.cpp ${CMAKE_CURRENT_LIST_DIR}/LiveModelsDaemon.h
        LIBS greygate_models
        TIMEOUT 120)
    if(TARGET greygated)
        add_dependencies(${test} greygated)
    endif()
endforeach()
