// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Alert.h"
#include "AlertOptions.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <deque>
#include <map>

namespace greygate {

struct Event;

// Evaluates the alert rules (AlertOptions) over what the daemon records: attempts and
// "Sender Failed to Retry" entries are observed one by one (observe(), from the EventLog),
// the store's health is sampled, and evaluate() is called about once a second with the
// clock's time. No GUI, no timer of its own, no wall clock: a test drives it with a
// ManualClock's seconds. fired() is emitted for each alert (and its clearing); the latest
// kMaxKept are kept for alerts.list.
class AlertMonitor : public QObject
{
    Q_OBJECT

public:
    static constexpr qsizetype kMaxKept = 200;
    static constexpr int kMaxDomainsPerWindow = 5000;

    explicit AlertMonitor(const AlertOptions &options, QString proxyName = {},
                          QObject *parent = nullptr);

    void observe(const Event &event);
    // storeHealth: "ok"/"up" healthy; anything else (failing, down, connecting) trouble.
    void evaluate(Seconds now, const QString &storeHealth);

    const std::deque<Alert> &recent() const { return m_recent; }
    // The alerts active now (fired and not cleared), by kind and subject.
    QList<Alert> active() const;
    const AlertOptions &options() const { return m_options; }

Q_SIGNALS:
    void fired(const greygate::Alert &alert);

private:
    struct Active
    {
        Alert alert;
        Seconds lastSent = 0;
    };
    void raise(Seconds now, const QString &kind, const QString &subject, const QString &message,
               double value, double baseline);
    void clear(Seconds now, const QString &kind, const QString &subject);
    void emitAlert(Alert alert);
    void checkDeferrals(Seconds now);
    void checkFailed(Seconds now);
    void checkStore(Seconds now, const QString &health);
    static QString key(const QString &kind, const QString &subject);

    AlertOptions m_options;
    QString m_proxy;
    // Deferrals per minute (minute number -> count), the last window + baseline of them.
    std::map<qint64, quint64> m_deferred;
    // "Sender Failed to Retry" entries per window (window number) and sender domain.
    std::map<qint64, QHash<QByteArray, quint32>> m_failed;
    Seconds m_storeTroubleSince = -1;
    QHash<QString, Active> m_active;
    std::deque<Alert> m_recent;
    quint64 m_nextId = 1;
    qint64 m_startMinute = -1;  // the first evaluate(): no history before it
    qint64 m_judgedWindow = -1; // the last failed-to-retry window judged
};

} // namespace greygate
