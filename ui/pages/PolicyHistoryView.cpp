// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyHistoryView.h"

#include "dialogs/Confirmation.h"
#include "models/PolicyTableModel.h"
#include "models/PolicyVersionModel.h"
#include "models/ProxyCalls.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMap>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace greygate {

namespace {

QString policyLine(const QJsonObject &p)
{
    return PolicyHistoryView::tr("policy %1 \"%2\": %3 from %4 to %5%6")
        .arg(p.value(QStringLiteral("id")).toInteger())
        .arg(p.value(QStringLiteral("narrative")).toString(),
             p.value(QStringLiteral("action")).toString(),
             PolicyTableModel::describeSpecifier(p.value(QStringLiteral("from")).toObject()),
             PolicyTableModel::describeSpecifier(p.value(QStringLiteral("to")).toObject()),
             p.value(QStringLiteral("mode")).toString() == u"shadow"
                 ? PolicyHistoryView::tr(" (shadow)")
                 : QString());
}

QString valueText(const QJsonValue &v)
{
    if (v.isObject())
        return PolicyTableModel::describeSpecifier(v.toObject());
    if (v.isArray()) {
        QStringList parts;
        for (const QJsonValue &x : v.toArray())
            parts.append(x.toString());
        return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
    }
    if (v.isBool())
        return v.toBool() ? QStringLiteral("yes") : QStringLiteral("no");
    if (v.isUndefined() || v.isNull())
        return QStringLiteral("(none)");
    return v.isString() ? v.toString() : QString::number(v.toInteger());
}

QMap<qint64, QJsonObject> byId(const QJsonArray &policies)
{
    QMap<qint64, QJsonObject> out;
    for (const QJsonValue &v : policies) {
        QJsonObject o = v.toObject();
        for (const QString &key :
             {QStringLiteral("version"), QStringLiteral("updatedAt"), QStringLiteral("updatedBy")})
            o.remove(key);
        out.insert(o.value(QStringLiteral("id")).toInteger(), o);
    }
    return out;
}

} // namespace

PolicyHistoryView::PolicyHistoryView(ProxyRegistry &registry, QWidget *parent)
    : QWidget(parent)
    , m_registry(registry)
    , m_model(new PolicyVersionModel(this))
    , m_table(new QTableView(this))
    , m_diff(new QPlainTextEdit(this))
    , m_compare(new QPlainTextEdit(this))
    , m_message(new QLabel(this))
    , m_rollback(new QPushButton(tr("Roll back to this version..."), this))
{
    m_table->setObjectName(QStringLiteral("versions"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_diff->setObjectName(QStringLiteral("diff"));
    m_diff->setReadOnly(true);
    m_diff->setPlaceholderText(tr("Select a version to see how the table differs from it now."));
    m_compare->setObjectName(QStringLiteral("compare"));
    m_compare->setReadOnly(true);
    m_compare->setMaximumHeight(110);
    m_compare->setPlaceholderText(tr("Compare with the other proxies to see where their "
                                     "policy tables differ."));
    m_message->setObjectName(QStringLiteral("message"));
    m_message->setWordWrap(true);
    m_rollback->setObjectName(QStringLiteral("rollback"));
    m_rollback->setEnabled(false);
    auto *reload = new QPushButton(tr("Reload"), this);
    auto *compare = new QPushButton(tr("Compare proxies"), this);
    compare->setObjectName(QStringLiteral("compareProxies"));
    connect(reload, &QPushButton::clicked, this, &PolicyHistoryView::reload);
    connect(compare, &QPushButton::clicked, this, &PolicyHistoryView::compareProxies);
    connect(m_rollback, &QPushButton::clicked, this, &PolicyHistoryView::rollbackSelected);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) { selectVersion(current.row()); });

    auto *bar = new QHBoxLayout;
    bar->addWidget(reload);
    bar->addWidget(compare);
    bar->addStretch(1);
    bar->addWidget(m_rollback);
    auto *split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_table);
    split->addWidget(m_diff);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_message);
    layout->addWidget(split, 1);
    layout->addWidget(new QLabel(tr("Other proxies"), this));
    layout->addWidget(m_compare);
}

QString PolicyHistoryView::diffText() const
{
    return m_diff->toPlainText();
}

