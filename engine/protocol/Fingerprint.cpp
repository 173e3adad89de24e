// SPDX-License-Identifier: GPL-3.0-or-later
#include "Fingerprint.h"

namespace greygate::protocol {

QString Fingerprint::normalise(QStringView text)
{
    constexpr qsizetype kHexDigits = 64;
    QString hex;
    hex.reserve(kHexDigits);
    for (QChar c : text.trimmed()) {
        if (c == u':' || c == u' ')
            continue;
        const char16_t u = c.toLower().unicode();
        if (!((u >= u'0' && u <= u'9') || (u >= u'a' && u <= u'f')) || hex.size() >= kHexDigits)
            return QString();
        hex.append(QChar(u));
    }
    return hex.size() == kHexDigits ? hex : QString();
}

} // namespace greygate::protocol
