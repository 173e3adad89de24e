// SPDX-License-Identifier: GPL-3.0-or-later
#include "DaemonWatch.h"

#include "events/EventLog.h"
#include "greylist/ControlBytes.h"
#include "policy/PolicySet.h"
#include "policy/TimedRelease.h"
#include "policyd/GreylistPolicyHandler.h"

#include <QDir>
#include <QFile>
#include <QSaveFile>
#include <array>

namespace greygate {

namespace {
constexpr qsizetype kMaxEventsPerTick = 200'000;
}

DaemonWatch::DaemonWatch(EventLog &events, GreylistPolicyHandler &handler, const Clock &clock,
                         const AlertOptions &options, QString proxyName, QObject *parent)
    : QObject(parent)
    , m_events(events)
    , m_handler(handler)
    , m_clock(clock)
    , m_monitor(options, std::move(proxyName))
    , m_webhook(options)
    , m_cursor(events.lastId())
{
    connect(&m_monitor, &AlertMonitor::fired, this, &DaemonWatch::pushAlert);
    connect(&m_timer, &QTimer::timeout, this, &DaemonWatch::tick);
}

void DaemonWatch::start(int intervalMs)
{
    m_cursor = m_events.lastId();
    m_timer.start(intervalMs);
}

namespace {

// Senders are mostly lower-case already: no copy for them (toLower() on a const array
// always allocates).
QByteArray lowered(const QByteArray &sender)
{
    return containsAsciiUpper(sender) ? sender.toLower() : sender;
}

// An accepted message whose sender's last pass the triage wants (lastPass).
bool countsAsPass(const Event &e)
{
    return e.type == EventType::Attempt &&
           (e.outcome == AttemptOutcome::Passed || e.outcome == AttemptOutcome::PassedKnown ||
            e.outcome == AttemptOutcome::Whitelisted) &&
           !e.sender.isEmpty();
}

} // namespace

void DaemonWatch::tick()
{
    std::vector<const Event *> batch;
    if (!m_events.since(m_cursor, kMaxEventsPerTick, &batch)) {
        // Fell out of the ring (a burst beyond its size in one second): skip to now; the
        // figures miss that burst, they do not count anything twice.
        m_cursor = m_events.lastId();
    }
    // A second's passes go into a table far larger than the caches: each one's bucket is
    // asked for kAhead events before its insert, so the misses overlap instead of queueing.
    constexpr size_t kAhead = 8;
    std::array<quint64, kAhead> passHashes{};
    const auto askForPass = [this](const Event &e) -> quint64 {
        return countsAsPass(e) ? m_passes.prefetch(lowered(e.sender)) : 0;
    };
    for (size_t i = 0; i < std::min(kAhead, batch.size()); ++i)
        passHashes[i] = askForPass(*batch[i]);
    for (size_t i = 0; i < batch.size(); ++i) {
        const Event *e = batch[i];
        const quint64 passHash = passHashes[i % kAhead];
        if (i + kAhead < batch.size())
            passHashes[i % kAhead] = askForPass(*batch[i + kAhead]);
        m_cursor = e->id;
        if (e->type == EventType::Attempt && e->outcome == AttemptOutcome::Passed) {
            const qint64 policy =
                e->decidedBy == DecidedBy::Policy ? e->ref : DelayStats::kNoPolicy;
            m_delays.count(e->time, e->sender, policy, std::max<Seconds>(e->delayed, 0));
        }
        if (e->type == EventType::Attempt)
            m_triage.noteAttempt(*e);
        else if (e->type == EventType::FailedToRetry) {
            // The event has the triplet's client network; the lookups need its address.
            if (const std::optional<QByteArray> address =
                    m_triage.addressOf(e->client, e->sender, e->recipient))
                m_triage.request(*address, e->sender);
        }
        if (passHash != 0)
            m_passes.insertHashed(passHash, e->client, e->time);
        if (e->type == EventType::Attempt || e->type == EventType::FailedToRetry)
            m_monitor.observe(*e);
    }
    const Seconds now = m_clock.now();
    m_monitor.evaluate(now, m_health ? m_health() : QString());
    if (now != m_lastExpiry) {
        m_lastExpiry = now;
        expireReleases();
    }
}

std::optional<DaemonWatch::Pass> DaemonWatch::lastPass(const QByteArray &sender) const
{
    return m_passes.find(lowered(sender));
}

void DaemonWatch::expireReleases()
{
    const Seconds now = m_clock.now();
    const PolicySet &set = m_handler.policies().set();
    // Listing the releases copies the policy document (auto allow included): only when the
    // policies changed or the soonest end has come, not every second.
    if (set.revision() == m_seenRevision && (m_nextEnd < 0 || now < m_nextEnd))
        return;
    const QList<TimedRelease> all = TimedRelease::list(set, now, false);
    m_seenRevision = set.revision();
    m_nextEnd = all.isEmpty() ? -1 : all.first().until;
    if (all.isEmpty() || all.first().until > now)
        return;
    const ChangeOutcome out =
        m_handler.changePolicies([now](PolicySet &s) { return TimedRelease::expire(s, now); });
    for (const PolicyChange &c : out.changes) {
        Event e;
        e.type = EventType::PolicyChange;
        e.time = now;
        e.subject = c.objectId;
        e.action = QStringLiteral("release.expire");
        e.who = TimedRelease::kSystem;
        e.ref = c.version;
        m_events.append(std::move(e));
    }
}

void DaemonWatch::pushAlert(const Alert &alert)
{
    Event e;
    e.type = EventType::Alert;
    e.time = alert.time;
    e.subject = alert.kind;
    e.client = alert.subject.toUtf8();
    e.action = alert.message;
    e.ref = qint64(alert.id);
    e.attempts = alert.cleared ? 1 : 0;
    m_events.append(std::move(e));
    m_cursor = std::max(m_cursor, m_events.lastId()); // our own event needs no reading
    m_webhook.send(alert);
}

QString DaemonWatch::delayPath(const QString &dbdir)
{
    return QDir(dbdir).filePath(QStringLiteral("stats-delay.bin"));
}

bool DaemonWatch::saveDelays(const QString &path, QString *error) const
{
    QSaveFile file(path);
    const QByteArray bytes = m_delays.save();
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        *error = path + u": " + file.errorString();
        return false;
    }
    return true;
}

bool DaemonWatch::restoreDelays(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.exists())
        return true;
    const qint64 max = m_delays.maxBytes();
    if (!file.open(QIODevice::ReadOnly) || file.size() > max) {
        *error =
            path + u": " +
            (file.isOpen() ? QStringLiteral("larger than any delay file") : file.errorString());
        return false;
    }
    if (!m_delays.restore(file.read(max + 1))) {
        *error = path + u": not a delay statistics file of this version, or damaged";
        return false;
    }
    return true;
}

} // namespace greygate
