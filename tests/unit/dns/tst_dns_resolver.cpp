// SPDX-License-Identifier: GPL-3.0-or-later
#include "DnsWire.h"
#include "dns/DnsMessage.h"
#include "dns/DnsResolver.h"

#include <QNetworkDatagram>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QUdpSocket>
#include <functional>
#include <optional>

using namespace greygate;

// A DNS server on loopback, UDP and TCP on the same port, whose answers the test scripts.
// handler(query, overTcp) returns the answer's bytes, or nothing to stay silent.
class FakeDnsServer : public QObject
{
public:
    // By default every question gets one TXT record, "v=spf1 -all".
    std::function<QByteArray(const QByteArray &, bool)> handler = [](const QByteArray &q, bool) {
        return dnswire::answer(q, 0, {{16, 300, dnswire::txt({"v=spf1 -all"})}});
    };
    int udpQueries = 0;
    int tcpQueries = 0;
    QHostAddress lastFrom;
    quint16 lastPort = 0;
    QByteArray lastQuery;

    bool start()
    {
        // The TCP port must be free too: a few tries at the kernel's ephemeral choice.
        for (int attempt = 0; attempt < 20; ++attempt) {
            if (!m_udp.bind(QHostAddress::LocalHost, 0))
                return false;
            if (m_tcp.listen(QHostAddress::LocalHost, m_udp.localPort()))
                break;
            m_udp.close();
        }
        if (!m_tcp.isListening())
            return false;
        connect(&m_udp, &QUdpSocket::readyRead, this, [this] {
            while (m_udp.hasPendingDatagrams()) {
                const QNetworkDatagram d = m_udp.receiveDatagram();
                ++udpQueries;
                lastFrom = d.senderAddress();
                lastPort = quint16(d.senderPort());
                lastQuery = d.data();
                const QByteArray reply = handler(d.data(), false);
                if (!reply.isEmpty())
                    m_udp.writeDatagram(reply, d.senderAddress(), quint16(d.senderPort()));
            }
        });
        connect(&m_tcp, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_tcp.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, this, [this, s] {
                    QByteArray &in = m_tcpIn[s];
                    in.append(s->readAll());
                    if (in.size() < 2)
                        return;
                    const int length = (quint8(in[0]) << 8) | quint8(in[1]);
                    if (in.size() < 2 + length)
                        return;
                    ++tcpQueries;
                    const QByteArray reply = handler(in.mid(2, length), true);
                    in.clear();
                    QByteArray framed;
                    dnswire::put16(framed, quint16(reply.size()));
                    s->write(framed + reply);
                });
            }
        });
        return true;
    }
    DnsServerAddress address() const { return {QHostAddress::LocalHost, m_udp.localPort()}; }
    void sendFrom(QUdpSocket &other, const QByteArray &bytes)
    {
        other.writeDatagram(bytes, lastFrom, lastPort);
    }

private:
    QUdpSocket m_udp;
    QTcpServer m_tcp;
    QHash<QTcpSocket *, QByteArray> m_tcpIn;
};

class TestDnsResolver : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void answersAndCachesTheAnswer();
    void retriesAfterALostDatagram();
    void timesOutWhenNobodyAnswers();
    void fallsBackToTcpWhenTruncated();
    void ignoresAnswersFromAnotherPort();
    void ignoresAnswersToAnotherQuestion();
    void sharesOneQueryForTheSameQuestion();
    void tellsNxdomainAndServerFailureApart();
    void refusesNamesItCannotAsk();

private:
    static DnsResolverOptions options(const FakeDnsServer &server)
    {
        DnsResolverOptions o;
        o.server = server.address();
        o.timeoutMs = 200;
        o.attempts = 2;
        return o;
    }
    static std::optional<DnsAnswer> ask(DnsResolver &resolver, const QByteArray &name, DnsType type)
    {
        std::optional<DnsAnswer> out;
        resolver.lookup(name, type, [&out](const DnsAnswer &a) { out = a; });
        for (int i = 0; i < 200 && !out; ++i) // bounded: the resolver's deadline is 400 ms
            QTest::qWait(10);
        return out;
    }
    static QByteArray spfAnswer(const QByteArray &query)
    {
        return dnswire::answer(query, 0, {{16, 300, dnswire::txt({"v=spf1 -all"})}});
    }
};

void TestDnsResolver::answersAndCachesTheAnswer()
{
    FakeDnsServer server;
    QVERIFY(server.start());
    DnsResolver resolver(options(server));
    const std::optional<DnsAnswer> a = ask(resolver, "Example.com", DnsType::TXT);
    QVERIFY(a);
    QCOMPARE(a->status, DnsAnswer::Status::Ok);
    QCOMPARE(a->records.size(), 1);
    QCOMPARE(a->records[0].text, QByteArray("v=spf1 -all"));
    QVERIFY(!a->fromCache);
    const std::optional<DnsAnswer> again = ask(resolver, "example.com", DnsType::TXT);
    QVERIFY(again && again->fromCache);
    QCOMPARE(server.udpQueries, 1);
    QCOMPARE(resolver.stats().cacheHits, quint64(1));
}

void TestDnsResolver::retriesAfterALostDatagram()
{
    FakeDnsServer server;
    int seen = 0;
    server.handler = [&seen](const QByteArray &q, bool) {
        return ++seen == 1 ? QByteArray() : spfAnswer(q);
    };
    QVERIFY(server.start());
    DnsResolver resolver(options(server));
    const std::optional<DnsAnswer> a = ask(resolver, "example.com", DnsType::TXT);
    QVERIFY(a && a->ok());
    QCOMPARE(server.udpQueries, 2);
}

