# SPDX-License-Identifier: GPL-3.0-or-later
# console-ops: the operations pages (proxies, live attempts, queue, policies, sender groups,
# auto allow).
target_sources(greygate_console PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/AutoAllowPage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/AutoAllowPage.h
    ${CMAKE_CURRENT_LIST_DIR}/GroupsPage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/GroupsPage.h
    ${CMAKE_CURRENT_LIST_DIR}/LivePage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/LivePage.h
    ${CMAKE_CURRENT_LIST_DIR}/PoliciesPage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/PoliciesPage.h
    ${CMAKE_CURRENT_LIST_DIR}/ProxiesPage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/ProxiesPage.h
    ${CMAKE_CURRENT_LIST_DIR}/QueuePage.cpp
    ${CMAKE_CURRENT_LIST_DIR}/QueuePage.h
)
