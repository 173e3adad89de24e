// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArrayView>
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

} // namespace greygate
