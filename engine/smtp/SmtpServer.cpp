// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpServer.h"

#include "BackendSession.h"
#include "RemoteDecider.h"
#include "SmtpDecider.h"
#include "SmtpLog.h"
#include "SmtpWorker.h"
#include "events/EventLog.h"
#include "greylist/Clock.h"
#include "util/EpollEventDispatcherFactory.h"
#include "util/LogLine.h"

#include <QFile>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslSocket>
#include <QThread>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

Q_LOGGING_CATEGORY(lcSmtp, "greygate.smtp", QtInfoMsg)

namespace greygate {

namespace {

constexpr qint64 kRateWindowMs = 60'000;
constexpr int kListenBacklog = 1024;

} // namespace

SmtpServer::SmtpServer(const SmtpProxyOptions &options, SmtpDecider &decider, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_decider(decider)
    , m_notes(this, [this](std::vector<Note> &notes) { onNotes(notes); })
    , m_questions(this, [this](std::vector<Question> &questions) { onQuestions(questions); })
    , m_messages(this, [this](std::vector<Event> &events) { onMessages(events); })
{
    m_options.threads = qBound(0, m_options.threads, 64);
    m_clock.start();
    m_listener.setHandler([this](int fd, const QHostAddress &client, quint16 port) {
        acceptConnection(fd, client, port);
    });
    m_pruneTimer.setInterval(int(kRateWindowMs));
    connect(&m_pruneTimer, &QTimer::timeout, this, &SmtpServer::pruneRates);
    m_probeTimer.setInterval(m_options.probeIntervalMs);
    connect(&m_probeTimer, &QTimer::timeout, this, &SmtpServer::probeBackend);
    m_graceTimer.setSingleShot(true);
    connect(&m_graceTimer, &QTimer::timeout, this, [this] {
        for (const std::unique_ptr<SmtpWorker> &worker : m_workers) {
            SmtpWorker *w = worker.get();
            QMetaObject::invokeMethod(w, [w] { w->forceClose(); });
        }
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
    stopWorkers();
}

void SmtpServer::startWorkers()
{
    const int threads = m_options.threads;
    SmtpProxyOptions shard = m_options;
    if (threads > 1 && shard.backendPoolSize > 0)
        shard.backendPoolSize = (shard.backendPoolSize + threads - 1) / threads;
    m_workerSessions.assign(size_t(qMax(1, threads)), 0);
    if (threads == 0) {
        // The sessions on this thread: everything is called directly.
        SmtpWorker::Hooks hooks;
        hooks.decider = &m_decider;
        if (m_events)
            hooks.messages = [this](Event &&e) {
                e.time = m_eventClock->now();
                m_events->append(std::move(e));
            };
        hooks.sessionEnded = [this](const QHostAddress &client) {
            onSessionEnded(0, client);
        };
        hooks.drained = [this] {
            ++m_drainedWorkers;
            maybeFinish();
        };
        m_workers.push_back(std::make_unique<SmtpWorker>(shard, m_tls));
        m_workers[0]->start(std::move(hooks));
        return;
    }
    // I/O threads: each connection is handed over as its descriptor.
    for (int i = 0; i < threads; ++i) {
        auto thread = std::make_unique<QThread>();
        thread->setObjectName(u"smtp-io-" + QString::number(i));
        EpollEventDispatcherFactory::installOn(thread.get()); // greygated's --event-dispatcher
        auto worker = std::make_unique<SmtpWorker>(shard, m_tls);
        worker->moveToThread(thread.get());
        thread->start();
        SmtpWorker *w = worker.get();
        RemoteDecider *remote = nullptr;
        // Made on the worker's thread, so that their timers and sockets live there.
        QMetaObject::invokeMethod(
            w,
            [this, w, i, &remote] {
                remote = new RemoteDecider(
                    [this](const SmtpRecipientQuery &query, RemoteDecider *from, quint64 ticket) {
                        m_questions.post({query, from, ticket});
                    });
                SmtpWorker::Hooks hooks;
                hooks.decider = remote;
                if (m_events)
                    hooks.messages = [this](Event &&e) {
                        m_messages.post(std::move(e));
                    };
                hooks.sessionEnded = [this, i](const QHostAddress &client) {
                    m_notes.post({i, client, false});
                };
                hooks.drained = [this, i] {
                    m_notes.post({i, QHostAddress(), true});
                };
                w->start(std::move(hooks));
            },
            Qt::BlockingQueuedConnection);
        m_remoteDeciders.emplace_back(remote);
        m_workers.push_back(std::move(worker));
        m_threads.push_back(std::move(thread));
    }
}

void SmtpServer::stopWorkers()
{
    for (size_t i = 0; i < m_threads.size(); ++i) {
        SmtpWorker *w = m_workers[i].get();
        RemoteDecider *remote = m_remoteDeciders[i].release();
        // Sessions, sockets and timers end on their own thread, then the thread stops.
        QMetaObject::invokeMethod(
            w,
            [w, remote] {
                w->tearDown();
                delete remote;
            },
            Qt::BlockingQueuedConnection);
        m_threads[i]->quit();
        m_threads[i]->wait();
    }
    if (m_threads.empty() && !m_workers.empty())
        m_workers[0]->tearDown();
    m_remoteDeciders.clear();
    m_workers.clear();
    m_threads.clear();
}

SmtpServer::Stats SmtpServer::stats() const
{
    Stats total = m_stats;
    for (const std::unique_ptr<SmtpWorker> &w : m_workers)
        total += w->stats();
    return total;
}

const BackendPool &SmtpServer::backendPool() const
{
    static const BackendPool none{SmtpProxyOptions{}};
    const BackendPool *pool = m_workers.empty() ? nullptr : m_workers[0]->pool();
    return pool ? *pool : none;
}

BackendPool::Stats SmtpServer::poolStats() const
{
    BackendPool::Stats total;
    for (const std::unique_ptr<SmtpWorker> &w : m_workers)
        total += w->poolStats();
    return total;
}

int SmtpServer::poolIdleCount() const
{
    int idle = 0;
    for (const std::unique_ptr<SmtpWorker> &w : m_workers)
        idle += w->pool() ? w->pool()->idleCount() : 0;
    return idle;
}

bool SmtpServer::poolEnabled() const
{
    return !m_shuttingDown && m_options.backendPoolSize > 0 &&
           m_options.passClient != SmtpProxyOptions::PassClient::ProxyV1 &&
           m_options.passClient != SmtpProxyOptions::PassClient::ProxyV2;
}

void SmtpServer::onQuestions(std::vector<Question> &questions)
{
    // The engine decides here, on its own thread; the decider groups one pass's decisions
    // into one commit, so a batch from the I/O threads costs one commit too.
    for (Question &q : questions) {
        m_decider.decide(q.query, this, [from = q.from, ticket = q.ticket](const SmtpVerdict &v) {
            from->answer(ticket, v);
        });
    }
}

void SmtpServer::onMessages(std::vector<Event> &events)
{
    if (!m_events)
        return;
    for (Event &e : events) {
        e.time = m_eventClock->now();
        m_events->append(std::move(e));
    }
}

void SmtpServer::onNotes(std::vector<Note> &notes)
{
    for (const Note &n : notes) {
        if (n.drained) {
            ++m_drainedWorkers;
            maybeFinish();
        } else {
            onSessionEnded(n.worker, n.client);
        }
    }
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
    if (m_workers.empty())
        startWorkers();
    QString why;
    // Bursts of connections (a queue flush, 2,000 sessions opening at once) wait in the
    // kernel instead of having their SYNs dropped and retried seconds later.
    if (!m_listener.listen(m_options.listenAddress, m_options.listenPort, kListenBacklog, &why)) {
        *error = m_options.listenAddress.toString() + u':' + QString::number(m_options.listenPort) +
                 u": " + why;
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
                                    .add("threads", qint64(m_options.threads))
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
            for (const std::unique_ptr<SmtpWorker> &worker : m_workers) {
                SmtpWorker *w = worker.get();
                // A copy each: the sessions read it on their own thread.
                QMetaObject::invokeMethod(w,
                                          [w, probed = m_probed] { w->setCapabilities(probed); });
            }
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

void SmtpServer::refuse(int fd, const char *reply)
{
    // A fresh connection's send buffer is empty: the reply fits, and the close follows it.
    [[maybe_unused]] const ssize_t sent =
        ::send(fd, reply, std::strlen(reply), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::close(fd);
}

const char *SmtpServer::admit(const QHostAddress &client)
{
    if (m_shuttingDown)
        return "421 4.3.2 Service shutting down, try again later\r\n";
    if (m_sessionCount >= m_options.maxConnections) {
        ++m_stats.refusedTotal;
        return "421 4.3.2 Too many connections, try again later\r\n";
    }
    if (m_options.maxPerClient > 0 && m_perClient.value(client) >= m_options.maxPerClient) {
        ++m_stats.refusedPerClient;
        return "421 4.7.0 Too many connections from your address, try again later\r\n";
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
            return "421 4.7.0 Too many connections from your address per minute, "
                   "try again later\r\n";
        }
        ++w.count;
    }
    ++m_perClient[client];
    ++m_stats.sessions;
    ++m_sessionCount;
    return nullptr;
}

void SmtpServer::acceptConnection(int fd, const QHostAddress &client, quint16 port)
{
    if (const char *refusal = admit(client))
        return refuse(fd, refusal);
    // The least loaded thread: sessions differ in length, so round robin could pile up.
    size_t best = 0;
    for (size_t i = 1; i < m_workerSessions.size(); ++i) {
        if (m_workerSessions[i] < m_workerSessions[best])
            best = i;
    }
    ++m_workerSessions[best];
    if (m_threads.empty())
        m_workers[0]->adopt(fd, client, port, m_nextId++);
    else
        m_workers[best]->adoptLater(fd, client, port, m_nextId++);
}

void SmtpServer::onSessionEnded(int worker, const QHostAddress &client)
{
    --m_workerSessions[size_t(worker)];
    --m_sessionCount;
    if (auto count = m_perClient.find(client); count != m_perClient.end() && --*count <= 0)
        m_perClient.erase(count);
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
    if (m_probe) {
        m_probe->abort();
        m_probe->deleteLater();
        m_probe = nullptr;
    }
    if (m_workers.empty()) { // never listened
        maybeFinish();
        return;
    }
    for (const std::unique_ptr<SmtpWorker> &worker : m_workers) {
        SmtpWorker *w = worker.get();
        // Each worker drains in its own time: idle sessions get 421 at once, a transaction
        // may finish first (the grace timer bounds that), then it says it is drained.
        QMetaObject::invokeMethod(w, [w] { w->shutdown(); });
    }
    m_graceTimer.start(m_options.shutdownGraceMs);
    maybeFinish();
}

void SmtpServer::maybeFinish()
{
    if (!m_shuttingDown || m_finished || m_drainedWorkers < int(m_workers.size()) ||
        m_sessionCount > 0)
        return;
    m_finished = true;
    m_graceTimer.stop();
    QMetaObject::invokeMethod(this, &SmtpServer::shutdownFinished, Qt::QueuedConnection);
}

} // namespace greygate
