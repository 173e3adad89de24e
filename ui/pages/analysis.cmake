# SPDX-License-Identifier: GPL-3.0-or-later
# The analysis pages (console-analysis): dashboard, rejections, reports.
target_sources(greygate_console PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/DashboardPage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/DashboardPage.h
    ${CMAKE_CURRENT_LIST_DIR}/RejectionsPage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/RejectionsPage.h
    ${CMAKE_CURRENT_LIST_DIR}/ReportsPage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ReportsPage.h)
