// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SmtpReply.h"

#include <QByteArray>
#include <QList>

namespace greygate {

// Reads the backend's replies ("250-a\r\n250 b\r\n"), bounded: a line over 2,000 bytes, a
// reply over 100 lines, a bad code or codes that change within a reply are errors (the
// backend connection is then dropped). The enhanced status code, when the first line has
// one, is split off every line.
class SmtpReplyParser
{
public:
    static constexpr qsizetype kMaxLine = 2000;
    static constexpr int kMaxLines = 100;

    enum class Status : quint8
    {
        NeedMore,
        Reply,
        Error,
    };

    // Consumes from *buffer; on Reply, *reply holds it and *lines the texts of its lines
    // (without code and separators; the EHLO keywords for an EHLO reply), unless `lines` is
    // nullptr (a caller that only needs them for EHLO spares making them).
    Status take(QByteArray *buffer, SmtpReply *reply, QList<QByteArray> *lines);

private:
    QList<QByteArray> m_lines;
    int m_code = 0;
};

} // namespace greygate
