// SPDX-License-Identifier: GPL-3.0-or-later
#include "PoolRetryPanel.h"

#include "models/ProxyCalls.h"
#include "models/ProxyFollow.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

namespace greygate {

namespace {

constexpr int kMaxRows = 500;    // both lists: the proxy bounds them, the view too
constexpr int kMaxCell = 200;    // characters of a cell from the network
constexpr int kActionColumn = 4; // the button of a row, in both tables

QString bounded(const QJsonValue &v)
{
    return v.toString().left(kMaxCell);
}

QTableWidget *makeTable(const QStringList &headers, const QString &name, QWidget *parent)
{
    auto *t = new QTableWidget(0, int(headers.size()), parent);
    t->setObjectName(name);
    t->setHorizontalHeaderLabels(headers);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionMode(QAbstractItemView::NoSelection);
    t->verticalHeader()->hide();
    t->horizontalHeader()->setStretchLastSection(false);
    t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    t->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    return t;
}

QString leftText(qint64 seconds)
{
    if (seconds <= 0)
        return PoolRetryPanel::tr("expired");
    if (seconds >= 3600)
        return PoolRetryPanel::tr("%1 h %2 min").arg(seconds / 3600).arg(seconds % 3600 / 60);
    return PoolRetryPanel::tr("%1 min %2 s").arg(seconds / 60).arg(seconds % 60);
}

} // namespace

PoolRetryPanel::PoolRetryPanel(ProxyRegistry &registry, QWidget *parent)
    : QWidget(parent)
    , m_registry(registry)
    , m_hours(new QSpinBox(this))
    , m_retries(makeTable(
          {tr("Sender domain"), tr("Pool retry"), tr("Sender"), tr("Last seen"), QString()},
          QStringLiteral("poolRetries"), this))
    , m_bypasses(makeTable({tr("Sender domain"), tr("Ranges (from its SPF record)"), tr("Expires"),
                            tr("Left"), QString()},
                           QStringLiteral("poolBypasses"), this))
    , m_message(new QLabel(this))
{
    m_hours->setObjectName(QStringLiteral("bypassHours"));
    m_hours->setRange(1, 168);
    m_hours->setValue(4);
    m_hours->setSuffix(tr(" h"));
    m_hours->setToolTip(tr("How long a bypass lasts: it ends by itself"));
    connect(m_hours, &QSpinBox::valueChanged, this, [this] {
        for (int row = 0; row < m_retries->rowCount(); ++row)
            if (QPushButton *b = bypassButton(row))
                b->setText(buttonText());
    });
    m_message->setObjectName(QStringLiteral("message"));
    m_message->setWordWrap(true);

    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Large senders retrying one message from several networks of "
                                 "their pool. A bypass lets the domain through from the ranges "
                                 "its SPF record authorises, for"),
                              this),
                   1);
    bar->addWidget(m_hours);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(m_retries, 3);
    layout->addWidget(new QLabel(tr("Active pool bypasses (they end by themselves; a restart of "
                                    "greygated ends them too)"),
                                 this));
    layout->addWidget(m_bypasses, 2);
    layout->addWidget(m_message);

    // A burst of events (several retries at once) is one reload.
    m_reloadTimer.setSingleShot(true);
    m_reloadTimer.setInterval(150);
    connect(&m_reloadTimer, &QTimer::timeout, this, &PoolRetryPanel::reload);
    m_tickTimer.setInterval(1000);
    connect(&m_tickTimer, &QTimer::timeout, this, &PoolRetryPanel::tick);
    m_tickTimer.start();
    ProxyFollow::keepCurrent(registry, this, m_reloadTimer, [](const QJsonObject &e) {
        return e.value(QStringLiteral("type")).toString() == u"poolRetry";
    });
}

void PoolRetryPanel::setProxyId(const QString &proxyId)
{
    if (proxyId == m_proxyId)
        return;
    m_proxyId = proxyId;
    ProxyCalls::followEvents(m_registry.connection(proxyId));
    reload();
}

QPushButton *PoolRetryPanel::bypassButton(int row) const
{
    return qobject_cast<QPushButton *>(m_retries->cellWidget(row, kActionColumn));
}

