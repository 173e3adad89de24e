// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QStringList>

namespace greygate {

// A plain-text table for a terminal: columns padded to their widest cell, cells cut at
// kMaxCell characters and stripped of control characters (they come from the network).
class TextTable
{
public:
    static constexpr qsizetype kMaxCell = 60;

    explicit TextTable(QStringList headers);
    void addRow(QStringList cells);
    QString text() const;
    qsizetype rowCount() const { return m_rows.size(); }

    static QString clean(const QString &cell);

private:
    QStringList m_headers;
    QList<QStringList> m_rows;
};

} // namespace greygate
