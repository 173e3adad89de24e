// SPDX-License-Identifier: GPL-3.0-or-later
#include "RangeSelector.h"

namespace greygate {

namespace {

const StatsWindow kWindows[] = {StatsWindow::lastHour(), StatsWindow::lastDay(),
                                StatsWindow::lastWeek()};

} // namespace

RangeSelector::RangeSelector(QWidget *parent)
    : QComboBox(parent)
{
    addItem(tr("Last hour"));
    addItem(tr("Last day"));
    addItem(tr("Last week"));
    setToolTip(tr("The range the counters, the chart and the breakdowns cover"));
    connect(this, &QComboBox::currentIndexChanged, this, [this](int index) {
        if (index >= 0 && index < 3)
            Q_EMIT windowChanged(kWindows[index]);
    });
}

StatsWindow RangeSelector::window() const
{
    const int index = currentIndex();
    return index >= 0 && index < 3 ? kWindows[index] : StatsWindow::lastHour();
}

void RangeSelector::setWindow(const StatsWindow &window)
{
    for (int i = 0; i < 3; ++i) {
        if (kWindows[i] == window)
            setCurrentIndex(i);
    }
}

} // namespace greygate
