// SPDX-License-Identifier: GPL-3.0-or-later
#include "Allocator.h"

#ifdef GREYGATE_ALLOCATOR_JEMALLOC
#include <cstdint>
#include <cstdlib>

// jemalloc's control interface, declared here rather than through <jemalloc/jemalloc.h>,
// which also redeclares malloc and friends.
extern "C" int mallctl(const char *name, void *oldp, std::size_t *oldlenp, void *newp,
                       std::size_t newlen);

namespace {

std::uint64_t allocatedByThisThread()
{
    std::uint64_t bytes = 0;
    std::size_t length = sizeof bytes;
    return mallctl("thread.allocated", &bytes, &length, nullptr, 0) == 0 ? bytes : 0;
}

// Linked is not enough: if the C library came first in the symbol lookup, malloc() would
// still be glibc's. jemalloc counts what it hands out, so ask it whether it saw this one.
bool servesMalloc()
{
    const std::uint64_t before = allocatedByThisThread();
    void *volatile block = std::malloc(4096); // volatile: the pair must not be optimised out
    const std::uint64_t after = allocatedByThisThread();
    std::free(block);
    return after >= before + 4096;
}

} // namespace
#endif

namespace greygate {

QByteArray allocatorName()
{
#ifdef GREYGATE_ALLOCATOR_JEMALLOC
    if (!servesMalloc())
        return QByteArrayLiteral("libc malloc (jemalloc linked but not serving malloc)");
    const char *version = nullptr;
    std::size_t length = sizeof version;
    if (mallctl("version", &version, &length, nullptr, 0) == 0 && version)
        return QByteArrayLiteral("jemalloc ").append(version);
    return QByteArrayLiteral("jemalloc");
#else
    return QByteArrayLiteral("libc malloc");
#endif
}

} // namespace greygate
