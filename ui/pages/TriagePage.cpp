// SPDX-License-Identifier: GPL-3.0-or-later
#include "TriagePage.h"

#include "client/ProxyRegistry.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QTableWidget>
#include <QVBoxLayout>

namespace greygate {

namespace {

enum Column
{
    Score,
    Proxy,
    Time,
    Client,
    Sender,
    Recipient,
    Factors,
    Columns
};

QTableWidgetItem *number(qint64 value, const QString &text = QString())
{
    auto *item = new QTableWidgetItem(text.isEmpty() ? QString::number(value) : text);
    item->setData(Qt::UserRole, value);
    return item;
}

} // namespace

TriagePage::TriagePage(ProxyRegistry &registry, QWidget *parent)
    : Page(parent)
    , m_registry(registry)
    , m_table(new QTableWidget(0, Columns, this))
    , m_status(new QLabel(this))
    , m_allow(new QPushButton(tr("Allow sender and note..."), this))
{
    m_table->setObjectName(QStringLiteral("triageTable"));
    m_table->setHorizontalHeaderLabels({tr("Score"), tr("Proxy"), tr("Failed at"), tr("Client"),
                                        tr("Sender"), tr("Recipient"),
                                        tr("Why it looks legitimate")});
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSortingEnabled(true);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();
    auto *reload = new QPushButton(tr("Refresh"), this);
    connect(reload, &QPushButton::clicked, this, &TriagePage::refresh);
    connect(m_allow, &QPushButton::clicked, this, &TriagePage::allowSelected);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_status, 1);
    buttons->addWidget(reload);
    buttons->addWidget(m_allow);
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("\"Sender Failed to Retry\" entries of the last 7 days, the "
                                "likeliest legitimate first. Factors: a known correspondent "
                                "(Auto Allow), accepted since from another network, a reverse DNS "
                                "name that looks like a mail server, SPF pass for the sender, "
                                "retried too early. A row's tooltip lists each factor's weight "
                                "and reason."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    layout->addWidget(m_table, 1);
    layout->addLayout(buttons);
    connect(&registry, &ProxyRegistry::ready, this, [this](const QString &) { refresh(); });
}

QIcon TriagePage::icon() const
{
    return QIcon::fromTheme(QStringLiteral("mail-mark-notjunk"),
                            style()->standardIcon(QStyle::SP_DialogApplyButton));
}

void TriagePage::setScope(const QString &proxyId)
{
    Page::setScope(proxyId);
    refresh();
}

QStringList TriagePage::proxies() const
{
    return scope().isEmpty() ? m_registry.ids() : QStringList{scope()};
}

void TriagePage::refresh()
{
    m_table->setSortingEnabled(false);
    m_table->setRowCount(0);
    m_pending = 0;
    for (const QString &id : proxies()) {
        ProxyConnection *c = m_registry.connection(id);
        if (!c || c->state() != ProxyConnection::State::Connected)
            continue;
        ++m_pending;
        const ProxyEndpoint *e = m_registry.endpoint(id);
        const QString name = e && !e->name.isEmpty() ? e->name : id;
        c->call(QStringLiteral("triage.list"), {},
                [this, id, name](const ProxyConnection::Reply &r) {
                    --m_pending;
                    if (!r.ok) {
                        m_status->setText(tr("%1: %2").arg(name, r.error.message));
                        return;
                    }
                    m_table->setSortingEnabled(false);
                    for (const QJsonValue &v :
                         r.result.toObject().value(QStringLiteral("entries")).toArray()) {
                        const QJsonObject o = v.toObject();
                        const int row = m_table->rowCount();
                        m_table->insertRow(row);
                        QStringList held, every;
                        for (const QJsonValue &f : o.value(QStringLiteral("factors")).toArray()) {
                            const QJsonObject factor = f.toObject();
                            const QJsonValue value = factor.value(QStringLiteral("value"));
                            const QString detail =
                                factor.value(QStringLiteral("detail")).toString().left(300);
                            if (value.toBool())
                                held.append(detail);
                            // Every factor in the tooltip, those that do not hold and those
                            // not known too, so the score can be read.
                            every.append(
                                QStringLiteral("%1 %2 (+%3): %4")
                                    .arg(value.isNull()   ? QStringLiteral("?")
                                         : value.toBool() ? QStringLiteral("✓")
                                                          : QStringLiteral("✗"),
                                         factor.value(QStringLiteral("name")).toString().left(40))
                                    .arg(factor.value(QStringLiteral("weight")).toInt())
                                    .arg(detail.isEmpty() ? tr("unknown") : detail));
                        }
                        const qint64 time = o.value(QStringLiteral("time")).toInteger();
                        m_table->setItem(row, Score,
                                         number(o.value(QStringLiteral("score")).toInteger()));
                        auto *proxy = new QTableWidgetItem(name);
                        proxy->setData(Qt::UserRole, id);
                        m_table->setItem(row, Proxy, proxy);
                        m_table->setItem(
                            row, Time,
                            number(time, QDateTime::fromSecsSinceEpoch(time, Qt::UTC)
                                             .toString(QStringLiteral("yyyy-MM-dd HH:mm"))));
                        for (const auto &[column, key] :
                             {std::pair{Client, u"client"}, std::pair{Sender, u"sender"},
                              std::pair{Recipient, u"recipient"}})
                            m_table->setItem(row, column,
                                             new QTableWidgetItem(o.value(key).toString()));
                        auto *factors = new QTableWidgetItem(held.isEmpty() ? tr("nothing known")
                                                                            : held.join(u"; "));
                        factors->setToolTip(every.join(u'\n'));
                        m_table->setItem(row, Factors, factors);
                    }
                    m_table->setSortingEnabled(true);
                    m_table->sortByColumn(Score, Qt::DescendingOrder);
                    m_status->setText(tr("%n entries", nullptr, m_table->rowCount()));
                });
    }
    if (m_pending == 0)
        m_status->setText(tr("no proxy connected"));
}

void TriagePage::allowSelected()
{
    const int row = m_table->currentRow();
    if (row < 0)
        return;
    const QString sender = m_table->item(row, Sender)->text();
    const QString id = m_table->item(row, Proxy)->data(Qt::UserRole).toString();
    bool ok = false;
    const QString note = QInputDialog::getText(
        this, tr("Allow %1").arg(sender),
        tr("Let mail from %1 through without greylisting for 24 hours.\nNote (for the audit "
           "log and the recipient's admin):")
            .arg(sender),
        QLineEdit::Normal, tr("failed to retry; looks legitimate"), &ok);
    ProxyConnection *c = m_registry.connection(id);
    if (!ok || note.trimmed().isEmpty() || !c)
        return;
    c->call(QStringLiteral("release.create"),
            QJsonObject{
                {QStringLiteral("kind"), QStringLiteral("sender")},
                {QStringLiteral("sender"), sender},
                {QStringLiteral("for"), 86400},
                {QStringLiteral("reason"), QString(QStringLiteral("triage: ") + note.trimmed())}},
            [this, sender](const ProxyConnection::Reply &r) {
                m_status->setText(r.ok ? tr("%1 allowed for 24 hours").arg(sender)
                                       : tr("not allowed: %1").arg(r.error.message));
            });
}

} // namespace greygate
