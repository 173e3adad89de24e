// SPDX-License-Identifier: GPL-3.0-or-later
#include "PdfReportWriter.h"

#include "HtmlReportWriter.h"

#include <QFile>
#include <QObject>
#include <QPageSize>
#include <QPdfWriter>
#include <QTextDocument>
#include <QUrl>

namespace greygate {

bool PdfReportWriter::write(const ReportData &data, const QList<ReportChart> &charts,
                            const QString &path, QString *error)
{
    // QPdfWriter writes in place: a temp file renamed at the end keeps an older report whole
    // when this one fails.
    const QString temp = path + QStringLiteral(".part");
    {
        QPdfWriter writer(temp);
        writer.setPageSize(QPageSize(QPageSize::A4));
        writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout::Millimeter);
        writer.setResolution(150);
        writer.setTitle(QObject::tr("Greygate report"));
        writer.setCreator(QStringLiteral("Greygate"));

        QTextDocument document;
        for (int i = 0; i < charts.size(); ++i) {
            document.addResource(QTextDocument::ImageResource,
                                 QUrl(HtmlReportWriter::resourceName(i)), charts.at(i).image);
        }
        document.setHtml(HtmlReportWriter::html(data, charts, HtmlReportWriter::Images::Resources));
        document.print(&writer);
    }
    QFile produced(temp);
    if (!produced.exists() || produced.size() == 0) {
        *error = QObject::tr("Cannot write %1: the PDF could not be created there").arg(path);
        QFile::remove(temp);
        return false;
    }
    QFile::remove(path);
    if (!produced.rename(path)) {
        *error = QObject::tr("Cannot write %1: %2").arg(path, produced.errorString());
        QFile::remove(temp);
        return false;
    }
    return true;
}

} // namespace greygate
