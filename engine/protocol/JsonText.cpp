// SPDX-License-Identifier: GPL-3.0-or-later
#include "JsonText.h"

#include <QString>
#include <charconv>

namespace greygate::protocol {

void JsonText::appendString(QByteArray *out, QByteArrayView bytes)
{
    bool plain = true;
    for (char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
            plain = false;
            break;
        }
    }
    out->append('"');
    if (plain) {
        out->append(bytes);
    } else {
        const QByteArray valid = QString::fromUtf8(bytes).toUtf8();
        for (char c : valid) {
            const auto u = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                out->append('\\');
                out->append(c);
            } else if (u < 0x20) {
                static const char hex[] = "0123456789abcdef";
                const char escaped[] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 15]};
                out->append(escaped, sizeof escaped);
            } else {
                out->append(c);
            }
        }
    }
    out->append('"');
}

void JsonText::appendNumber(QByteArray *out, qint64 value)
{
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    out->append(digits, end - digits);
}

} // namespace greygate::protocol
