# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 10 (rewriting): the Sender rewriting page against a proxy in the test process.
greygate_add_test(tst_sender_rewrite_page
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_sender_rewrite_page.cpp
    ${CMAKE_CURRENT_LIST_DIR}/../control/ControlTestProxy.h
    LIBS greygate_console greygate_control Qt6::WebSockets TIMEOUT 120)
