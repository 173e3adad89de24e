# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 11 (release): the console's alert feed. Qt Core only, like every model.
target_sources(greygate_models PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/AlertFeed.cpp
    ${CMAKE_CURRENT_LIST_DIR}/AlertFeed.h)
