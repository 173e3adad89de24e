// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "KeyedTableModel.h"

#include <QTimer>

namespace greygate {

class ProxyRegistry;

struct ReleaseAuditRow
{
    qint64 time = 0;
    QString who;
    QString what;     // release.create, release.revoke, release.expire
    QString objectId; // policy:12
    QString kind;
    QString subject; // what the release let through, from its policy
    QString reason;
    QString until; // ISO 8601, as the audit keeps it
    // The audit gives no revision: a policy id freed by a revoke may be taken by the next
    // release within the same second, so until and reason tell such entries apart.
    QString key() const
    {
        return QString::number(time) + u'\n' + what + u'\n' + objectId + u'\n' + until + u'\n' +
               reason;
    }
    bool operator==(const ReleaseAuditRow &) const = default;
};

// The audit log of timed releases (`release.audit`) of one proxy over the last `days` days,
// newest first: who created, revoked or let expire which release, when, why and until when.
// Re-read when the proxy reports a policy change; new entries come in without a reset.
class ReleaseAuditModel : public KeyedTableModel<ReleaseAuditRow>
{
    Q_OBJECT

public:
    enum Column
    {
        Time,
        Action,
        Who,
        Kind,
        Subject,
        Reason,
        Until,
        ColumnCount
    };
    static constexpr int kLimit = 1000; // the proxy's bound

    explicit ReleaseAuditModel(ProxyRegistry &registry, QObject *parent = nullptr);

    void setProxyId(const QString &proxyId);
    QString proxyId() const { return m_proxyId; }
    void setDays(int days); // 1..90, default 30
    void reload();
    QString lastError() const { return m_lastError; }

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    static QString actionLabel(const QString &what);

Q_SIGNALS:
    void loaded();
    void loadFailed(const QString &message);

private:
    ProxyRegistry &m_registry;
    QString m_proxyId;
    int m_days = 30;
    QTimer m_reloadTimer;
    quint64 m_generation = 0;
    QString m_lastError;
};

} // namespace greygate
