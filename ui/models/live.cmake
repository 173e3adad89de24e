# SPDX-License-Identifier: GPL-3.0-or-later
# console-models: the live, queue, policy, group and auto allow models (Qt Core only).
target_sources(greygate_models PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/AutoAllowModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/AutoAllowModel.h
    ${CMAKE_CURRENT_LIST_DIR}/GroupListModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/GroupListModel.h
    ${CMAKE_CURRENT_LIST_DIR}/GroupMembersModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/GroupMembersModel.h
    ${CMAKE_CURRENT_LIST_DIR}/KeyedTableModel.h
    ${CMAKE_CURRENT_LIST_DIR}/LiveAttemptsFilter.cpp
    ${CMAKE_CURRENT_LIST_DIR}/LiveAttemptsFilter.h
    ${CMAKE_CURRENT_LIST_DIR}/LiveAttemptsModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/LiveAttemptsModel.h
    ${CMAKE_CURRENT_LIST_DIR}/PolicyTableModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/PolicyTableModel.h
    ${CMAKE_CURRENT_LIST_DIR}/ProxyCalls.h
    ${CMAKE_CURRENT_LIST_DIR}/ProxyListModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ProxyListModel.h
    ${CMAKE_CURRENT_LIST_DIR}/QueueModel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/QueueModel.h
)
