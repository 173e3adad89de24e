# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 11 (release): the failed-to-retry triage page.
target_sources(greygate_console PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/TriagePage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/TriagePage.h)
