// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "models/StatsWindow.h"

#include <QComboBox>

namespace greygate {

// The dashboard's range: the last hour (in minutes), day (quarter hours) or week (hours).
class RangeSelector : public QComboBox
{
    Q_OBJECT

public:
    explicit RangeSelector(QWidget *parent = nullptr);

    StatsWindow window() const;
    void setWindow(const StatsWindow &window);

Q_SIGNALS:
    void windowChanged(const greygate::StatsWindow &window);
};

} // namespace greygate
