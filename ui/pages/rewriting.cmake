# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 10 (rewriting): the sender rewriting rules (docs/rewriting.md): their model and page.
target_sources(greygate_models PRIVATE
    ${PROJECT_SOURCE_DIR}/ui/models/SenderRewriteModel.cpp
    ${PROJECT_SOURCE_DIR}/ui/models/SenderRewriteModel.h)
target_sources(greygate_console PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/SenderRewritePage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/SenderRewritePage.h)