QPushButton *PoolRetryPanel::removeButton(int row) const
{
    return qobject_cast<QPushButton *>(m_bypasses->cellWidget(row, kActionColumn));
}

QString PoolRetryPanel::message() const
{
    return m_message->text();
}

QString PoolRetryPanel::buttonText() const
{
    return tr("Bypass for %n h", nullptr, m_hours->value());
}

void PoolRetryPanel::reload()
{
    const quint64 generation = ++m_generation;
    if (m_proxyId.isEmpty()) {
        showRetries({});
        showBypasses({}, 0);
        return;
    }
    m_pendingLists = 2;
    const auto answered = [this] {
        if (--m_pendingLists == 0)
            Q_EMIT loaded();
    };
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("poolretry.list"), {}, this,
                     [this, generation, answered](const ProxyConnection::Reply &r) {
                         if (generation != m_generation)
                             return;
                         if (r.ok)
                             showRetries(
                                 r.result.toObject().value(QStringLiteral("retries")).toArray());
                         else
                             showMessage(ProxyCalls::describe(r.error), true);
                         answered();
                     });
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("poolbypass.list"), {}, this,
                     [this, generation, answered](const ProxyConnection::Reply &r) {
                         if (generation != m_generation)
                             return;
                         if (r.ok) {
                             const QJsonObject o = r.result.toObject();
                             showBypasses(o.value(QStringLiteral("bypasses")).toArray(),
                                          o.value(QStringLiteral("time")).toInteger());
                         } else {
                             showMessage(ProxyCalls::describe(r.error), true);
                         }
                         answered();
                     });
}

void PoolRetryPanel::showRetries(const QJsonArray &retries)
{
    m_retries->setRowCount(0);
    for (const QJsonValue &v : retries) {
        if (m_retries->rowCount() == kMaxRows)
            break;
        const QJsonObject o = v.toObject();
        const QString domain = bounded(o.value(QStringLiteral("domain")));
        if (domain.isEmpty())
            continue;
        const int row = m_retries->rowCount();
        m_retries->insertRow(row);
        QStringList addresses;
        for (const QJsonValue &a : o.value(QStringLiteral("addresses")).toArray())
            addresses.append(bounded(a));
        auto *summary = new QTableWidgetItem(bounded(o.value(QStringLiteral("summary"))));
        summary->setToolTip(tr("Clients: %1").arg(addresses.join(QStringLiteral(", "))));
        m_retries->setItem(row, 0, new QTableWidgetItem(domain));
        m_retries->setItem(row, 1, summary);
        m_retries->setItem(row, 2,
                           new QTableWidgetItem(bounded(o.value(QStringLiteral("sender"))) +
                                                QStringLiteral(" \u2192 ") +
                                                bounded(o.value(QStringLiteral("recipient")))));
        m_retries->setItem(row, 3,
                           new QTableWidgetItem(QDateTime::fromSecsSinceEpoch(
                                                    o.value(QStringLiteral("lastSeen")).toInteger())
                                                    .toString(QStringLiteral("HH:mm:ss"))));
        auto *button = new QPushButton(buttonText(), m_retries);
        button->setObjectName(QStringLiteral("bypass"));
        button->setToolTip(tr("No greylisting for %1 from the ranges its SPF record authorises, "
                              "for the hours chosen above")
                               .arg(domain));
        connect(button, &QPushButton::clicked, this, [this, domain] { bypass(domain); });
        m_retries->setCellWidget(row, kActionColumn, button);
    }
}

