// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QTableView>

class QSortFilterProxyModel;

namespace greygate {

class Settings;

// The console's table: sorts on the model's raw sort role (Qt::UserRole, STYLE.md) when it
// has one, filters through its proxy, remembers its columns (order, widths, hidden ones) in
// Settings::Key::ColumnStates under its name, lets the admin hide columns from the header's
// context menu, and exports what it shows (the filtered, sorted rows and the visible
// columns) as CSV. Every page's table is one of these, so they all behave alike.
class DataTable : public QTableView
{
    Q_OBJECT

public:
    // name: the key of its column state; settings may be null (tests).
    DataTable(const QString &name, Settings *settings, QWidget *parent = nullptr);
    ~DataTable() override;

    // Shows `source` through a sort/filter proxy of its own (or `proxy`, already over it).
    void setSourceModel(QAbstractItemModel *source, QSortFilterProxyModel *proxy = nullptr);
    QSortFilterProxyModel *proxy() const { return m_proxy; }
    QAbstractItemModel *sourceModel() const;

    // Rows of the source model selected now (mapped through the proxy), ascending.
    QList<int> selectedSourceRows() const;
    // What the table shows, as CSV (RFC 4180: quotes doubled, fields with , " or a line end
    // quoted). Formulas (=, +, -, @ first) are prefixed with ' so a spreadsheet does not run
    // what an attacker put in a sender address.
    QString toCsv() const;
    // Asks for a file and writes toCsv() there; errors shown to the admin.
    void exportCsv();
    static QString csvField(const QString &value);

    void saveColumns();

private:
    void restoreColumns();
    void showHeaderMenu(const QPoint &pos);

    QString m_name;
    Settings *m_settings;
    QSortFilterProxyModel *m_proxy = nullptr;
    bool m_restored = false;
};

} // namespace greygate
