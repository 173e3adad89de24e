// SPDX-License-Identifier: GPL-3.0-or-later
#include "AlertMonitor.h"

#include "events/Event.h"

namespace greygate {

namespace {

qint64 floorDiv(Seconds t, qint64 d)
{
    return t >= 0 ? t / d : (t - (d - 1)) / d;
}

QByteArray domainOf(const QByteArray &sender)
{
    const qsizetype at = sender.lastIndexOf('@');
    if (at < 0 || at + 1 >= sender.size())
        return QByteArrayLiteral("(null sender)");
    return sender.sliced(at + 1).left(255).toLower();
}

} // namespace

AlertMonitor::AlertMonitor(const AlertOptions &options, QString proxyName, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_proxy(std::move(proxyName))
{}

QString AlertMonitor::key(const QString &kind, const QString &subject)
{
    return kind + QChar(0x1f) + subject;
}

void AlertMonitor::observe(const Event &e)
{
    if (!m_options.enabled)
        return;
    if (e.type == EventType::Attempt && e.outcome == AttemptOutcome::Deferred) {
        ++m_deferred[floorDiv(e.time, 60)];
    } else if (e.type == EventType::FailedToRetry) {
        const qint64 window = floorDiv(e.time, qint64(m_options.failedWindowMinutes) * 60);
        QHash<QByteArray, quint32> &counts = m_failed[window];
        const QByteArray domain = domainOf(e.sender);
        if (counts.contains(domain) || counts.size() < kMaxDomainsPerWindow)
            ++counts[domain];
    }
}

void AlertMonitor::evaluate(Seconds now, const QString &storeHealth)
{
    if (!m_options.enabled)
        return;
    if (m_startMinute < 0)
        m_startMinute = floorDiv(now, 60); // history starts now: no baseline before it
    checkStore(now, storeHealth);
    checkDeferrals(now);
    checkFailed(now);
}

void AlertMonitor::checkDeferrals(Seconds now)
{
    const qint64 minute = floorDiv(now, 60);
    const qint64 w = m_options.deferralWindowMinutes;
    const qint64 b = m_options.deferralBaselineMinutes;
    // The window is the last w whole minutes; the baseline the b minutes before it. Judged
    // only once the monitor has watched all of them, so a start-up is never a "spike".
    if (minute - w - b < m_startMinute) {
        return;
    }
    const auto sum = [this](qint64 from, qint64 to) { // minutes [from, to)
        quint64 n = 0;
        for (auto it = m_deferred.lower_bound(from); it != m_deferred.end() && it->first < to; ++it)
            n += it->second;
        return n;
    };
    const double current = double(sum(minute - w, minute));
    const double baseline = double(sum(minute - w - b, minute - w)) * double(w) / double(b);
    const bool spike = current >= m_options.deferralMinimum &&
                       current >= m_options.deferralFactor * std::max(baseline, 1.0);
    if (spike) {
        raise(now, QStringLiteral("deferralSpike"), QStringLiteral("deferrals"),
              QStringLiteral("%1 deferrals in the last %2 minutes, %3 times the usual %4")
                  .arg(qint64(current))
                  .arg(w)
                  .arg(baseline > 0 ? current / baseline : current, 0, 'f', 1)
                  .arg(baseline, 0, 'f', 1),
              current, baseline);
    } else {
        clear(now, QStringLiteral("deferralSpike"), QStringLiteral("deferrals"));
    }
    m_deferred.erase(m_deferred.begin(), m_deferred.lower_bound(minute - w - b));
}

void AlertMonitor::checkFailed(Seconds now)
{
    const qint64 span = qint64(m_options.failedWindowMinutes) * 60;
    const qint64 window = floorDiv(now, span);
    const qint64 k = m_options.failedBaselineWindows;
    const qint64 first = floorDiv(m_startMinute * 60, span);
    const qint64 done = window - 1; // the last complete window
    if (done - k < first || done == m_judgedWindow)
        return;
    m_judgedWindow = done;
    const auto it = m_failed.find(done);
    QHash<QByteArray, quint32> counts =
        it != m_failed.end() ? it->second : QHash<QByteArray, quint32>{};
    // Every domain alerted before is judged again, so that it clears when it calms down.
    for (auto a = m_active.cbegin(); a != m_active.cend(); ++a) {
        if (a->alert.kind == u"failedToRetrySpike")
            counts.insert(a->alert.subject.toUtf8(), counts.value(a->alert.subject.toUtf8()));
    }
    for (auto c = counts.cbegin(); c != counts.cend(); ++c) {
        quint64 before = 0;
        for (qint64 n = done - k; n < done; ++n) {
            const auto prev = m_failed.find(n);
            if (prev != m_failed.end())
                before += prev->second.value(c.key());
        }
        const double baseline = double(before) / double(k);
        const double current = c.value();
        const QString domain = QString::fromUtf8(c.key());
        if (current >= m_options.failedMinimum &&
            current >= m_options.failedFactor * std::max(baseline, 1.0)) {
            raise(now, QStringLiteral("failedToRetrySpike"), domain,
                  QStringLiteral("%1 senders from %2 failed to retry in %3 minutes (usually %4)")
                      .arg(qint64(current))
                      .arg(domain)
                      .arg(m_options.failedWindowMinutes)
                      .arg(baseline, 0, 'f', 1),
                  current, baseline);
        } else {
            clear(now, QStringLiteral("failedToRetrySpike"), domain);
        }
    }
    m_failed.erase(m_failed.begin(), m_failed.lower_bound(done - k));
}

void AlertMonitor::checkStore(Seconds now, const QString &health)
{
    const bool healthy = health.isEmpty() || health == u"ok" || health == u"up";
    if (healthy) {
        m_storeTroubleSince = -1;
        clear(now, QStringLiteral("storeTrouble"), QStringLiteral("store"));
        return;
    }
    if (m_storeTroubleSince < 0)
        m_storeTroubleSince = now;
    const Seconds lasting = now - m_storeTroubleSince;
    if (lasting >= m_options.storeGraceSeconds) {
        raise(now, QStringLiteral("storeTrouble"), QStringLiteral("store"),
              QStringLiteral("the store is %1 for %2 s: decisions may not be saved; check the "
                             "disk or the Redis server")
                  .arg(health)
                  .arg(lasting),
              double(lasting), 0);
    }
}

void AlertMonitor::raise(Seconds now, const QString &kind, const QString &subject,
                         const QString &message, double value, double baseline)
{
    const QString k = key(kind, subject);
    auto it = m_active.find(k);
    if (it != m_active.end() && now - it->lastSent < Seconds(m_options.repeatMinutes) * 60) {
        it->alert.value = value;
        return;
    }
    Alert a;
    a.time = now;
    a.kind = kind;
    a.subject = subject;
    a.message = message;
    a.value = value;
    a.baseline = baseline;
    a.proxy = m_proxy;
    m_active.insert(k, Active{a, now});
    emitAlert(a);
}

void AlertMonitor::clear(Seconds now, const QString &kind, const QString &subject)
{
    const auto it = m_active.constFind(key(kind, subject));
    if (it == m_active.cend())
        return;
    Alert a = it->alert;
    m_active.erase(it);
    a.time = now;
    a.cleared = true;
    a.message = QStringLiteral("over: ") + a.message;
    emitAlert(a);
}

void AlertMonitor::emitAlert(Alert alert)
{
    alert.id = m_nextId++;
    m_recent.push_back(alert);
    while (qsizetype(m_recent.size()) > kMaxKept)
        m_recent.pop_front();
    Q_EMIT fired(alert);
}

QList<Alert> AlertMonitor::active() const
{
    QList<Alert> out;
    for (const Active &a : m_active)
        out.append(a.alert);
    std::sort(out.begin(), out.end(),
              [](const Alert &a, const Alert &b) { return a.time < b.time; });
    return out;
}

} // namespace greygate
