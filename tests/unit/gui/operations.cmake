# SPDX-License-Identifier: GPL-3.0-or-later
# console-ops: the settings registry, the main window, the policy dialog, the Proxies page
# against a real greygated, and the bundled engine (offscreen).
greygate_add_test(tst_settings_registry SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_settings_registry.cpp
    LIBS greygate_console)
greygate_add_test(tst_main_window SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_main_window.cpp
    LIBS greygate_console)
greygate_add_test(tst_policy_dialog SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_policy_dialog.cpp
    LIBS greygate_console)
greygate_add_test(tst_proxies_page SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_proxies_page.cpp
    ${CMAKE_CURRENT_LIST_DIR}/../models/LiveModelsDaemon.h LIBS greygate_console TIMEOUT 180)
greygate_add_test(tst_local_engine SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_local_engine.cpp
    LIBS greygate_app TIMEOUT 180)
greygate_add_test(tst_operations_pages SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_operations_pages.cpp
    ${CMAKE_CURRENT_LIST_DIR}/../models/LiveModelsDaemon.h LIBS greygate_console TIMEOUT 180)
if(TARGET greygated)
    add_dependencies(tst_proxies_page greygated)
    add_dependencies(tst_operations_pages greygated)
endif()
