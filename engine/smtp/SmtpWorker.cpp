// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpWorker.h"

#include "SmtpSocket.h"

#include <QTimerEvent>

namespace greygate {

namespace {

constexpr int kSweepMs = 200; // finished sessions outlive their end by at most this when idle

} // namespace

SmtpWorker::SmtpWorker(const SmtpProxyOptions &options, const std::optional<QSslConfiguration> &tls,
                       QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_tls(tls)
    , m_handovers(this, [this](std::vector<Handover> &batch) { adoptAll(batch); })
{}

SmtpWorker::~SmtpWorker()
{
    for (auto &[session, owned] : m_sessions)
        session->setEndHook(nullptr);
}

void SmtpWorker::start(Hooks hooks)
{
    m_hooks = std::move(hooks);
    m_pool = std::make_unique<BackendPool>(m_options);
}

BackendPool::Stats SmtpWorker::poolStats() const
{
    // m_pool is set before the thread is handed its first session and never replaced.
    return m_pool ? m_pool->stats().snapshot() : BackendPool::Stats{};
}

void SmtpWorker::adoptLater(int fd, const QHostAddress &client, quint16 port, quint64 id)
{
    m_handovers.post({fd, id, client, port});
}

void SmtpWorker::adoptAll(std::vector<Handover> &batch)
{
    for (const Handover &h : batch)
        adopt(h.fd, h.client, h.port, h.id);
}

void SmtpWorker::adopt(int fd, const QHostAddress &client, quint16 port, quint64 id)
{
    m_ended.clear(); // called from the listener or the hand-over, never from a session
    auto *socket = new SmtpSocket;
    socket->adopt(fd, client, port);
    auto session = std::make_unique<SmtpSession>(socket, id, m_options, *m_hooks.decider,
                                                 m_tls ? &*m_tls : nullptr, &m_probed);
    SmtpSession *raw = session.get();
    raw->setRecording(&m_stats, m_hooks.messages);
    if (m_pool->isEnabled())
        raw->setBackendPool(m_pool.get());
    raw->setEndHook(&m_sessionEnded);
    m_sessions.emplace(raw, std::move(session));
    raw->start();
    if (m_shuttingDown)
        raw->shutdown();
}

void SmtpWorker::onSessionFinished(SmtpSession *session)
{
    const auto it = m_sessions.find(session);
    if (it == m_sessions.end())
        return;
    const QHostAddress client = session->clientAddress();
    // Emitted from inside the session: deleted once its call has returned (m_ended), so the
    // hook below must never adopt a connection in the same call (the server's only counts).
    m_ended.push_back(std::move(it->second));
    m_sessions.erase(it);
    if (!m_sweep.isActive())
        m_sweep.start(kSweepMs, this);
    if (m_hooks.sessionEnded)
        m_hooks.sessionEnded(client);
    maybeDrained();
}

void SmtpWorker::shutdown()
{
    if (m_shuttingDown)
        return;
    m_shuttingDown = true;
    if (m_pool)
        m_pool->close(); // idle connections QUIT now; sessions' connections close as they end
    // A copy: sessions may finish (and leave the map) while being told.
    std::vector<SmtpSession *> sessions;
    sessions.reserve(m_sessions.size());
    for (auto &[session, owned] : m_sessions)
        sessions.push_back(session);
    for (SmtpSession *session : sessions)
        session->shutdown();
    maybeDrained();
}

void SmtpWorker::forceClose()
{
    std::vector<SmtpSession *> sessions;
    sessions.reserve(m_sessions.size());
    for (auto &[session, owned] : m_sessions)
        sessions.push_back(session);
    for (SmtpSession *session : sessions)
        session->forceClose();
}

void SmtpWorker::maybeDrained()
{
    if (!m_shuttingDown || m_drained || !m_sessions.empty())
        return;
    m_drained = true;
    if (m_hooks.drained)
        m_hooks.drained();
}

void SmtpWorker::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_sweep.timerId())
        return QObject::timerEvent(event);
    // No connection came since these ended (else adopt() deleted them).
    m_ended.clear();
    m_sweep.stop();
}

void SmtpWorker::tearDown()
{
    m_hooks = {};
    m_sweep.stop();
    m_ended.clear();
    for (auto &[session, owned] : m_sessions)
        session->setEndHook(nullptr);
    m_sessions.clear();
    m_pool.reset();
}

} // namespace greygate
