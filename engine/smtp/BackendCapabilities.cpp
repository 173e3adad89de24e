// SPDX-License-Identifier: GPL-3.0-or-later
#include "BackendCapabilities.h"

namespace greygate {

BackendCapabilities BackendCapabilities::fromEhlo(const QList<QByteArray> &lines)
{
    BackendCapabilities caps;
    caps.known = true;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QList<QByteArray> words = lines[i].simplified().split(' ');
        const QByteArray keyword = words.value(0).toUpper();
        if (keyword == "PIPELINING") {
            caps.pipelining = true;
        } else if (keyword == "8BITMIME") {
            caps.eightBitMime = true;
        } else if (keyword == "SMTPUTF8") {
            caps.smtpUtf8 = true;
        } else if (keyword == "ENHANCEDSTATUSCODES") {
            caps.enhancedStatusCodes = true;
        } else if (keyword == "SIZE") {
            caps.sizeAdvertised = true;
            bool ok = false;
            const qint64 size = words.value(1).toLongLong(&ok);
            caps.size = ok && size > 0 ? size : 0;
        } else if (keyword == "XCLIENT") {
            for (qsizetype w = 1; w < words.size() && caps.xclient.size() < 16; ++w)
                caps.xclient.append(words[w].toUpper());
        }
    }
    return caps;
}

} // namespace greygate
