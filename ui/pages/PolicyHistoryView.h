// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableView;

namespace greygate {

class PolicyVersionModel;
class ProxyRegistry;

// One proxy's policy table history (policy.versions): every version with who, when and what;
// the selected version's difference from the table as it is now (policy.version.diff); a
// rollback to it (policy.rollback, asked once, itself a new version); and where the other
// connected proxies' tables differ from this one's (their policy.list compared by policy).
class PolicyHistoryView : public QWidget
{
    Q_OBJECT

public:
    explicit PolicyHistoryView(ProxyRegistry &registry, QWidget *parent = nullptr);

    void setProxyId(const QString &proxyId);
    PolicyVersionModel *model() const { return m_model; }
    QTableView *table() const { return m_table; }
    QString diffText() const;
    QString comparisonText() const;
    bool busy() const { return m_pending > 0; }

    // A policy.version.diff answer as text: "+ policy 7 ...", "- ...", "~ policy 3: action".
    static QString describeDiff(const QJsonObject &diff);
    // How `theirs` (a policy.list's policies) differs from `ours`, by policy id, ignoring the
    // bookkeeping (version, updatedAt, updatedBy); empty when the same.
    static QString compareTables(const QJsonArray &ours, const QJsonArray &theirs);

public Q_SLOTS:
    void reload();
    void selectVersion(int row);
    void rollbackSelected();
    void compareProxies();

Q_SIGNALS:
    void loaded();
    void diffShown();
    void compared();
    void rolledBack(qint64 version);

private:
    void showMessage(const QString &text, bool error);
    void done();

    ProxyRegistry &m_registry;
    QString m_proxyId;
    PolicyVersionModel *m_model;
    QTableView *m_table;
    QPlainTextEdit *m_diff;
    QPlainTextEdit *m_compare;
    QLabel *m_message;
    QPushButton *m_rollback;
    qint64 m_selected = -1;
    int m_pending = 0;
};

} // namespace greygate
