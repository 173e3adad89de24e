// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "KeyedTableModel.h"
#include "client/ProxyRegistry.h"

#include <QJsonObject>
#include <QTimer>

namespace greygate {

struct PolicyRow
{
    QJsonObject policy; // as policy.list gives it (docs/policies.md, "JSON documents")
    int order = 0;      // 1-based place in the proxy's precedence order ("effective order")
    QString key() const { return QString::number(id()); }
    qint64 id() const { return policy.value(QStringLiteral("id")).toInteger(); }
    bool operator==(const PolicyRow &) const = default;
};

// One proxy's policies from `policy.list`, with the effective order (the precedence list's
// place) as a column. Reloaded, without a reset, on the proxy's policy events and after a
// reconnect. Edits go out with the version they were made from: a stale one is not retried
// but reported through conflict() with the proxy's message, and the table reloads so that the
// admin sees what changed.
class PolicyTableModel : public KeyedTableModel<PolicyRow>
{
    Q_OBJECT

public:
    enum Column
    {
        Order,
        Id,
        Narrative,
        Action,
        From,
        To,
        Enabled,
        Validity,
        Override,
        Bidirectional,
        SourceRanges,
        Version,
        UpdatedAt,
        UpdatedBy,
        Mode,    // "Enforce" / "Shadow (log only)"
        WouldBe, // a shadow policy's would-be effect over the last hour, live
        ColumnCount
    };
    enum Role
    {
        IdRole = Qt::UserRole + 1,
        VersionRole,
    };

    explicit PolicyTableModel(ProxyRegistry &registry, QObject *parent = nullptr);

    void setProxyId(const QString &proxyId);
    QString proxyId() const { return m_proxyId; }
    void reload();
    qint64 revision() const { return m_revision; }
    QString lastError() const { return m_lastError; }

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    // The policy of a row as JSON, for the edit dialog (empty when out of range).
    QJsonObject policyJson(int row) const;
    int rowOfId(qint64 id) const { return rowOf(QString::number(id)); }

    // policy.update with the policy's own "version" (the one it was read at).
    void update(const QJsonObject &policy);
    void create(const QJsonObject &policy); // without id: the proxy gives the next one
    void remove(qint64 id, qint64 version);

    static QString describeSpecifier(const QJsonObject &specifier);

    // A shadow policy's would-be effects: over the last hour as policy.list counted them,
    // plus the attempts seen live since (the events' "shadow").
    struct ShadowCounts
    {
        qint64 greylist = 0;
        qint64 bypass = 0;
    };
    ShadowCounts shadowCounts(qint64 id) const { return m_shadow.value(id); }

Q_SIGNALS:
    void loaded();
    void loadFailed(const QString &message);
    // action: "create", "update", "delete"; id: the policy's id (the new one for create)
    void changeDone(const QString &action, qint64 id, qint64 version);
    void changeFailed(const QString &action, qint64 id, const QString &message);
    // Someone changed the policy since it was read: the proxy's message, nothing applied.
    void conflict(qint64 id, const QString &message);

private:
    void send(const QString &action, const QJsonObject &params, qint64 id);
    void reloadSoon();
    void countShadow(const QJsonObject &event);

    ProxyRegistry &m_registry;
    QString m_proxyId;
    qint64 m_revision = -1;
    QString m_lastError;
    quint64 m_generation = 0;
    QTimer m_reloadTimer;
    QHash<qint64, ShadowCounts> m_shadow;
};

} // namespace greygate
