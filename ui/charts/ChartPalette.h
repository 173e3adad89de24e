// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QColor>

namespace greygate {

// One colour per counter everywhere (dashboard, reports), in StatsSeriesModel's column order:
// attempts, deferred, passed, bypassed, blocked, failed to retry. Chosen to stay apart for
// the common colour-vision deficiencies (Okabe-Ito).
struct ChartPalette
{
    static QColor counterColor(int counter)
    {
        static const QColor colors[] = {QColor(0x55, 0x55, 0x55), QColor(0xE6, 0x9F, 0x00),
                                        QColor(0x00, 0x9E, 0x73), QColor(0x56, 0xB4, 0xE9),
                                        QColor(0xD5, 0x5E, 0x00), QColor(0xCC, 0x79, 0xA7)};
        return colors[qBound(0, counter, 5)];
    }
    static QColor sliceColor(int index)
    {
        static const QColor colors[] = {QColor(0x00, 0x72, 0xB2), QColor(0xE6, 0x9F, 0x00),
                                        QColor(0x00, 0x9E, 0x73), QColor(0xCC, 0x79, 0xA7),
                                        QColor(0x56, 0xB4, 0xE9), QColor(0xD5, 0x5E, 0x00),
                                        QColor(0xF0, 0xE4, 0x42), QColor(0x99, 0x99, 0x99)};
        return colors[index % 8];
    }
};

} // namespace greygate
