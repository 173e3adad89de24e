// SPDX-License-Identifier: GPL-3.0-or-later
#include "TableCsvExporter.h"

#include "CsvReportWriter.h"

#include <QAbstractItemModel>
#include <QDateTime>
#include <QObject>
#include <QSaveFile>

namespace greygate {

QByteArray TableCsvExporter::csv(const QAbstractItemModel &model)
{
    QString out;
    const int columns = model.columnCount();
    for (int c = 0; c < columns; ++c) {
        if (c > 0)
            out += u',';
        out += CsvReportWriter::field(model.headerData(c, Qt::Horizontal).toString());
    }
    out += QStringLiteral("\r\n");
    for (int row = 0; row < model.rowCount(); ++row) {
        for (int c = 0; c < columns; ++c) {
            if (c > 0)
                out += u',';
            const QVariant value = model.index(row, c).data();
            if (value.metaType() == QMetaType::fromType<QDateTime>())
                out += value.toDateTime().toUTC().toString(Qt::ISODate);
            else
                out += CsvReportWriter::field(value.toString());
        }
        out += QStringLiteral("\r\n");
    }
    return out.toUtf8();
}

bool TableCsvExporter::write(const QAbstractItemModel &model, const QString &path, QString *error)
{
    QSaveFile file(path);
    const QByteArray bytes = csv(model);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        *error = QObject::tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace greygate