QString PolicyHistoryView::comparisonText() const
{
    return m_compare->toPlainText();
}

void PolicyHistoryView::setProxyId(const QString &proxyId)
{
    m_proxyId = proxyId;
    m_model->setVersions({});
    m_diff->clear();
    m_compare->clear();
    reload();
}

void PolicyHistoryView::showMessage(const QString &text, bool error)
{
    m_message->setStyleSheet(error ? QStringLiteral("color: #b00020;") : QString());
    m_message->setText(text);
}

void PolicyHistoryView::done()
{
    m_pending = std::max(0, m_pending - 1);
}

void PolicyHistoryView::reload()
{
    if (m_proxyId.isEmpty())
        return;
    ++m_pending;
    ProxyCalls::call(
        m_registry, m_proxyId, QStringLiteral("policy.versions"),
        QJsonObject{{QStringLiteral("limit"), 500}}, this,
        [this](const ProxyConnection::Reply &reply) {
            done();
            if (!reply.ok) {
                showMessage(
                    tr("Cannot read the history: %1").arg(ProxyCalls::describe(reply.error)), true);
                return;
            }
            const QJsonObject o = reply.result.toObject();
            m_model->setVersions(o.value(QStringLiteral("versions")).toArray());
            showMessage(tr("%n version(s) of the policy table; the audit retention "
                           "bounds how far back they go.",
                           nullptr, int(o.value(QStringLiteral("total")).toInteger())),
                        false);
            m_selected = -1;
            m_rollback->setEnabled(false);
            Q_EMIT loaded();
        });
}

QString PolicyHistoryView::describeDiff(const QJsonObject &diff)
{
    QStringList lines;
    for (const QJsonValue &p : diff.value(QStringLiteral("added")).toArray())
        lines.append(QStringLiteral("+ ") + tr("added since: ") + policyLine(p.toObject()));
    for (const QJsonValue &p : diff.value(QStringLiteral("removed")).toArray())
        lines.append(QStringLiteral("- ") + tr("deleted since: ") + policyLine(p.toObject()));
    for (const QJsonValue &c : diff.value(QStringLiteral("changed")).toArray()) {
        const QJsonObject o = c.toObject();
        const QJsonObject before = o.value(QStringLiteral("before")).toObject();
        const QJsonObject after = o.value(QStringLiteral("after")).toObject();
        lines.append(QStringLiteral("~ ") +
                     tr("changed since: policy %1 \"%2\"")
                         .arg(o.value(QStringLiteral("id")).toInteger())
                         .arg(after.value(QStringLiteral("narrative")).toString()));
        for (const QJsonValue &f : o.value(QStringLiteral("fields")).toArray()) {
            const QString field = f.toString();
            lines.append(
                QStringLiteral("    %1: %2 -> %3")
                    .arg(field, valueText(before.value(field)), valueText(after.value(field))));
        }
    }
    return lines.isEmpty() ? tr("The table is as it was at this version.") : lines.join(u'\n');
}

void PolicyHistoryView::selectVersion(int row)
{
    m_selected = m_model->versionAt(row);
    m_rollback->setEnabled(m_selected > 0);
    if (m_selected <= 0)
        return;
    ++m_pending;
    const qint64 version = m_selected;
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("policy.version.diff"),
                     QJsonObject{{QStringLiteral("from"), version}}, this,
                     [this, version](const ProxyConnection::Reply &reply) {
                         done();
                         if (version != m_selected)
                             return;
                         m_diff->setPlainText(
                             reply.ok
                                 ? tr("From version %1 to the table now:\n\n").arg(version) +
                                       describeDiff(reply.result.toObject())
                                 : tr("Cannot compare: %1").arg(ProxyCalls::describe(reply.error)));
                         Q_EMIT diffShown();
                     });
}

