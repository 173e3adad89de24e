// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>
#include <QJsonObject>

class QLabel;
class QSpinBox;
class QTableView;

namespace greygate {

class ProxyRegistry;
class ReplayDiffModel;

// "Replay changes": a candidate policy set (edited, not saved) decided against the proxy's
// recorded attempts of the last N hours (policy.replay); the attempts whose verdict would
// change, grouped by sender domain, and the policies of the candidate that can never win.
// Nothing is saved from here.
class ReplayDialog : public QDialog
{
    Q_OBJECT

public:
    // candidate: a policy document ({"policies": [...]}, groups optional).
    ReplayDialog(ProxyRegistry &registry, const QString &proxyId, const QJsonObject &candidate,
                 QWidget *parent = nullptr);

    ReplayDiffModel *model() const { return m_model; }
    QString summary() const;
    bool busy() const { return m_busy; }

    // The candidate with `policy` in place of the policy of the same id (or added when it
    // has none): what a PolicyDialog's edit would make of the table.
    static QJsonObject candidateWith(const QJsonArray &policies, const QJsonObject &policy);

public Q_SLOTS:
    void replay();

Q_SIGNALS:
    void finished(bool ok);

private:
    ProxyRegistry &m_registry;
    QString m_proxyId;
    QJsonObject m_candidate;
    ReplayDiffModel *m_model;
    QSpinBox *m_hours;
    QLabel *m_summary;
    QLabel *m_unreachable;
    QTableView *m_table;
    bool m_busy = false;
};

} // namespace greygate
