// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "DnsCache.h"
#include "DnsLookup.h"
#include "DnsServerAddress.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QPointer>
#include <QTimer>
#include <memory>
#include <unordered_map>
#include <vector>

class QTcpSocket;
class QUdpSocket;

namespace greygate {

struct DnsResolverOptions
{
    DnsServerAddress server;
    int timeoutMs = 1500; // per attempt
    int attempts = 2;     // UDP sends per lookup (the first and the retries)
    int maxInFlight = 2'000;
    DnsCache::Limits cache;
};

// An asynchronous stub resolver on the event loop: one UDP socket to one recursive server,
// TCP when an answer comes back truncated (RFC 7766), answers cached (DnsCache). A lookup
// for a name and type already in flight waits for the same query. An answer is accepted
// only from the server's address and port, with the query's random id and question.
// Every lookup ends within attempts x timeoutMs: with an answer, or Timeout.
class DnsResolver final : public QObject, public DnsLookup
{
    Q_OBJECT

public:
    struct Stats
    {
        quint64 lookups = 0;
        quint64 cacheHits = 0;
        quint64 queries = 0; // UDP datagrams sent, retries included
        quint64 tcpQueries = 0;
        quint64 timeouts = 0;
        quint64 failures = 0;  // SERVFAIL and other error RCODEs
        quint64 malformed = 0; // answers that could not be parsed
        quint64 ignored = 0;   // datagrams not answering a query of ours
    };

    explicit DnsResolver(const DnsResolverOptions &options, QObject *parent = nullptr);
    ~DnsResolver() override;

    void lookup(const QByteArray &name, DnsType type, Callback done) override;

    const DnsResolverOptions &options() const { return m_options; }
    const Stats &stats() const { return m_stats; }
    DnsCache &cache() { return m_cache; }
    qsizetype inFlight() const { return m_queries.size(); }

private:
    struct Query
    {
        quint16 id = 0;
        QByteArray name;
        DnsType type = DnsType::A;
        QByteArray wire;
        std::vector<Callback> waiting;
        int sent = 0;
        qint64 deadlineMs = 0;
        QPointer<QTcpSocket> tcp;
        QByteArray tcpIn;
    };

    bool ensureSocket();
    void send(Query &q);
    void onUdpReadable();
    void onTick();
    void startTcp(Query &q);
    void onTcpReadable(quint16 id);
    void handleMessage(quint16 id, QByteArrayView bytes, bool overTcp);
    void finish(quint16 id, const DnsAnswer &answer, std::optional<quint32> negativeTtl);
    qint64 nowSeconds() const;

    DnsResolverOptions m_options;
    DnsCache m_cache;
    QUdpSocket *m_udp = nullptr;
    QTimer m_tick;
    QElapsedTimer m_clock;
    qint64 m_epoch = 0; // seconds at m_clock's start: the cache's time
    std::unordered_map<quint16, std::unique_ptr<Query>> m_queries;
    QHash<QByteArray, quint16> m_byQuestion;
    Stats m_stats;
};

} // namespace greygate
