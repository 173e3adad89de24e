# SPDX-License-Identifier: GPL-3.0-or-later
# shadow: the replay diff and the policy versions (docs/console.md, "Replay", "History").
target_sources(greygate_models PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/PolicyVersionModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/PolicyVersionModel.h
    ${CMAKE_CURRENT_LIST_DIR}/ReplayDiffModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ReplayDiffModel.h
)
