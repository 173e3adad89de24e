# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 10 (spf-rest): pool retries and their bypasses (the panel the Live and Dashboard
# pages can embed, and its own page).
target_sources(greygate_console PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/PoolRetryPage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/PoolRetryPage.h
    ${PROJECT_SOURCE_DIR}/ui/widgets/PoolRetryPanel.cpp
    ${PROJECT_SOURCE_DIR}/ui/widgets/PoolRetryPanel.h)
