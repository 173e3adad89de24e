# SPDX-License-Identifier: GPL-3.0-or-later
# The statistics models (console-analysis): the dashboard's series and breakdowns, the
# Rejection Viewer. Qt Core only, like every model.
target_sources(greygate_models PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/StatsWindow.h
    ${CMAKE_CURRENT_LIST_DIR}/EventStreamFollow.h
    ${CMAKE_CURRENT_LIST_DIR}/StatsSeriesModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/StatsSeriesModel.h
    ${CMAKE_CURRENT_LIST_DIR}/BreakdownModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/BreakdownModel.h
    ${CMAKE_CURRENT_LIST_DIR}/RejectionModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/RejectionModel.h)
