// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ReportChart.h"
#include "ReportData.h"

namespace greygate {

// A report as one HTML page: the figures per proxy and together, the charts, the figures
// over time and the rejection log. Self-contained (charts embedded as data: URLs) for a
// file, or with the charts named as resources for a QTextDocument (PdfReportWriter). Every
// text from a proxy is escaped. Runs on any thread.
class HtmlReportWriter
{
public:
    enum class Images
    {
        Embedded,  // <img src="data:image/png;base64,...">
        Resources, // <img src="chart-N.png">, added to the QTextDocument by the caller
    };

    static QString html(const ReportData &data, const QList<ReportChart> &charts, Images images);
    static QString resourceName(int chart);
    static bool write(const ReportData &data, const QList<ReportChart> &charts, const QString &path,
                      QString *error);
};

} // namespace greygate
