// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace greygate::protocol {

// JSON text written directly, for the event stream's hot paths on both ends: the server's
// event encoder (EventJson) and the client's binary event decoder (BinaryEvents), which
// builds the objects by having Qt parse their text, several times cheaper in Qt 6 than
// inserting into a QJsonObject field by field (bench/README.md, "Events").
class JsonText
{
public:
    // A JSON string of UTF-8 bytes; invalid sequences become U+FFFD, as with
    // QString::fromUtf8.
    static void appendString(QByteArray *out, QByteArrayView utf8);
    static void appendNumber(QByteArray *out, qint64 value);
};

} // namespace greygate::protocol
