// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "AlertMonitor.h"
#include "AlertWebhook.h"
#include "PassTable.h"
#include "TriageFacts.h"
#include "events/DelayStats.h"

#include <QObject>
#include <QTimer>
#include <functional>
#include <optional>

namespace greygate {

class Clock;
class EventLog;
class GreylistPolicyHandler;

// Issue 11's work beside the decisions, once a second on the daemon's thread: follows the
// event log with a cursor (nothing added to the decision path) and feeds each accepted
// message's delay (Event::delayed, from the engine or the Redis store) into the DelayStats,
// each attempt and failure to retry into the AlertMonitor and the triage's facts
// (TriageFacts: client names, SPF results, looked up asynchronously); evaluates the alerts (pushed
// as "alert" events and to the webhook); and deletes timed releases whose end has come
// (TimedRelease::expire, audited).
class DaemonWatch : public QObject
{
    Q_OBJECT

public:
    DaemonWatch(EventLog &events, GreylistPolicyHandler &handler, const Clock &clock,
                const AlertOptions &options, QString proxyName, QObject *parent = nullptr);

    void setStoreHealth(std::function<QString()> health) { m_health = std::move(health); }
    void start(int intervalMs = 1000);

    // One turn: what the timer does (tests call it after advancing a ManualClock).
    void tick();

    const DelayStats &delays() const { return m_delays; }
    DelayStats &delays() { return m_delays; }
    AlertMonitor &alerts() { return m_monitor; }
    const EventLog &events() const { return m_events; }
    TriageFacts &triage() { return m_triage; }
    const TriageFacts &triage() const { return m_triage; }
    const AlertWebhook &webhook() const { return m_webhook; }

    // The last time a sender's mail was accepted by greylisting, and from which client: the
    // triage's "retried from another network". Bounded to kMaxSenders senders (a few more:
    // PassTable's slots), a new sender taking the place of an older one; lower-cased.
    using Pass = PassTable::Pass;
    static constexpr qsizetype kMaxSenders = 200'000;
    std::optional<Pass> lastPass(const QByteArray &sender) const;

    // DBDIR/stats-delay.bin, saved with the statistics.
    static QString delayPath(const QString &dbdir);
    bool saveDelays(const QString &path, QString *error) const;
    bool restoreDelays(const QString &path, QString *error);

private:
    void expireReleases();
    void pushAlert(const Alert &alert);

    EventLog &m_events;
    GreylistPolicyHandler &m_handler;
    const Clock &m_clock;
    AlertMonitor m_monitor;
    AlertWebhook m_webhook;
    DelayStats m_delays;
    TriageFacts m_triage;
    PassTable m_passes{kMaxSenders};
    std::function<QString()> m_health;
    QTimer m_timer;
    quint64 m_cursor = 0;
    Seconds m_lastExpiry = 0;
    quint64 m_seenRevision = ~quint64(0); // the policy revision the releases were read at
    Seconds m_nextEnd = -1;               // the soonest release end then (-1: none)
};

} // namespace greygate
