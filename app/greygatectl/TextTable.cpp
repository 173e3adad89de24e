// SPDX-License-Identifier: GPL-3.0-or-later
#include "TextTable.h"

namespace greygate {

TextTable::TextTable(QStringList headers)
    : m_headers(std::move(headers))
{}

QString TextTable::clean(const QString &cell)
{
    QString out = cell.size() > kMaxCell ? cell.first(kMaxCell - 3) + QStringLiteral("...") : cell;
    for (QChar &c : out) {
        if (c.category() == QChar::Other_Control)
            c = u'?';
    }
    return out;
}

void TextTable::addRow(QStringList cells)
{
    for (QString &c : cells)
        c = clean(c);
    while (cells.size() < m_headers.size())
        cells.append(QString());
    m_rows.append(std::move(cells));
}

QString TextTable::text() const
{
    QList<qsizetype> widths;
    for (const QString &h : m_headers)
        widths.append(h.size());
    for (const QStringList &row : m_rows) {
        for (qsizetype i = 0; i < widths.size() && i < row.size(); ++i)
            widths[i] = std::max(widths[i], row[i].size());
    }
    const auto line = [&](const QStringList &cells) -> QString {
        QString s;
        for (qsizetype i = 0; i < widths.size(); ++i) {
            const QString cell = i < cells.size() ? cells[i] : QString();
            s += i + 1 < widths.size() ? cell.leftJustified(widths[i] + 2) : cell;
        }
        while (s.endsWith(u' '))
            s.chop(1);
        return s + u'\n';
    };
    QString out = line(m_headers);
    for (const QStringList &row : m_rows)
        out += line(row);
    return out;
}

} // namespace greygate
