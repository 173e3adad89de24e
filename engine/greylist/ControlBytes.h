// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArrayView>
#include <QtEndian>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstring>

namespace greygate {

// True when the bytes hold a control byte: below 0x20 (a tab included) or DEL (0x7f).
// Eight bytes at a time, because every line of every policy request and every triplet
// field goes through it: a byte-by-byte loop over the ~700 bytes of a Postfix request was
// the request parser's main cost. For a byte b < 0x20, (b - 0x20) borrows into its top bit
// while b's own top bit is clear; DEL is the byte where b ^ 0x7f is zero. The test is exact
// for the whole word (no borrow reaches a byte unless a lower one matched; bytes >= 0x80
// never match).
inline bool containsControlByte(QByteArrayView text)
{
    constexpr quint64 kOnes = 0x0101010101010101ull;
    constexpr quint64 kHighs = 0x8080808080808080ull;
    const auto below = [](quint64 x, quint64 n) {
        return (x - kOnes * n) & ~x & kHighs;
    };
    const char *p = text.data();
    qsizetype left = text.size();
    for (; left >= 8; p += 8, left -= 8) {
        quint64 w;
        std::memcpy(&w, p, 8);
        if (below(w, 0x20) | below(w ^ (kOnes * 0x7f), 1))
            return true;
    }
    for (; left > 0; ++p, --left) {
        const auto c = static_cast<unsigned char>(*p);
        if (c < 0x20 || c == 0x7f)
            return true;
    }
    return false;
}

// Where the first control byte (as above) of `text` is, or -1. The lowest flagged byte of a
// word is always a real match (a borrow only runs upwards from a matching byte), so the
// first match is the word's lowest flag. The request parser finds a line's '\n' with it and
// knows at once that the line before it holds no other control byte.
inline qsizetype firstControlByte(QByteArrayView text)
{
    constexpr quint64 kOnes = 0x0101010101010101ull;
    constexpr quint64 kHighs = 0x8080808080808080ull;
    const char *const begin = text.data();
    const char *p = begin;
    qsizetype left = text.size();
#if defined(__SSE2__)
    // Sixteen bytes per step where SSE2 is there (every x86-64): a byte is a control byte
    // when, as a signed byte, it is in [0, 0x20) or is 0x7f.
    const __m128i space = _mm_set1_epi8(0x20);
    const __m128i minusOne = _mm_set1_epi8(-1);
    const __m128i del = _mm_set1_epi8(0x7f);
    for (; left >= 16; p += 16, left -= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
        const __m128i low = _mm_and_si128(_mm_cmplt_epi8(v, space), _mm_cmpgt_epi8(v, minusOne));
        const int mask = _mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(v, del)));
        if (mask != 0)
            return (p - begin) + qsizetype(__builtin_ctz(unsigned(mask)));
    }
#endif
    for (; left >= 8; p += 8, left -= 8) {
        quint64 w;
        std::memcpy(&w, p, 8);
        const quint64 del = w ^ (kOnes * 0x7f);
        const quint64 flags = (((w - kOnes * 0x20) & ~w) | ((del - kOnes) & ~del)) & kHighs;
        if (flags != 0) {
            if constexpr (Q_BYTE_ORDER == Q_LITTLE_ENDIAN)
                return (p - begin) + qsizetype(__builtin_ctzll(flags) / 8);
            for (int i = 0; i < 8; ++i) { // big-endian: the bytes in order
                const auto c = static_cast<unsigned char>(p[i]);
                if (c < 0x20 || c == 0x7f)
                    return (p - begin) + i;
            }
        }
    }
    for (; left > 0; ++p, --left) {
        const auto c = static_cast<unsigned char>(*p);
        if (c < 0x20 || c == 0x7f)
            return p - begin;
    }
    return -1;
}

// True when the bytes hold an ASCII capital ('A'..'Z'): whether a sender needs lowering
// at all (most are lower case already), sixteen bytes a step where SSE2 is there.
inline bool containsAsciiUpper(QByteArrayView text)
{
    const char *p = text.data();
    qsizetype left = text.size();
#if defined(__SSE2__)
    const __m128i beforeA = _mm_set1_epi8('A' - 1);
    const __m128i afterZ = _mm_set1_epi8('Z' + 1);
    for (; left >= 16; p += 16, left -= 16) {
        // Signed compares: bytes >= 0x80 are negative, below 'A', never a match.
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
        if (_mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(v, beforeA), _mm_cmplt_epi8(v, afterZ))))
            return true;
    }
#endif
    for (; left > 0; ++p, --left) {
        if (*p >= 'A' && *p <= 'Z')
            return true;
    }
    return false;
}

// Copies `text` to `to` with ASCII capitals lowered (other bytes as they are), sixteen bytes
// a step where SSE2 is there: every sender and recipient of every decision goes through it.
inline void copyLoweredAscii(QByteArrayView text, char *to)
{
    const char *p = text.data();
    qsizetype left = text.size();
#if defined(__SSE2__)
    const __m128i beforeA = _mm_set1_epi8('A' - 1);
    const __m128i afterZ = _mm_set1_epi8('Z' + 1);
    const __m128i caseBit = _mm_set1_epi8(0x20);
    for (; left >= 16; p += 16, to += 16, left -= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
        const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, beforeA), _mm_cmplt_epi8(v, afterZ));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(to),
                         _mm_or_si128(v, _mm_and_si128(upper, caseBit)));
    }
#endif
    for (; left > 0; ++p, ++to, --left)
        *to = *p >= 'A' && *p <= 'Z' ? char(*p + 0x20) : *p;
}

// The last `c` in `text`, or -1 (memrchr, where QByteArrayView::lastIndexOf takes Qt's
// general path).
inline qsizetype lastIndexOfByte(QByteArrayView text, char c)
{
    if (text.isEmpty())
        return -1;
    const void *found = memrchr(text.data(), c, size_t(text.size()));
    return found ? static_cast<const char *>(found) - text.data() : -1;
}

} // namespace greygate
