// SPDX-License-Identifier: GPL-3.0-or-later
#include "ReplayDialog.h"

#include "models/ProxyCalls.h"
#include "models/ReplayDiffModel.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

namespace greygate {

ReplayDialog::ReplayDialog(ProxyRegistry &registry, const QString &proxyId,
                           const QJsonObject &candidate, QWidget *parent)
    : QDialog(parent)
    , m_registry(registry)
    , m_proxyId(proxyId)
    , m_candidate(candidate)
    , m_model(new ReplayDiffModel(this))
    , m_hours(new QSpinBox(this))
    , m_summary(new QLabel(this))
    , m_unreachable(new QLabel(this))
    , m_table(new QTableView(this))
{
    setWindowTitle(tr("Replay changes"));
    m_hours->setObjectName(QStringLiteral("hours"));
    m_hours->setRange(1, 48);
    m_hours->setValue(24);
    m_hours->setSuffix(tr(" h"));
    auto *run = new QPushButton(tr("Replay"), this);
    run->setObjectName(QStringLiteral("replayNow"));
    connect(run, &QPushButton::clicked, this, &ReplayDialog::replay);
    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Recorded attempts of the last"), this));
    bar->addWidget(m_hours);
    bar->addWidget(run);
    bar->addStretch(1);

    m_summary->setObjectName(QStringLiteral("summary"));
    m_summary->setWordWrap(true);
    m_unreachable->setObjectName(QStringLiteral("unreachable"));
    m_unreachable->setWordWrap(true);
    m_unreachable->setStyleSheet(QStringLiteral("color: #8a4b00;"));
    auto *sorted = new QSortFilterProxyModel(this);
    sorted->setSourceModel(m_model);
    sorted->setSortRole(Qt::UserRole);
    m_table->setObjectName(QStringLiteral("diff"));
    m_table->setModel(sorted);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(ReplayDiffModel::Attempts, Qt::DescendingOrder);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *note = new QLabel(tr("Nothing is saved here: each attempt is decided by the policies "
                               "as they are and as edited, at the time it was made."),
                            this);
    note->setWordWrap(true);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_summary);
    layout->addWidget(m_table, 1);
    layout->addWidget(m_unreachable);
    layout->addWidget(note);
    layout->addWidget(buttons);
    resize(900, 520);
}

QJsonObject ReplayDialog::candidateWith(const QJsonArray &policies, const QJsonObject &policy)
{
    QJsonArray out;
    const qint64 id = policy.value(QStringLiteral("id")).toInteger();
    bool replaced = false;
    for (const QJsonValue &p : policies) {
        if (id > 0 && p.toObject().value(QStringLiteral("id")).toInteger() == id) {
            out.append(policy);
            replaced = true;
        } else {
            out.append(p);
        }
    }
    if (!replaced)
        out.append(policy); // a new policy: the proxy numbers it after the others
    return QJsonObject{{QStringLiteral("policies"), out}};
}

QString ReplayDialog::summary() const
{
    return m_summary->text();
}

void ReplayDialog::replay()
{
    m_busy = true;
    m_summary->setText(tr("Replaying..."));
    const QJsonObject params{{QStringLiteral("candidate"), m_candidate},
                             {QStringLiteral("hours"), m_hours->value()}};
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("policy.replay"), params, this,
                     [this](const ProxyConnection::Reply &reply) {
                         m_busy = false;
                         if (!reply.ok) {
                             m_model->setResult({});
                             m_summary->setText(tr("Cannot replay: %1. Correct the policy and "
                                                   "replay again.")
                                                    .arg(ProxyCalls::describe(reply.error)));
                             Q_EMIT finished(false);
                             return;
                         }
                         const QJsonObject result = reply.result.toObject();
                         m_model->setResult(result);
                         m_summary->setText(m_model->summary());
                         QStringList never;
                         for (const QJsonValue &u :
                              result.value(QStringLiteral("unreachable")).toArray())
                             never.append(tr("Policy %1 can never win: %2")
                                              .arg(u[QStringLiteral("policy")].toInteger())
                                              .arg(u[QStringLiteral("reason")].toString()));
                         m_unreachable->setText(never.join(u'\n'));
                         m_unreachable->setVisible(!never.isEmpty());
                         m_table->resizeColumnsToContents();
                         Q_EMIT finished(true);
                     });
}

} // namespace greygate
