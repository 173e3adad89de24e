# SPDX-License-Identifier: GPL-3.0-or-later
# console-11 (issue 11): the Releases and Delay pages, the Queue page's "Release for..." and
# the Rejections page's link to the triage, against a real greygated (offscreen).
greygate_add_test(tst_release_pages SOURCES ${CMAKE_CURRENT_LIST_DIR}/tst_release_pages.cpp
    ${CMAKE_CURRENT_LIST_DIR}/../models/LiveModelsDaemon.h LIBS greygate_console TIMEOUT 180)
if(TARGET greygated)
    add_dependencies(tst_release_pages greygated)
endif()

# scripts/policy-screenshots.sh's grabber for the Releases, Delay and Triage pages (not a test).
add_executable(release_screenshots ${CMAKE_CURRENT_LIST_DIR}/release_screenshots.cpp)
target_link_libraries(release_screenshots PRIVATE greygate_console)
greygate_strict(release_screenshots)
