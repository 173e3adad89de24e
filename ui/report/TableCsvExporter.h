// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>

class QAbstractItemModel;

namespace greygate {

// Exports what a table shows (a view's model, sorted and filtered by its proxy model) as
// CSV: the header's titles, then each row's display text; dates as ISO 8601 UTC so a
// spreadsheet sorts them. Fields go through CsvReportWriter::field (quoting, formula guard).
class TableCsvExporter
{
public:
    static QByteArray csv(const QAbstractItemModel &model);
    static bool write(const QAbstractItemModel &model, const QString &path, QString *error);
};

} // namespace greygate
