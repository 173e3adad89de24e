// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ReportChart.h"
#include "ReportData.h"

namespace greygate {

// A report as a PDF (A4, QPdfWriter): HtmlReportWriter's page laid out by a QTextDocument
// with the charts as its image resources. Laying out thousands of table rows takes seconds,
// so the console runs this on a worker thread (QTextDocument and QPdfWriter allow it; the
// charts are images made on the GUI thread beforehand).
class PdfReportWriter
{
public:
    static bool write(const ReportData &data, const QList<ReportChart> &charts, const QString &path,
                      QString *error);
};

} // namespace greygate
