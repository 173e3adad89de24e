// SPDX-License-Identifier: GPL-3.0-or-later
#include "RawSortProxyModel.h"

namespace greygate {

bool RawSortProxyModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    QVariant l = left.data(Qt::UserRole);
    QVariant r = right.data(Qt::UserRole);
    if (!l.isValid() || !r.isValid()) {
        l = left.data(Qt::DisplayRole);
        r = right.data(Qt::DisplayRole);
    }
    const QPartialOrdering order = QVariant::compare(l, r);
    if (order == QPartialOrdering::Unordered)
        return l.toString().localeAwareCompare(r.toString()) < 0;
    return order == QPartialOrdering::Less;
}

} // namespace greygate
