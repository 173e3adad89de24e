// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QSortFilterProxyModel>

namespace greygate {

// Sorts on the raw value (Qt::UserRole, STYLE.md) where the model gives one, else on what
// it displays; filters on a text over every column, or on a role the page chooses.
class RawSortProxyModel : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

protected:
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;
};

} // namespace greygate