void TestDnsResolver::timesOutWhenNobodyAnswers()
{
    FakeDnsServer server;
    server.handler = [](const QByteArray &, bool) {
        return QByteArray();
    };
    QVERIFY(server.start());
    DnsResolver resolver(options(server));
    const std::optional<DnsAnswer> a = ask(resolver, "example.com", DnsType::TXT);
    QVERIFY(a);
    QCOMPARE(a->status, DnsAnswer::Status::Timeout);
    QVERIFY(a->temporaryFailure());
    QCOMPARE(server.udpQueries, 2);
    QCOMPARE(resolver.inFlight(), 0);
}

void TestDnsResolver::fallsBackToTcpWhenTruncated()
{
    FakeDnsServer server;
    const QByteArray big = "v=spf1 " + QByteArray("ip4:192.0.2.1 ").repeated(100) + "-all";
    server.handler = [&big](const QByteArray &q, bool tcp) {
        if (!tcp)
            return dnswire::answer(q, 0, {}, {}, true);
        QList<QByteArray> strings;
        for (qsizetype i = 0; i < big.size(); i += 255)
            strings.append(big.mid(i, 255));
        return dnswire::answer(q, 0, {{16, 300, dnswire::txt(strings)}});
    };
    QVERIFY(server.start());
    DnsResolver resolver(options(server));
    const std::optional<DnsAnswer> a = ask(resolver, "example.com", DnsType::TXT);
    QVERIFY(a && a->ok());
    QCOMPARE(a->records[0].text, big);
    QCOMPARE(server.tcpQueries, 1);
    QCOMPARE(resolver.stats().tcpQueries, quint64(1));
}

void TestDnsResolver::ignoresAnswersFromAnotherPort()
{
    FakeDnsServer server;
    QUdpSocket spoofer;
    QVERIFY(spoofer.bind(QHostAddress::LocalHost, 0));
    int seen = 0;
    server.handler = [&](const QByteArray &q, bool) {
        // An answer with the right id and question, but from the wrong port, comes first.
        if (++seen == 1) {
            spoofer.writeDatagram(dnswire::answer(q, 0, {{16, 300, dnswire::txt({"v=spf1 +all"})}}),
                                  server.lastFrom, server.lastPort);
            return QByteArray();
        }
        return spfAnswer(q);
    };
    QVERIFY(server.start());
    DnsResolver resolver(options(server));
    const std::optional<DnsAnswer> a = ask(resolver, "example.com", DnsType::TXT);
    QVERIFY(a && a->ok());
    QCOMPARE(a->records[0].text, QByteArray("v=spf1 -all"));
    QVERIFY(resolver.stats().ignored >= 1);
}

void TestDnsResolver::ignoresAnswersToAnotherQuestion()
{
    FakeDnsServer server;
    int seen = 0;
    server.handler = [&seen](const QByteArray &q, bool) {
        if (++seen == 1) {
            QByteArray other = *DnsMessage::query(0, "evil.example", DnsType::TXT);
            other[0] = q[0];
            other[1] = q[1];
            return dnswire::answer(other, 0, {{16, 300, dnswire::txt({"v=spf1 +all"})}});
        }
        return spfAnswer(q);
    };
    QVERIFY(server.start());
    DnsResolver resolver(options(server));
    const std::optional<DnsAnswer> a = ask(resolver, "example.com", DnsType::TXT);
    QVERIFY(a && a->ok());
    QCOMPARE(a->records[0].text, QByteArray("v=spf1 -all"));
}

void TestDnsResolver::sharesOneQueryForTheSameQuestion()
{
    FakeDnsServer server;
    QVERIFY(server.start());
    DnsResolver resolver(options(server));
    int answered = 0;
    for (int i = 0; i < 3; ++i)
        resolver.lookup("example.com", DnsType::TXT,
                        [&answered](const DnsAnswer &a) { answered += a.ok() ? 1 : 0; });
    QTRY_COMPARE(answered, 3);
    QCOMPARE(server.udpQueries, 1);
}

void TestDnsResolver::tellsNxdomainAndServerFailureApart()
{
    FakeDnsServer server;
    server.handler = [](const QByteArray &q, bool) {
        return dnswire::answer(q, q.contains("fail") ? 2 : 3, {},
                               {{6, 60, dnswire::soa(30), "example.com"}});
    };
    QVERIFY(server.start());
    DnsResolver resolver(options(server));
    const std::optional<DnsAnswer> nx = ask(resolver, "none.example.com", DnsType::TXT);
    QVERIFY(nx);
    QCOMPARE(nx->status, DnsAnswer::Status::NxDomain);
    QVERIFY(nx->isVoid());
    QVERIFY(!nx->temporaryFailure());
    QVERIFY(ask(resolver, "none.example.com", DnsType::TXT)->fromCache); // negative caching
    const std::optional<DnsAnswer> fail = ask(resolver, "fail.example.com", DnsType::TXT);
    QVERIFY(fail);
    QCOMPARE(fail->status, DnsAnswer::Status::ServerFailure);
    QVERIFY(fail->temporaryFailure());
}

void TestDnsResolver::refusesNamesItCannotAsk()
{
    FakeDnsServer server;
    QVERIFY(server.start());
    DnsResolver resolver(options(server));
    const std::optional<DnsAnswer> a = ask(resolver, "bad..example", DnsType::TXT);
    QVERIFY(a);
    QCOMPARE(a->status, DnsAnswer::Status::Malformed);
    QCOMPARE(server.udpQueries, 0);
}

QTEST_GUILESS_MAIN(TestDnsResolver)
#include "tst_dns_resolver.moc"
