// SPDX-License-Identifier: GPL-3.0-or-later
#include "DnsResolver.h"

#include "DnsMessage.h"

#include <QDateTime>
#include <QNetworkDatagram>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QUdpSocket>

namespace greygate {

namespace {

constexpr int kTickMs = 50;
constexpr qsizetype kMaxTcpMessage = 65535;

QByteArray questionKey(const QByteArray &name, DnsType type)
{
    return name + '/' + QByteArray::number(quint16(type));
}

DnsAnswer failure(DnsAnswer::Status status, QByteArray why)
{
    DnsAnswer a;
    a.status = status;
    a.error = std::move(why);
    return a;
}

} // namespace

DnsResolver::DnsResolver(const DnsResolverOptions &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_cache(options.cache)
{
    m_options.attempts = qMax(1, m_options.attempts);
    m_options.timeoutMs = qMax(10, m_options.timeoutMs);
    m_clock.start();
    m_epoch = QDateTime::currentSecsSinceEpoch();
    m_tick.setInterval(kTickMs);
    connect(&m_tick, &QTimer::timeout, this, &DnsResolver::onTick);
}

DnsResolver::~DnsResolver()
{
    // Lookups still waiting are told, so that no caller waits for ever.
    std::vector<quint16> ids;
    for (const auto &[id, q] : m_queries)
        ids.push_back(id);
    for (quint16 id : ids)
        finish(id, failure(DnsAnswer::Status::Timeout, "resolver stopped"), std::nullopt);
}

qint64 DnsResolver::nowSeconds() const
{
    // Monotonic: a wall clock step must not expire or revive cached answers.
    return m_epoch + m_clock.elapsed() / 1000;
}

bool DnsResolver::ensureSocket()
{
    if (m_udp)
        return m_udp->state() == QAbstractSocket::BoundState;
    m_udp = new QUdpSocket(this);
    const bool v6 = m_options.server.host.protocol() == QAbstractSocket::IPv6Protocol;
    if (!m_udp->bind(v6 ? QHostAddress(QHostAddress::AnyIPv6) : QHostAddress(QHostAddress::AnyIPv4),
                     0))
        return false;
    connect(m_udp, &QUdpSocket::readyRead, this, &DnsResolver::onUdpReadable);
    return true;
}

void DnsResolver::lookup(const QByteArray &rawName, DnsType type, Callback done)
{
    ++m_stats.lookups;
    QByteArray name = rawName.toLower();
    if (name.endsWith('.'))
        name.chop(1);
    if (!DnsMessage::isValidName(name)) {
        done(failure(DnsAnswer::Status::Malformed, "not a valid domain name"));
        return;
    }
    if (std::optional<DnsAnswer> cached = m_cache.find(name, type, nowSeconds())) {
        ++m_stats.cacheHits;
        done(*cached);
        return;
    }
    const QByteArray key = questionKey(name, type);
    if (const auto it = m_byQuestion.constFind(key); it != m_byQuestion.cend()) {
        m_queries.at(*it)->waiting.push_back(std::move(done));
        return;
    }
    if (qsizetype(m_queries.size()) >= m_options.maxInFlight) {
        done(failure(DnsAnswer::Status::Busy, "too many DNS lookups in flight"));
        return;
    }
    if (!ensureSocket()) {
        done(failure(DnsAnswer::Status::ServerFailure, "cannot open a UDP socket"));
        return;
    }
    auto q = std::make_unique<Query>();
    do {
        q->id = quint16(QRandomGenerator::global()->bounded(65536));
    } while (m_queries.count(q->id) != 0);
    q->name = name;
    q->type = type;
    q->wire = *DnsMessage::query(q->id, name, type);
    q->waiting.push_back(std::move(done));
    Query &ref = *q;
    m_byQuestion.insert(key, q->id);
    m_queries.emplace(q->id, std::move(q));
    send(ref);
    if (!m_tick.isActive())
        m_tick.start();
}

void DnsResolver::send(Query &q)
{
    ++q.sent;
    ++m_stats.queries;
    q.deadlineMs = m_clock.elapsed() + m_options.timeoutMs;
    m_udp->writeDatagram(q.wire, m_options.server.host, m_options.server.port);
}

void DnsResolver::onTick()
{
    const qint64 now = m_clock.elapsed();
    std::vector<quint16> expired;
    for (auto &[id, q] : m_queries) {
        if (q->deadlineMs > now)
            continue;
        if (!q->tcp && q->sent < m_options.attempts)
            send(*q);
        else
            expired.push_back(id);
    }
    for (quint16 id : expired) {
        ++m_stats.timeouts;
        finish(id,
               failure(DnsAnswer::Status::Timeout,
                       "no answer from " + m_options.server.toString().toLatin1()),
               std::nullopt);
    }
    if (m_queries.empty())
        m_tick.stop();
}

void DnsResolver::onUdpReadable()
{
    // Bounded per call: a flood of datagrams cannot keep the event loop here.
    for (int i = 0; i < 256 && m_udp->hasPendingDatagrams(); ++i) {
        const QNetworkDatagram d = m_udp->receiveDatagram(65536);
        QHostAddress from = d.senderAddress();
        if (from.protocol() == QAbstractSocket::IPv6Protocol && from.toIPv4Address() != 0 &&
            m_options.server.host.protocol() == QAbstractSocket::IPv4Protocol)
            from = QHostAddress(from.toIPv4Address());
        const QByteArray bytes = d.data();
        if (from != m_options.server.host || d.senderPort() != m_options.server.port ||
            bytes.size() < 2) {
            ++m_stats.ignored;
            continue;
        }
        handleMessage(quint16((quint8(bytes[0]) << 8) | quint8(bytes[1])), bytes, false);
    }
}

void DnsResolver::handleMessage(quint16 id, QByteArrayView bytes, bool overTcp)
{
    const auto it = m_queries.find(id);
    if (it == m_queries.end() || (!overTcp && it->second->tcp)) {
        ++m_stats.ignored;
        return;
    }
    Query &q = *it->second;
    QByteArray error;
    const std::optional<DnsMessage> m = DnsMessage::parse(bytes, &error);
    // Not an answer to this question: a spoofing attempt or a stale answer; keep waiting.
    if (m && (!m->response || m->questionName != q.name || m->questionType != quint16(q.type))) {
        ++m_stats.ignored;
        return;
    }
    if (!m) {
        ++m_stats.malformed;
        // Over UDP anyone can send garbage with a guessed id: wait for the real answer.
        if (!overTcp)
            return;
        finish(id, failure(DnsAnswer::Status::Malformed, "malformed DNS answer: " + error),
               std::nullopt);
        return;
    }
    if (m->truncated) {
        if (overTcp) {
            finish(id, failure(DnsAnswer::Status::Malformed, "truncated answer over TCP"),
                   std::nullopt);
            return;
        }
        startTcp(q);
        return;
    }
    DnsAnswer answer;
    switch (m->rcode) {
    case 0:
        answer.status = DnsAnswer::Status::Ok;
        answer.records = m->recordsFor(q.name, q.type);
        break;
    case 3:
        answer.status = DnsAnswer::Status::NxDomain;
        break;
    default:
        ++m_stats.failures;
        answer = failure(DnsAnswer::Status::ServerFailure,
                         "DNS server answered RCODE " + QByteArray::number(m->rcode));
        break;
    }
    finish(id, answer, m->negativeTtl);
}

void DnsResolver::startTcp(Query &q)
{
    ++m_stats.tcpQueries;
    auto *socket = new QTcpSocket(this);
    q.tcp = socket;
    q.tcpIn.clear();
    q.deadlineMs = m_clock.elapsed() + m_options.timeoutMs * m_options.attempts;
    const quint16 id = q.id;
    connect(socket, &QTcpSocket::connected, this, [socket, wire = q.wire] {
        QByteArray framed;
        framed.append(char(wire.size() >> 8)).append(char(wire.size() & 0xff)).append(wire);
        socket->write(framed);
    });
    connect(socket, &QTcpSocket::readyRead, this, [this, id] { onTcpReadable(id); });
    connect(socket, &QTcpSocket::errorOccurred, this, [this, id, socket] {
        const auto it = m_queries.find(id);
        if (it != m_queries.end() && it->second->tcp == socket)
            finish(id,
                   failure(DnsAnswer::Status::ServerFailure,
                           "DNS over TCP failed: " + socket->errorString().toLatin1()),
                   std::nullopt);
    });
    socket->connectToHost(m_options.server.host, m_options.server.port);
}

void DnsResolver::onTcpReadable(quint16 id)
{
    const auto it = m_queries.find(id);
    if (it == m_queries.end() || !it->second->tcp)
        return;
    Query &q = *it->second;
    q.tcpIn.append(q.tcp->read(2 + kMaxTcpMessage - q.tcpIn.size()));
    if (q.tcpIn.size() < 2)
        return;
    const qsizetype length = (quint8(q.tcpIn[0]) << 8) | quint8(q.tcpIn[1]);
    if (q.tcpIn.size() < 2 + length)
        return;
    const QByteArray message = q.tcpIn.mid(2, length);
    if (message.size() < 2 || quint16((quint8(message[0]) << 8) | quint8(message[1])) != id) {
        finish(id, failure(DnsAnswer::Status::Malformed, "DNS over TCP: wrong answer id"),
               std::nullopt);
        return;
    }
    handleMessage(id, message, true);
    // An answer to another question on this connection is ignored; the deadline ends it.
}

void DnsResolver::finish(quint16 id, const DnsAnswer &answer, std::optional<quint32> negativeTtl)
{
    const auto it = m_queries.find(id);
    if (it == m_queries.end())
        return;
    // Out of the tables before anyone is told: a callback may look up again at once.
    std::unique_ptr<Query> q = std::move(it->second);
    m_queries.erase(it);
    m_byQuestion.remove(questionKey(q->name, q->type));
    if (q->tcp) {
        q->tcp->disconnect(this);
        q->tcp->abort();
        q->tcp->deleteLater();
    }
    if (answer.status != DnsAnswer::Status::Malformed)
        m_cache.insert(q->name, q->type, answer, negativeTtl, nowSeconds());
    for (Callback &done : q->waiting)
        done(answer);
}

} // namespace greygate
