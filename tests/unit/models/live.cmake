# SPDX-License-Identifier: GPL-3.0-or-later
# console-models: tests of the live, queue, policy, group and auto allow models. The ones
# with a server start a real greygated (tests/unit/models/LiveModelsDaemon.h).
greygate_add_test(tst_live_attempts_model
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_live_attempts_model.cpp
    LIBS greygate_models)
foreach(test tst_proxy_list_model tst_queue_model tst_policy_models)
    greygate_add_test(${test}
        SOURCES ${CMAKE_CURRENT_LIST_DIR}/${test}.cpp ${CMAKE_CURRENT_LIST_DIR}/LiveModelsDaemon.h
        LIBS greygate_models
        TIMEOUT 180)
    if(TARGET greygated)
        add_dependencies(${test} greygated)
    endif()
endforeach()
