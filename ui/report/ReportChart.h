// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QImage>
#include <QString>

namespace greygate {

// A chart of a report, rendered to an image on the GUI thread (QtCharts draws through
// widgets) so the writers can use it from any thread.
struct ReportChart
{
    QString title;
    QImage image;
};

} // namespace greygate
