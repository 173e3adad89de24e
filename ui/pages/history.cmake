# SPDX-License-Identifier: GPL-3.0-or-later
# shadow: the policy table's history, opened from the Policies page.
target_sources(greygate_console PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/PolicyHistoryView.cpp
    ${CMAKE_CURRENT_LIST_DIR}/PolicyHistoryView.h
)
