// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpServer.h"

#include "BackendSession.h"
#include "SmtpLog.h"
#include "SmtpSession.h"
#include "util/LogLine.h"

#include <QFile>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslSocket>

Q_LOGGING_CATEGORY(lcSmtp, "greygate.smtp", QtInfoMsg)

namespace greygate {

namespace {

constexpr qint64 kRateWindowMs = 60'000;
constexpr int kRefusedCloseMs = 2000; // a refused client that does not read is cut off

QHostAddress plain(const QHostAddress &a)
{
    bool ok = false;
    const quint32 v4 = a.toIPv4Address(&ok);
    return ok ? QHostAddress(v4) : a;
}

} // namespace

SmtpServer::SmtpServer(const SmtpProxyOptions &options, SmtpDecider &decider, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_decider(decider)
    , m_pool(m_options)
{
    m_clock.start();
    m_listener.setMaxPendingConnections(256);
    // Bursts of connections (a queue flush, 2,000 sessions opening at once) wait in the
    // kernel instead of having their SYNs dropped and retried seconds later.
    m_listener.setListenBacklogSize(1024);
    connect(&m_listener, &QTcpServer::newConnection, this, &SmtpServer::acceptConnections);
    m_pruneTimer.setInterval(int(kRateWindowMs));
    connect(&m_pruneTimer, &QTimer::timeout, this, &SmtpServer::pruneRates);
    m_probeTimer.setInterval(m_options.probeIntervalMs);
    connect(&m_probeTimer, &QTimer::timeout, this, &SmtpServer::probeBackend);
    m_graceTimer.setSingleShot(true);
    connect(&m_graceTimer, &QTimer::timeout, this, [this] {
        for (auto &[session, owned] : m_sessions)
            session->forceClose();
    });
}

void SmtpServer::setEventLog(EventLog *events, const Clock *clock)
{
    m_events = clock ? events : nullptr;
    m_eventClock = clock;
}

SmtpServer::~SmtpServer()
{
    delete m_probe;
    for (auto &[session, owned] : m_sessions)
        session->disconnect(this);
}

bool SmtpServer::loadTls(QString *error)
{
    if (m_options.tlsCertFile.isEmpty() && m_options.tlsKeyFile.isEmpty())
        return true;
    if (m_options.tlsCertFile.isEmpty() || m_options.tlsKeyFile.isEmpty()) {
        *error = QStringLiteral("--smtp-tls-cert and --smtp-tls-key go together: give both");
        return false;
    }
    if (!QSslSocket::supportsSsl()) {
        *error = QStringLiteral("STARTTLS is configured but this Qt has no TLS backend");
        return false;
    }
    QFile certFile(m_options.tlsCertFile);
    if (!certFile.open(QIODevice::ReadOnly)) {
        *error = m_options.tlsCertFile + u": " + certFile.errorString();
        return false;
    }
    const QList<QSslCertificate> chain = QSslCertificate::fromData(certFile.readAll(), QSsl::Pem);
    if (chain.isEmpty()) {
        *error = m_options.tlsCertFile + u": no PEM certificate in the file";
        return false;
    }
    QFile keyFile(m_options.tlsKeyFile);
    if (!keyFile.open(QIODevice::ReadOnly)) {
        *error = m_options.tlsKeyFile + u": " + keyFile.errorString();
        return false;
    }
    const QByteArray keyData = keyFile.readAll();
    QSslKey key;
    for (const QSsl::KeyAlgorithm algorithm : {QSsl::Rsa, QSsl::Ec, QSsl::Dsa}) {
        key = QSslKey(keyData, algorithm, QSsl::Pem);
        if (!key.isNull())
            break;
    }
    if (key.isNull()) {
        *error = m_options.tlsKeyFile + u": no unencrypted PEM private key (RSA, EC or DSA)";
        return false;
    }
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificateChain(chain);
    tls.setPrivateKey(key);
    tls.setProtocol(QSsl::TlsV1_2OrLater);
    tls.setPeerVerifyMode(QSslSocket::VerifyNone); // no client certificates are asked for
    m_tls = tls;
    return true;
}

bool SmtpServer::listen(QString *error)
{
    if (!loadTls(error))
        return false;
    if (!m_listener.listen(m_options.listenAddress, m_options.listenPort)) {
        *error = m_options.listenAddress.toString() + u':' + QString::number(m_options.listenPort) +
                 u": " + m_listener.errorString();
        return false;
    }
    qCInfo(lcSmtp).noquote() << LogLine("smtp proxy listening")
                                    .add("address", m_listener.serverAddress().toString())
                                    .add("port", qint64(m_listener.serverPort()))
                                    .add("backend", m_options.backendAddress.toString() + u':' +
                                                        QString::number(m_options.backendPort))
                                    .add("starttls", m_tls ? "yes" : "no")
                                    .add("pass_client",
                                         SmtpProxyOptions::passClientName(m_options.passClient))
                                    .text();
    m_pruneTimer.start();
    m_probeTimer.start();
    probeBackend();
    return true;
}

void SmtpServer::probeBackend()
{
    if (m_probe || m_shuttingDown)
        return;
    SmtpProxyOptions probeOptions = m_options;
    // XCLIENT is for sessions; a PROXY header is still needed by a backend that expects one.
    if (probeOptions.passClient == SmtpProxyOptions::PassClient::Auto ||
        probeOptions.passClient == SmtpProxyOptions::PassClient::Xclient)
        probeOptions.passClient = SmtpProxyOptions::PassClient::None;
    probeOptions.commandTimeoutMs = qMin(probeOptions.commandTimeoutMs, 30'000);
    m_probe = new BackendSession(probeOptions, this);
    BackendSession::Client self; // PROXY UNKNOWN / LOCAL: the proxy's own connection
    m_probe->open(self, [this](const SmtpReply &r) {
        const bool ok = r.isPositive();
        if (ok) {
            m_probed = m_probe->capabilities();
            m_probe->quit();
            if (m_probeFailedLogged)
                qCInfo(lcSmtp).noquote() << LogLine("smtp backend reachable again").text();
            m_probeFailedLogged = false;
        } else if (!m_probeFailedLogged) {
            m_probeFailedLogged = true;
            qCWarning(lcSmtp).noquote()
                << LogLine("smtp backend not reachable: recipients get 451 until it is")
                       .add("backend", m_options.backendAddress.toString() + u':' +
                                           QString::number(m_options.backendPort))
                       .add("reply", r.summary())
                       .text();
        }
        m_probe->deleteLater();
        m_probe = nullptr;
        Q_EMIT backendProbed(ok);
    });
}

void SmtpServer::refuse(QTcpSocket *socket, const char *reply)
{
    socket->write(reply);
    socket->disconnectFromHost();
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    QTimer::singleShot(kRefusedCloseMs, socket, [socket] {
        socket->abort();
        socket->deleteLater();
    });
}

void SmtpServer::acceptConnections()
{
    while (m_listener.hasPendingConnections()) {
        QTcpSocket *socket = m_listener.nextPendingConnection();
        if (!socket)
            break;
        socket->setParent(this);
        if (m_shuttingDown) {
            refuse(socket, "421 4.3.2 Service shutting down, try again later\r\n");
            continue;
        }
        const QHostAddress client = plain(socket->peerAddress());
        if (int(m_sessions.size()) >= m_options.maxConnections) {
            ++m_stats.refusedTotal;
            refuse(socket, "421 4.3.2 Too many connections, try again later\r\n");
            continue;
        }
        if (m_options.maxPerClient > 0 && m_perClient.value(client) >= m_options.maxPerClient) {
            ++m_stats.refusedPerClient;
            refuse(socket, "421 4.7.0 Too many connections from your address, try again later\r\n");
            continue;
        }
        if (m_options.ratePerClient > 0) {
            RateWindow &w = m_rates[client];
            const qint64 now = m_clock.elapsed();
            if (now - w.startMs >= kRateWindowMs || w.count == 0) {
                w.startMs = now;
                w.count = 0;
            }
            if (w.count >= m_options.ratePerClient) {
                ++m_stats.refusedRate;
                refuse(socket, "421 4.7.0 Too many connections from your address per minute, "
                               "try again later\r\n");
                continue;
            }
            ++w.count;
        }
        ++m_perClient[client];
        ++m_stats.sessions;
        auto session = std::make_unique<SmtpSession>(socket, m_nextId++, m_options, m_decider,
                                                     m_tls ? &*m_tls : nullptr, &m_probed);
        SmtpSession *raw = session.get();
        raw->setRecording(&m_stats, m_events, m_eventClock);
        if (m_pool.isEnabled())
            raw->setBackendPool(&m_pool);
        connect(raw, &SmtpSession::finished, this, [this, raw] { onSessionFinished(raw); });
        m_sessions.emplace(raw, std::move(session));
        raw->start();
    }
}

void SmtpServer::onSessionFinished(SmtpSession *session)
{
    const auto it = m_sessions.find(session);
    if (it == m_sessions.end())
        return;
    const QHostAddress client = session->clientAddress();
    if (auto count = m_perClient.find(client); count != m_perClient.end() && --*count <= 0)
        m_perClient.erase(count);
    // Emitted from inside the session: deleted once its call has returned.
    it->second.release()->deleteLater();
    m_sessions.erase(it);
    maybeFinish();
}

void SmtpServer::pruneRates()
{
    const qint64 now = m_clock.elapsed();
    for (auto it = m_rates.begin(); it != m_rates.end();) {
        if (now - it->startMs >= kRateWindowMs)
            it = m_rates.erase(it);
        else
            ++it;
    }
}

void SmtpServer::shutdown()
{
    if (m_shuttingDown)
        return;
    m_shuttingDown = true;
    m_listener.close();
    m_probeTimer.stop();
    m_pruneTimer.stop();
    m_pool.close(); // idle connections QUIT now; sessions' connections close as they end
    if (m_probe) {
        m_probe->abort();
        m_probe->deleteLater();
        m_probe = nullptr;
    }
    // A copy: sessions may finish (and leave the map) while being told.
    std::vector<SmtpSession *> sessions;
    for (auto &[session, owned] : m_sessions)
        sessions.push_back(session);
    for (SmtpSession *session : sessions)
        session->shutdown();
    m_graceTimer.start(m_options.shutdownGraceMs);
    maybeFinish();
}

void SmtpServer::maybeFinish()
{
    if (!m_shuttingDown || m_finished || !m_sessions.empty())
        return;
    m_finished = true;
    m_graceTimer.stop();
    QMetaObject::invokeMethod(this, &SmtpServer::shutdownFinished, Qt::QueuedConnection);
}

} // namespace greygate
