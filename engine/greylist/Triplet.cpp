// SPDX-License-Identifier: GPL-3.0-or-later
#include "Triplet.h"

namespace greygate {

namespace {
constexpr char kSeparator = '\x1f';
}

QByteArray TripletKey::joined() const
{
    QByteArray out;
    out.reserve(client.size() + sender.size() + recipient.size() + 2);
    out.append(client).append(kSeparator).append(sender).append(kSeparator).append(recipient);
    return out;
}

std::optional<TripletKey> TripletKey::split(const QByteArray &joined)
{
    const qsizetype a = joined.indexOf(kSeparator);
    if (a < 0)
        return std::nullopt;
    const qsizetype b = joined.indexOf(kSeparator, a + 1);
    if (b < 0 || joined.indexOf(kSeparator, b + 1) >= 0)
        return std::nullopt;
    return TripletKey{joined.left(a), joined.mid(a + 1, b - a - 1), joined.mid(b + 1)};
}

} // namespace greygate
