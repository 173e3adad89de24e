// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QList>
#include <QSet>

namespace greygate {

// A table of rows with a stable key, refreshed from a new list without a reset (STYLE.md:
// never a reset for a live update): rows that went away are removed span by span from the
// end, rows whose content changed get one dataChanged per run of adjacent rows, new rows are
// appended with one insert. Existing rows keep their place, so a selection survives a reload.
// Row needs `QString key() const` and `operator==`.
template <typename Row> class KeyedTableModel : public QAbstractTableModel
{
public:
    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex &parent = {}) const override
    {
        return parent.isValid() ? 0 : int(m_rows.size());
    }

    const QList<Row> &rows() const { return m_rows; }
    // -1 when absent.
    int rowOf(const QString &key) const
    {
        for (qsizetype i = 0; i < m_rows.size(); ++i) {
            if (m_rows.at(i).key() == key)
                return int(i);
        }
        return -1;
    }

protected:
    void replaceRows(const QList<Row> &fresh)
    {
        QHash<QString, qsizetype> wanted;
        wanted.reserve(fresh.size());
        for (qsizetype i = 0; i < fresh.size(); ++i)
            wanted.insert(fresh.at(i).key(), i);

        // Removals, from the end, one signal per contiguous span.
        for (qsizetype last = m_rows.size() - 1; last >= 0;) {
            if (wanted.contains(m_rows.at(last).key())) {
                --last;
                continue;
            }
            qsizetype first = last;
            while (first > 0 && !wanted.contains(m_rows.at(first - 1).key()))
                --first;
            beginRemoveRows({}, int(first), int(last));
            m_rows.remove(first, last - first + 1);
            endRemoveRows();
            last = first - 1;
        }

        // Changes in place, one dataChanged per run of adjacent changed rows.
        QSet<QString> present;
        qsizetype runStart = -1;
        const auto closeRun = [&](qsizetype end) {
            if (runStart >= 0)
                Q_EMIT dataChanged(index(int(runStart), 0), index(int(end), columnCount() - 1),
                                   {Qt::DisplayRole, Qt::EditRole, Qt::UserRole, Qt::ToolTipRole,
                                    Qt::CheckStateRole});
            runStart = -1;
        };
        for (qsizetype i = 0; i < m_rows.size(); ++i) {
            const Row &now = fresh.at(wanted.value(m_rows.at(i).key()));
            present.insert(now.key());
            if (now == m_rows.at(i)) {
                closeRun(i - 1);
                continue;
            }
            m_rows[i] = now;
            if (runStart < 0)
                runStart = i;
        }
        closeRun(m_rows.size() - 1);

        // New rows, appended in the order given, with one insert.
        QList<Row> added;
        for (const Row &row : fresh) {
            if (present.contains(row.key()))
                continue; // a key listed twice is shown once
            present.insert(row.key());
            added.append(row);
        }
        if (!added.isEmpty()) {
            beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + added.size() - 1));
            m_rows.append(added);
            endInsertRows();
        }
    }

    void removeKey(const QString &key)
    {
        const int row = rowOf(key);
        if (row < 0)
            return;
        beginRemoveRows({}, row, row);
        m_rows.removeAt(row);
        endRemoveRows();
    }

    QList<Row> m_rows;
};

} // namespace greygate
