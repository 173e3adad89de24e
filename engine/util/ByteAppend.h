// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <cstring>
#include <initializer_list>

namespace greygate {

// Appends the parts to `out` with one size change and a memcpy each. QByteArray::append
// goes through the general insert() (aliasing checks, growth policy) at ~100 instructions a
// call, and the decision path appends a few times per answer, header and sender. `out`'s
// capacity is kept and grown geometrically as by append(). No part may point into `out`.
inline void appendBytes(QByteArray &out, std::initializer_list<QByteArrayView> parts)
{
    qsizetype total = 0;
    for (const QByteArrayView part : parts)
        total += part.size();
    const qsizetype at = out.size();
    out.resize(at + total);
    char *to = out.data() + at;
    for (const QByteArrayView part : parts) {
        if (!part.isEmpty())
            std::memcpy(to, part.data(), size_t(part.size()));
        to += part.size();
    }
}

} // namespace greygate
