# SPDX-License-Identifier: GPL-3.0-or-later
# The memory allocator of the daemon and of what is benchmarked against it: jemalloc when it
# is there. With a million triplets, glibc's malloc spends a tenth of the decision thread in
# its bins (_int_malloc, unlink_chunk, malloc_consolidate under perf); jemalloc's
# thread-cached size classes took the write-heavy 4-connection cell from 17.3 to 14.7 us of
# CPU per decision (bench/README.md, "Allocator"). Sanitizer builds keep the C library's:
# AddressSanitizer must own malloc to see the errors.
#
# greygate_use_allocator(TARGET) links it into an executable and tells the program which one
# it got (GREYGATE_ALLOCATOR_JEMALLOC), so that --version can say so.
include_guard(GLOBAL)

set(GREYGATE_ALLOCATOR "auto" CACHE STRING
    "Allocator of greygated: auto (jemalloc when found), jemalloc (required) or libc")
set_property(CACHE GREYGATE_ALLOCATOR PROPERTY STRINGS auto jemalloc libc)

set(GREYGATE_USES_JEMALLOC OFF)
if(GREYGATE_SANITIZE OR GREYGATE_FUZZ)
    if(GREYGATE_ALLOCATOR STREQUAL "jemalloc")
        message(FATAL_ERROR "GREYGATE_ALLOCATOR=jemalloc cannot go with the sanitizers, which "
                            "replace malloc themselves")
    endif()
elseif(NOT GREYGATE_ALLOCATOR STREQUAL "libc")
    if(GREYGATE_ALLOCATOR STREQUAL "jemalloc")
        pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
    elseif(GREYGATE_ALLOCATOR STREQUAL "auto")
        pkg_check_modules(JEMALLOC IMPORTED_TARGET jemalloc)
    else()
        message(FATAL_ERROR "GREYGATE_ALLOCATOR must be auto, jemalloc or libc, not "
                            "'${GREYGATE_ALLOCATOR}'")
    endif()
    if(JEMALLOC_FOUND)
        set(GREYGATE_USES_JEMALLOC ON)
    else()
        message(WARNING "jemalloc not found (apt-get install libjemalloc-dev): greygated uses "
                        "the C library's malloc, about 15 % slower with a million triplets")
    endif()
endif()
if(GREYGATE_USES_JEMALLOC)
    message(STATUS "greygated's allocator: jemalloc ${JEMALLOC_VERSION}")
else()
    message(STATUS "greygated's allocator: the C library's malloc")
endif()

function(greygate_use_allocator target)
    if(GREYGATE_USES_JEMALLOC)
        target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
        target_compile_definitions(${target} PRIVATE GREYGATE_ALLOCATOR_JEMALLOC)
    endif()
endfunction()
