// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <sys/mman.h>

namespace greygate {

// A std::allocator for the greylist tables' large arrays: blocks of 2 MiB and more are
// mapped 2 MiB-aligned and marked MADV_HUGEPAGE, smaller ones come from operator new. With a
// million triplets every lookup lands on a random page of tens of megabytes; with 4 KiB pages
// each such access also misses the TLB (a page walk, two-dimensional under a hypervisor),
// with 2 MiB pages the tables' few hundred pages stay in it. Systems whose transparent huge
// pages are "madvise" (Debian's default) give them only to memory marked so; "never" simply
// ignores the mark.
template <typename T> class HugePageAllocator
{
public:
    using value_type = T;
    static constexpr std::size_t kHugePage = std::size_t(2) << 20;

    HugePageAllocator() = default;
    template <typename U> HugePageAllocator(const HugePageAllocator<U> &) {}

    T *allocate(std::size_t n)
    {
        if (n > std::size_t(-1) / sizeof(T))
            throw std::bad_array_new_length();
        const std::size_t bytes = n * sizeof(T);
        if (bytes < kHugePage)
            return static_cast<T *>(::operator new(bytes));
        return static_cast<T *>(mapHuge(mapped(bytes)));
    }

    void deallocate(T *p, std::size_t n)
    {
        const std::size_t bytes = n * sizeof(T);
        if (bytes < kHugePage)
            ::operator delete(p);
        else
            ::munmap(p, mapped(bytes));
    }

    // For other large blocks (KeyArena's chunks): bytes rounded up to whole huge pages.
    static void *mapHuge(std::size_t bytes)
    {
        // Over-map by one huge page, then unmap the unaligned head and the tail.
        void *raw = ::mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED)
            throw std::bad_alloc();
        const auto start = reinterpret_cast<std::uintptr_t>(raw);
        const std::uintptr_t aligned = (start + kHugePage - 1) & ~std::uintptr_t(kHugePage - 1);
        if (aligned > start)
            ::munmap(raw, aligned - start);
        const std::uintptr_t end = start + bytes + kHugePage;
        if (end > aligned + bytes)
            ::munmap(reinterpret_cast<void *>(aligned + bytes), end - (aligned + bytes));
        ::madvise(reinterpret_cast<void *>(aligned), bytes, MADV_HUGEPAGE);
        return reinterpret_cast<void *>(aligned);
    }
    static std::size_t mapped(std::size_t bytes)
    {
        return (bytes + kHugePage - 1) & ~(kHugePage - 1);
    }

    template <typename U> bool operator==(const HugePageAllocator<U> &) const { return true; }
};

} // namespace greygate
