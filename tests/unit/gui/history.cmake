# SPDX-License-Identifier: GPL-3.0-or-later
# shadow: replay and policy history in the console, against a proxy in the test process.
greygate_add_test(tst_policy_history SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_policy_history.cpp
    ${CMAKE_CURRENT_LIST_DIR}/../control/ControlTestProxy.h
    LIBS greygate_console greygate_control Qt6::WebSockets TIMEOUT 120)

# scripts/policy-screenshots.sh's grabber (not a test).
add_executable(policy_screenshots ${CMAKE_CURRENT_LIST_DIR}/policy_screenshots.cpp)
target_link_libraries(policy_screenshots PRIVATE greygate_console)
greygate_strict(policy_screenshots)
