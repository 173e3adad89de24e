// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ReportData.h"

namespace greygate {

// A report as one CSV table (RFC 4180, UTF-8, CRLF), so a spreadsheet or a script reads it
// with one header: `section` says what a row is: `total` (per proxy, and "All proxies"),
// `bucket` (a proxy's figures for one step of the range), `rejection` (a row of the
// rejection log), `error` (a proxy that did not answer, and why). Times are ISO 8601 UTC.
class CsvReportWriter
{
public:
    static QByteArray csv(const ReportData &data);
    // Written whole or not at all (QSaveFile).
    static bool write(const ReportData &data, const QString &path, QString *error);

    // One field: quoted when it holds a comma, quote or line break; a value a spreadsheet
    // would run as a formula (=, +, -, @ first: addresses come from the network) gets a
    // leading apostrophe.
    static QString field(const QString &value);
    static QString isoTime(qint64 seconds);
};

} // namespace greygate