void PoolRetryPanel::showBypasses(const QJsonArray &bypasses, qint64 serverTime)
{
    if (serverTime > 0)
        m_clockOffset = serverTime - QDateTime::currentSecsSinceEpoch();
    m_bypasses->setRowCount(0);
    for (const QJsonValue &v : bypasses) {
        if (m_bypasses->rowCount() == kMaxRows)
            break;
        const QJsonObject o = v.toObject();
        const qint64 id = o.value(QStringLiteral("id")).toInteger();
        if (id <= 0)
            continue;
        const int row = m_bypasses->rowCount();
        m_bypasses->insertRow(row);
        QStringList ranges;
        for (const QJsonValue &r : o.value(QStringLiteral("ranges")).toArray())
            ranges.append(bounded(r));
        const qint64 expiresAt = o.value(QStringLiteral("expiresAt")).toInteger();
        auto *rangeItem = new QTableWidgetItem(
            ranges.size() <= 4 ? ranges.join(QStringLiteral(", "))
                               : ranges.mid(0, 4).join(QStringLiteral(", ")) +
                                     tr(" and %n more", nullptr, int(ranges.size() - 4)));
        rangeItem->setToolTip(ranges.join(u'\n'));
        auto *left = new QTableWidgetItem;
        left->setData(Qt::UserRole, expiresAt);
        m_bypasses->setItem(row, 0,
                            new QTableWidgetItem(bounded(o.value(QStringLiteral("domain")))));
        m_bypasses->setItem(row, 1, rangeItem);
        m_bypasses->setItem(
            row, 2,
            new QTableWidgetItem(QDateTime::fromSecsSinceEpoch(expiresAt - m_clockOffset)
                                     .toString(QStringLiteral("yyyy-MM-dd HH:mm"))));
        m_bypasses->setItem(row, 3, left);
        auto *button = new QPushButton(tr("Remove"), m_bypasses);
        button->setObjectName(QStringLiteral("remove"));
        button->setToolTip(tr("End this bypass now: the domain is greylisted again"));
        connect(button, &QPushButton::clicked, this, [this, id] { remove(id); });
        m_bypasses->setCellWidget(row, kActionColumn, button);
    }
    tick();
}

void PoolRetryPanel::tick()
{
    const qint64 now = QDateTime::currentSecsSinceEpoch() + m_clockOffset;
    bool expired = false;
    for (int row = 0; row < m_bypasses->rowCount(); ++row) {
        QTableWidgetItem *left = m_bypasses->item(row, 3);
        if (!left)
            continue;
        const qint64 remaining = left->data(Qt::UserRole).toLongLong() - now;
        left->setText(leftText(remaining));
        expired = expired || remaining <= 0;
    }
    if (expired && !m_reloadTimer.isActive())
        m_reloadTimer.start(); // the proxy drops it: show what it has
}

void PoolRetryPanel::bypass(const QString &domain)
{
    const int hours = m_hours->value();
    ProxyCalls::call(
        m_registry, m_proxyId, QStringLiteral("poolbypass.add"),
        QJsonObject{{QStringLiteral("domain"), domain}, {QStringLiteral("hours"), hours}}, this,
        [this, domain, hours](const ProxyConnection::Reply &r) {
            if (!r.ok) {
                const QString text =
                    tr("Bypass for %1 refused: %2").arg(domain, ProxyCalls::describe(r.error));
                showMessage(text, true);
                Q_EMIT changeFailed(text);
                return;
            }
            const QJsonObject o = r.result.toObject();
            const qsizetype ranges = o.value(QStringLiteral("ranges")).toArray().size();
            QString text =
                tr("%1 is not greylisted for %n h from %2 ranges of its SPF record", nullptr, hours)
                    .arg(domain)
                    .arg(ranges);
            const qsizetype skipped = o.value(QStringLiteral("skipped")).toArray().size();
            if (skipped > 0)
                text += tr(" (%n term(s) could not be read as ranges)", nullptr, int(skipped));
            showMessage(text, false);
            Q_EMIT changeDone(text);
            reload();
        });
}

void PoolRetryPanel::remove(qint64 id)
{
    ProxyCalls::call(
        m_registry, m_proxyId, QStringLiteral("poolbypass.remove"),
        QJsonObject{{QStringLiteral("id"), id}}, this, [this](const ProxyConnection::Reply &r) {
            if (!r.ok) {
                const QString text = ProxyCalls::describe(r.error);
                showMessage(text, true);
                Q_EMIT changeFailed(text);
            } else {
                showMessage(tr("Bypass removed: the domain is greylisted again"), false);
                Q_EMIT changeDone(message());
            }
            reload();
        });
}

void PoolRetryPanel::showMessage(const QString &text, bool error)
{
    m_message->setText(
        error ? QStringLiteral("<span style=\"color:#b00020\">%1</span>").arg(text.toHtmlEscaped())
              : text.toHtmlEscaped());
}

} // namespace greygate
