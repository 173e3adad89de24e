// SPDX-License-Identifier: GPL-3.0-or-later
#include "SpfEvaluator.h"

#include "SpfCheck.h"

#include <QPointer>

namespace greygate {

const char *spfResultName(SpfResult result)
{
    switch (result) {
    case SpfResult::None:
        return "none";
    case SpfResult::Neutral:
        return "neutral";
    case SpfResult::Pass:
        return "pass";
    case SpfResult::Fail:
        return "fail";
    case SpfResult::SoftFail:
        return "softfail";
    case SpfResult::TempError:
        return "temperror";
    case SpfResult::PermError:
        return "permerror";
    }
    return "none";
}

SpfEvaluator::SpfEvaluator(DnsLookup &dns, int timeoutMs, QObject *parent)
    : QObject(parent)
    , m_dns(dns)
    , m_timeoutMs(qMax(1, timeoutMs))
{
    m_clock.start();
    m_deadlineTimer.setSingleShot(true);
    connect(&m_deadlineTimer, &QTimer::timeout, this, &SpfEvaluator::onDeadline);
}

void SpfEvaluator::onDeadline()
{
    const qint64 now = m_clock.elapsed();
    while (!m_deadlines.empty()) {
        auto &[deadline, weak] = m_deadlines.front();
        const std::shared_ptr<SpfCheck> pending = weak.lock();
        if (pending && !pending->finished()) {
            if (deadline > now)
                break;
            ++m_stats.timeouts;
            m_deadlines.pop_front(); // before cancel(): its callback may start new checks
            pending->cancel(SpfResult::TempError, QByteArrayLiteral("SPF evaluation timed out"));
            continue;
        }
        m_deadlines.pop_front(); // answered already
    }
    if (!m_deadlines.empty() && !m_deadlineTimer.isActive())
        m_deadlineTimer.start(int(qMax<qint64>(1, m_deadlines.front().first - now)));
}

void SpfEvaluator::count(const SpfOutcome &outcome)
{
    switch (outcome.result) {
    case SpfResult::Pass:
        ++m_stats.pass;
        break;
    case SpfResult::Fail:
    case SpfResult::SoftFail:
        ++m_stats.fail;
        break;
    case SpfResult::Neutral:
        ++m_stats.neutral;
        break;
    case SpfResult::None:
        ++m_stats.none;
        break;
    case SpfResult::TempError:
        ++m_stats.tempError;
        break;
    case SpfResult::PermError:
        ++m_stats.permError;
        break;
    }
}

void SpfEvaluator::checkHost(const QHostAddress &rawClient, const QByteArray &domain,
                             const QByteArray &sender, const QByteArray &helo, Callback done)
{
    ++m_stats.checks;
    // An IPv4-mapped IPv6 address is the IPv4 client (§5.6 compares within a family).
    QHostAddress client = rawClient;
    bool mapped = false;
    const quint32 v4 = rawClient.toIPv4Address(&mapped);
    if (mapped)
        client = QHostAddress(v4);
    auto check = std::make_shared<SpfCheck>(
        m_dns, client, sender, helo,
        [self = QPointer<SpfEvaluator>(this), done = std::move(done)](const SpfOutcome &o) {
            if (self)
                self->count(o);
            done(o);
        });
    check->start(domain);
    if (check->finished())
        return;
    m_deadlines.emplace_back(m_clock.elapsed() + m_timeoutMs, check);
    if (!m_deadlineTimer.isActive())
        m_deadlineTimer.start(m_timeoutMs);
}

void SpfEvaluator::checkSender(const QHostAddress &client, const QByteArray &sender,
                               const QByteArray &helo, Callback done)
{
    QByteArray identity = sender;
    if (identity.startsWith('<') && identity.endsWith('>'))
        identity = identity.mid(1, identity.size() - 2);
    const qsizetype at = identity.lastIndexOf('@');
    QByteArray domain;
    if (identity.isEmpty()) {
        domain = helo;
        identity = "postmaster@" + helo;
    } else if (at < 0) {
        domain = identity; // §4.3: a sender without '@' is a domain
        identity = "postmaster@" + identity;
    } else {
        domain = identity.sliced(at + 1);
        if (at == 0)
            identity = "postmaster" + identity;
    }
    checkHost(client, domain, identity, helo, std::move(done));
}

} // namespace greygate
