// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "HugePageAllocator.h"

#include <QtGlobal>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

namespace greygate {

// Storage for the greylist's key bytes. A key of ~60 bytes costs 80 in glibc's malloc (a
// chunk header, 16-byte rounding); here it costs its length rounded up to 8. Blocks are cut
// from 1 MiB chunks; a freed block goes to a free list of its size class (8-byte steps) and is
// reused by the next key of that size, which under greylist churn (keys of similar lengths
// coming and going) keeps the arena at its high-water mark rather than growing. Chunks are
// returned only by clear() or destruction, as malloc rarely returns such memory either.
// Chunks after the first are 2 MiB huge pages (HugePageAllocator): the keys of a million
// triplets are read at random, and with small pages each read would also miss the TLB. The
// first comes from malloc, touched page by page, so the many small tables (a few keys each)
// do not each fault in a whole huge page.
class KeyArena
{
public:
    static constexpr size_t kGranule = 8;
    static constexpr size_t kChunkBytes = HugePageAllocator<char>::kHugePage;
    static constexpr size_t kMaxBlockBytes = kChunkBytes / 4;

    KeyArena() = default;
    ~KeyArena() { clear(); }
    KeyArena(const KeyArena &) = delete;
    KeyArena &operator=(const KeyArena &) = delete;

    // bytes must be at most kMaxBlockBytes. The block is 8-byte aligned.
    char *allocate(size_t bytes)
    {
        Q_ASSERT(bytes <= kMaxBlockBytes);
        const size_t cls = sizeClass(bytes);
        if (cls < m_free.size() && m_free[cls] != nullptr) {
            char *block = m_free[cls];
            std::memcpy(&m_free[cls], block, sizeof(char *));
            return block;
        }
        const size_t size = cls * kGranule;
        if (m_left < size) {
            auto *chunk = static_cast<char *>(m_chunks.empty()
                                                  ? std::malloc(kChunkBytes)
                                                  : HugePageAllocator<char>::mapHuge(kChunkBytes));
            if (!chunk)
                throw std::bad_alloc();
            m_chunks.push_back(chunk);
            m_next = chunk;
            m_left = kChunkBytes;
        }
        char *block = m_next;
        m_next += size;
        m_left -= size;
        return block;
    }

    // bytes: what was asked of allocate() for this block.
    void release(char *block, size_t bytes)
    {
        const size_t cls = sizeClass(bytes);
        if (cls >= m_free.size())
            m_free.resize(cls + 1, nullptr);
        std::memcpy(block, &m_free[cls], sizeof(char *));
        m_free[cls] = block;
    }

    void clear()
    {
        for (size_t i = 0; i < m_chunks.size(); ++i) {
            if (i == 0)
                std::free(m_chunks[i]);
            else
                ::munmap(m_chunks[i], kChunkBytes);
        }
        m_chunks.clear();
        m_free.clear();
        m_next = nullptr;
        m_left = 0;
    }

    size_t bytesHeld() const
    {
        return m_chunks.size() * kChunkBytes + m_chunks.capacity() * sizeof(char *) +
               m_free.capacity() * sizeof(char *);
    }

private:
    // Every block holds at least a free-list pointer.
    static size_t sizeClass(size_t bytes)
    {
        const size_t cls = (bytes + kGranule - 1) / kGranule;
        return cls == 0 ? 1 : cls;
    }

    std::vector<char *> m_chunks;
    std::vector<char *> m_free; // per size class: the head of a list threaded through blocks
    char *m_next = nullptr;
    size_t m_left = 0;
};

} // namespace greygate
