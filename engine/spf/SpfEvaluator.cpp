// SPDX-License-Identifier: GPL-3.0-or-later
#include "SpfEvaluator.h"

#include "SpfCheck.h"

#include <QPointer>
#include <QTimer>

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
{}

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
    std::weak_ptr<SpfCheck> weak = check;
    check->start(domain);
    if (check->finished())
        return;
    QTimer::singleShot(m_timeoutMs, this, [this, weak] {
        if (const std::shared_ptr<SpfCheck> pending = weak.lock();
            pending && !pending->finished()) {
            ++m_stats.timeouts;
            pending->cancel(SpfResult::TempError, QByteArrayLiteral("SPF evaluation timed out"));
        }
    });
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
