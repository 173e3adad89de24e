# SPDX-License-Identifier: GPL-3.0-or-later
# console-11 (issue 11): the Releases page and the Delay analytics page.
target_sources(greygate_console PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/DelayPage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/DelayPage.h
    ${CMAKE_CURRENT_LIST_DIR}/ReleasesPage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ReleasesPage.h)
