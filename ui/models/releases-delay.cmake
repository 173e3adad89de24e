# SPDX-License-Identifier: GPL-3.0-or-later
# console-11 (issue 11): timed releases and their audit, delay analytics. Qt Core only.
target_sources(greygate_models PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/DelayBreakdownModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/DelayBreakdownModel.h
    ${CMAKE_CURRENT_LIST_DIR}/DelaySeriesModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/DelaySeriesModel.h
    ${CMAKE_CURRENT_LIST_DIR}/DelayStatsModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/DelayStatsModel.h
    ${CMAKE_CURRENT_LIST_DIR}/DelaySummary.cpp
    ${CMAKE_CURRENT_LIST_DIR}/DelaySummary.h
    ${CMAKE_CURRENT_LIST_DIR}/ProxyFollow.h
    ${CMAKE_CURRENT_LIST_DIR}/ReleaseAuditModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ReleaseAuditModel.h
    ${CMAKE_CURRENT_LIST_DIR}/ReleaseListModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ReleaseListModel.h
    ${CMAKE_CURRENT_LIST_DIR}/ReleaseRequest.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ReleaseRequest.h)