void PolicyHistoryView::rollbackSelected()
{
    const qint64 version = m_selected;
    if (version <= 0)
        return;
    if (!Confirmation::ask(this, tr("Roll back"), tr("policy table"), tr("policy tables"),
                           {tr("version %1").arg(version)},
                           tr("The policies become exactly what they were at that version; "
                              "the rollback is itself a new version, so it can be undone.")))
        return;
    ++m_pending;
    ProxyCalls::call(m_registry, m_proxyId, QStringLiteral("policy.rollback"),
                     QJsonObject{{QStringLiteral("version"), version}}, this,
                     [this, version](const ProxyConnection::Reply &reply) {
                         done();
                         if (!reply.ok) {
                             showMessage(
                                 tr("Rollback refused: %1").arg(ProxyCalls::describe(reply.error)),
                                 true);
                             return;
                         }
                         reload();
                         showMessage(tr("Rolled back to version %1 (%2 policies changed).")
                                         .arg(version)
                                         .arg(reply.result[QStringLiteral("changes")].toInteger()),
                                     false);
                         Q_EMIT rolledBack(version);
                     });
}

QString PolicyHistoryView::compareTables(const QJsonArray &ours, const QJsonArray &theirs)
{
    const QMap<qint64, QJsonObject> a = byId(ours);
    const QMap<qint64, QJsonObject> b = byId(theirs);
    QStringList onlyHere, onlyThere, changed;
    for (auto it = a.cbegin(); it != a.cend(); ++it) {
        if (!b.contains(it.key()))
            onlyHere.append(QString::number(it.key()));
        else if (b.value(it.key()) != *it)
            changed.append(QString::number(it.key()));
    }
    for (auto it = b.cbegin(); it != b.cend(); ++it) {
        if (!a.contains(it.key()))
            onlyThere.append(QString::number(it.key()));
    }
    QStringList parts;
    if (!onlyHere.isEmpty())
        parts.append(tr("only here: %1").arg(onlyHere.join(QStringLiteral(", "))));
    if (!onlyThere.isEmpty())
        parts.append(tr("only there: %1").arg(onlyThere.join(QStringLiteral(", "))));
    if (!changed.isEmpty())
        parts.append(tr("different: %1").arg(changed.join(QStringLiteral(", "))));
    return parts.join(QStringLiteral("; "));
}

void PolicyHistoryView::compareProxies()
{
    const QStringList others = [this] {
        QStringList ids;
        for (const QString &id : m_registry.ids()) {
            const ProxyConnection *c = m_registry.connection(id);
            if (id != m_proxyId && c && c->state() == ProxyConnection::State::Connected)
                ids.append(id);
        }
        return ids;
    }();
    if (others.isEmpty()) {
        m_compare->setPlainText(tr("No other proxy is connected: add one on the Proxies page."));
        Q_EMIT compared();
        return;
    }
    m_compare->setPlainText(tr("Comparing..."));
    ++m_pending;
    ProxyCalls::call(
        m_registry, m_proxyId, QStringLiteral("policy.list"), {}, this,
        [this, others](const ProxyConnection::Reply &mine) {
            done();
            if (!mine.ok) {
                m_compare->setPlainText(tr("Cannot read this proxy's policies: %1")
                                            .arg(ProxyCalls::describe(mine.error)));
                Q_EMIT compared();
                return;
            }
            const QJsonArray ours = mine.result[QStringLiteral("policies")].toArray();
            auto lines = std::make_shared<QMap<QString, QString>>();
            auto left = std::make_shared<int>(int(others.size()));
            for (const QString &id : others) {
                ++m_pending;
                const ProxyEndpoint *e = m_registry.endpoint(id);
                const QString name = e && !e->name.isEmpty() ? e->name : id;
                ProxyCalls::call(
                    m_registry, id, QStringLiteral("policy.list"), {}, this,
                    [this, ours, name, lines, left](const ProxyConnection::Reply &r) {
                        done();
                        const QString d =
                            r.ok ? compareTables(ours,
                                                 r.result[QStringLiteral("policies")].toArray())
                                 : tr("cannot read: %1").arg(ProxyCalls::describe(r.error));
                        lines->insert(name, d.isEmpty() ? tr("the same policies") : d);
                        if (--*left > 0)
                            return;
                        QStringList text;
                        for (auto it = lines->cbegin(); it != lines->cend(); ++it)
                            text.append(it.key() + QStringLiteral(": ") + it.value());
                        m_compare->setPlainText(text.join(u'\n'));
                        Q_EMIT compared();
                    });
            }
        });
}

} // namespace greygate
