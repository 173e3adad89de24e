// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SpfResult.h"
#include "dns/DnsLookup.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QTimer>
#include <deque>
#include <functional>
#include <memory>

namespace greygate {

class SpfCheck;

// RFC 7208 check_host() over a DnsLookup, asynchronously. Each check answers exactly once,
// on this object's thread, within timeoutMs (temperror then), possibly before check()
// returns when every answer is cached.
class SpfEvaluator final : public QObject
{
    Q_OBJECT

public:
    using Callback = std::function<void(const SpfOutcome &)>;

    struct Stats
    {
        quint64 checks = 0;
        quint64 pass = 0;
        quint64 fail = 0; // fail and softfail
        quint64 neutral = 0;
        quint64 none = 0;
        quint64 tempError = 0;
        quint64 permError = 0;
        quint64 timeouts = 0; // temperrors of the overall deadline
    };

    explicit SpfEvaluator(DnsLookup &dns, int timeoutMs = 5000, QObject *parent = nullptr);

    // check_host(client, domain, sender) as RFC 7208 §4 defines it.
    void checkHost(const QHostAddress &client, const QByteArray &domain, const QByteArray &sender,
                   const QByteArray &helo, Callback done);
    // The MAIL FROM identity (§2.4); for the null sender the HELO identity
    // "postmaster@<helo>" (§2.3). None without a usable domain.
    void checkSender(const QHostAddress &client, const QByteArray &sender, const QByteArray &helo,
                     Callback done);

    const Stats &stats() const { return m_stats; }
    // The resolver it asks (the pool bypass flattens SPF records through the same cache).
    DnsLookup &dns() const { return m_dns; }

private:
    void count(const SpfOutcome &outcome);
    void onDeadline();

    DnsLookup &m_dns;
    int m_timeoutMs;
    Stats m_stats;
    // Checks waiting for DNS, oldest first: every one has the same timeout, so their
    // deadlines are in order and one timer serves them all (a timer per check costs an
    // insertion into Qt's timer list, which profiles showed with thousands in flight).
    std::deque<std::pair<qint64, std::weak_ptr<SpfCheck>>> m_deadlines;
    QTimer m_deadlineTimer;
    QElapsedTimer m_clock;
};

} // namespace greygate
