// SPDX-License-Identifier: GPL-3.0-or-later
#include "SenderRewriteModel.h"

#include "ProxyCalls.h"
#include "ProxyFollow.h"

#include <algorithm>

namespace greygate {

namespace {

constexpr qsizetype kMaxRules = 32; // the proxy refuses more; the console does not offer them

QString kindText(const QString &kind)
{
    if (kind == u"srs")
        return SenderRewriteModel::tr("SRS");
    if (kind == u"batv")
        return SenderRewriteModel::tr("BATV");
    if (kind == u"plusTag")
        return SenderRewriteModel::tr("+tag");
    if (kind == u"verp")
        return SenderRewriteModel::tr("VERP numbers");
    if (kind == u"regex")
        return SenderRewriteModel::tr("Pattern");
    return kind;
}

QStringList strings(const QJsonValue &value)
{
    QStringList out;
    for (const QJsonValue &v : value.toArray())
        out.append(ProxyFollow::bounded(v));
    return out;
}

} // namespace

SenderRewriteModel::SenderRewriteModel(ProxyRegistry &registry, QObject *parent)
    : QAbstractTableModel(parent)
    , m_registry(registry)
{
    m_retest.setSingleShot(true);
    m_retest.setInterval(kTestDelayMs);
    connect(&m_retest, &QTimer::timeout, this, &SenderRewriteModel::test);
    m_reload.setSingleShot(true);
    m_reload.setInterval(100);
    connect(&m_reload, &QTimer::timeout, this, &SenderRewriteModel::reload);
    ProxyFollow::keepCurrent(m_registry, this, m_reload, [](const QJsonObject &e) {
        return e.value(u"type").toString() == u"policy" &&
               e.value(u"subject").toString() == u"rewriting";
    });
}

void SenderRewriteModel::setProxyId(const QString &proxyId)
{
    if (proxyId == m_proxyId)
        return;
    m_proxyId = proxyId;
    ProxyCalls::followEvents(m_registry.connection(proxyId)); // another admin's saves
    m_version = -1;
    m_saved = QJsonArray();
    setRules(QJsonArray());
    setMessage(QString());
    reload();
}

void SenderRewriteModel::reload()
{
    if (m_proxyId.isEmpty())
        return;
    ProxyCalls::call(
        m_registry, m_proxyId, QStringLiteral("rewriting.list"), {}, this,
        [this, proxyId = m_proxyId](const ProxyConnection::Reply &r) {
            if (proxyId != m_proxyId)
                return;
            if (!r.ok)
                return setMessage(
                    tr("Cannot read the rules: %1").arg(ProxyCalls::describe(r.error)));
            const QJsonObject o = r.result.toObject();
            const qint64 version = o.value(u"version").toInteger(-1);
            m_active = o.value(u"active").toBool(true);
            if (loaded() && isDirty() && version != m_version) {
                // Not thrown away under the admin's hands: Save will be refused, Revert loads.
                setMessage(tr("Another admin saved version %1 while you were editing: Revert "
                              "to load it, then apply your edits again.")
                               .arg(version));
                return;
            }
            m_version = version;
            m_saved = o.value(u"rules").toArray();
            setRules(m_saved);
            Q_EMIT stateChanged();
        });
}

void SenderRewriteModel::setSamples(const QStringList &samples)
{
    QStringList kept;
    for (const QString &s : samples) {
        const QString t = s.trimmed();
        if (!t.isEmpty() && kept.size() < kMaxSamples)
            kept.append(t.left(512));
    }
    if (kept == m_samples)
        return;
    m_samples = kept;
    m_retest.start();
    Q_EMIT stateChanged();
}

bool SenderRewriteModel::isDirty() const
{
    return loaded() && rules() != m_saved;
}

bool SenderRewriteModel::canSave() const
{
    return isDirty() && m_problem.isEmpty() && !isTesting() && !m_saving;
}

QJsonArray SenderRewriteModel::rules() const
{
    QJsonArray out;
    for (const QJsonObject &r : m_rules)
        out.append(r);
    return out;
}

int SenderRewriteModel::addRule(const QString &kind)
{
    if (m_rules.size() >= kMaxRules) {
        setMessage(tr("A table holds at most %1 rules.").arg(kMaxRules));
        return -1;
    }
    QString id;
    for (int n = 1; id.isEmpty(); ++n) {
        const QString candidate =
            kind.toLower() + (n == 1 && kind != u"regex" ? QString() : u'-' + QString::number(n));
        if (std::none_of(m_rules.begin(), m_rules.end(), [&](const QJsonObject &r) {
                return r.value(u"id").toString() == candidate;
            }))
            id = candidate;
    }
    QJsonObject rule{{QStringLiteral("id"), id},
                     {QStringLiteral("kind"), kind},
                     {QStringLiteral("description"), QString()},
                     {QStringLiteral("enabled"), true}};
    if (kind == u"plusTag")
        rule.insert(QStringLiteral("separators"), QStringLiteral("+"));
    if (kind == u"regex") {
        rule.insert(QStringLiteral("pattern"), QString());
        rule.insert(QStringLiteral("replacement"), QString());
        rule.insert(QStringLiteral("scope"), QStringLiteral("local"));
    }
    const int row = int(m_rules.size());
    beginInsertRows({}, row, row);
    m_rules.append(rule);
    endInsertRows();
    edited();
    return row;
}

void SenderRewriteModel::removeRule(int row)
{
    if (row < 0 || row >= m_rules.size())
        return;
    beginRemoveRows({}, row, row);
    m_rules.removeAt(row);
    endRemoveRows();
    edited();
}

void SenderRewriteModel::moveRule(int row, int delta)
{
    const int to = row + delta;
    if (row < 0 || row >= m_rules.size() || to < 0 || to >= m_rules.size() || delta == 0)
        return;
    // beginMoveRows' destination is the row the moved one goes before, in the old numbering.
    beginMoveRows({}, row, row, {}, delta > 0 ? to + 1 : to);
    m_rules.move(row, to);
    endMoveRows();
    edited();
}

void SenderRewriteModel::revert()
{
    m_version = -1;
    setMessage(QString());
    reload();
}

void SenderRewriteModel::save()
{
    if (!canSave())
        return;
    m_saving = true;
    Q_EMIT stateChanged();
    const QJsonObject params{{QStringLiteral("version"), m_version},
                             {QStringLiteral("rules"), rules()}};
    ProxyCalls::call(
        m_registry, m_proxyId, QStringLiteral("rewriting.set"), params, this,
        [this, sent = rules(), proxyId = m_proxyId](const ProxyConnection::Reply &r) {
            m_saving = false;
            if (proxyId != m_proxyId)
                return;
            if (!r.ok) {
                setMessage(r.error.code == protocol::ErrorCode::StaleVersion
                               ? tr("Not saved: another admin changed the rules meanwhile. "
                                    "Revert to load their version, then apply your edits again.")
                               : tr("Not saved: %1").arg(ProxyCalls::describe(r.error)));
                return;
            }
            m_version = r.result.toObject().value(u"version").toInteger();
            m_saved = sent;
            setMessage(
                tr("Saved as version %1: decisions from now on use these rules.").arg(m_version));
        });
}

void SenderRewriteModel::setRules(const QJsonArray &rules)
{
    beginResetModel(); // a whole new table (load, revert): not a live update
    m_rules.clear();
    for (qsizetype i = 0; i < std::min(rules.size(), kMaxRules); ++i)
        m_rules.append(rules[i].toObject());
    endResetModel();
    m_problem.clear();
    m_retest.start();
}

void SenderRewriteModel::edited()
{
    m_retest.start();
    Q_EMIT stateChanged();
}

void SenderRewriteModel::test()
{
    if (m_proxyId.isEmpty() || !loaded())
        return;
    const quint64 serial = ++m_testSerial;
    m_pendingTest = serial;
    const QJsonObject params{{QStringLiteral("addresses"), QJsonArray::fromStringList(m_samples)},
                             {QStringLiteral("rules"), rules()}};
    ProxyCalls::call(
        m_registry, m_proxyId, QStringLiteral("rewriting.test"), params, this,
        [this, serial](const ProxyConnection::Reply &r) {
            if (serial != m_pendingTest)
                return; // an older table's answer
            m_pendingTest = 0;
            if (!r.ok && r.error.code == protocol::ErrorCode::BadRequest) {
                m_problem = ProxyCalls::describe(r.error);
            } else if (!r.ok) {
                m_problem.clear();
                setMessage(tr("Cannot test the rules: %1").arg(ProxyCalls::describe(r.error)));
            } else {
                m_problem.clear();
                m_results.clear();
                for (const QJsonValue &v : r.result.toObject().value(u"results").toArray()) {
                    const QJsonObject o = v.toObject();
                    m_results.append({ProxyFollow::bounded(o.value(u"address")),
                                      ProxyFollow::bounded(o.value(u"normalised")),
                                      strings(o.value(u"applied")), strings(o.value(u"skipped"))});
                }
                Q_EMIT resultsChanged();
            }
            Q_EMIT stateChanged();
        });
    Q_EMIT stateChanged();
}

void SenderRewriteModel::setMessage(const QString &message)
{
    m_message = message;
    Q_EMIT stateChanged();
}

QString SenderRewriteModel::fieldOf(int column)
{
    switch (column) {
    case Id:
        return QStringLiteral("id");
    case Replacement:
        return QStringLiteral("replacement");
    case Scope:
        return QStringLiteral("scope");
    case Description:
        return QStringLiteral("description");
    default:
        return QString();
    }
}

int SenderRewriteModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rules.size());
}

int SenderRewriteModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant SenderRewriteModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rules.size())
        return {};
    const QJsonObject &r = m_rules[index.row()];
    const QString kind = r.value(u"kind").toString();
    if (role == Qt::CheckStateRole && index.column() == Enabled)
        return r.value(u"enabled").toBool(true) ? Qt::Checked : Qt::Unchecked;
    if (role == Qt::ToolTipRole && index.column() == Kind)
        return r.value(u"description").toString();
    if (role != Qt::DisplayRole && role != Qt::EditRole)
        return {};
    switch (index.column()) {
    case Id:
        return r.value(u"id").toString();
    case Kind:
        return role == Qt::EditRole ? kind : kindText(kind);
    case Pattern:
        return kind == u"plusTag" ? r.value(u"separators").toString()
                                  : r.value(u"pattern").toString();
    case Replacement:
        return r.value(u"replacement").toString();
    case Scope:
        return kind == u"regex" ? r.value(u"scope").toString(QStringLiteral("local")) : QString();
    case Description:
        return r.value(u"description").toString();
    default:
        return {};
    }
}

bool SenderRewriteModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (!index.isValid() || index.row() >= m_rules.size() || !(flags(index) & Qt::ItemIsEnabled))
        return false;
    QJsonObject &r = m_rules[index.row()];
    if (role == Qt::CheckStateRole && index.column() == Enabled) {
        r.insert(QStringLiteral("enabled"), value.toInt() == Qt::Checked);
    } else if (role == Qt::EditRole && (flags(index) & Qt::ItemIsEditable)) {
        const QString text = value.toString();
        if (index.column() == Pattern)
            r.insert(r.value(u"kind").toString() == u"plusTag" ? QStringLiteral("separators")
                                                               : QStringLiteral("pattern"),
                     text);
        else
            r.insert(fieldOf(index.column()), text);
    } else {
        return false;
    }
    Q_EMIT dataChanged(index, index, {role, Qt::DisplayRole});
    edited();
    return true;
}

Qt::ItemFlags SenderRewriteModel::flags(const QModelIndex &index) const
{
    if (!index.isValid() || index.row() >= m_rules.size())
        return Qt::NoItemFlags;
    const QString kind = m_rules[index.row()].value(u"kind").toString();
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    switch (index.column()) {
    case Enabled:
        return f | Qt::ItemIsUserCheckable;
    case Id:
    case Description:
        return f | Qt::ItemIsEditable;
    case Pattern:
        return kind == u"regex" || kind == u"plusTag" ? f | Qt::ItemIsEditable : f;
    case Replacement:
    case Scope:
        return kind == u"regex" ? f | Qt::ItemIsEditable : f;
    default:
        return f;
    }
}

QVariant SenderRewriteModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole)
        return {};
    if (orientation == Qt::Vertical)
        return section + 1; // the order rules apply in
    switch (section) {
    case Enabled:
        return tr("On");
    case Id:
        return tr("Rule");
    case Kind:
        return tr("Kind");
    case Pattern:
        return tr("Pattern / separators");
    case Replacement:
        return tr("Replacement");
    case Scope:
        return tr("Applies to");
    case Description:
        return tr("Description");
    default:
        return {};
    }
}

} // namespace greygate
