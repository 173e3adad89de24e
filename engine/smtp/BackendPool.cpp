// SPDX-License-Identifier: GPL-3.0-or-later
#include "BackendPool.h"

#include "BackendSession.h"
#include "SmtpCounter.h"

#include <algorithm>

namespace greygate {

namespace {

int poolSize(const SmtpProxyOptions &options)
{
    const bool proxyProtocol = options.passClient == SmtpProxyOptions::PassClient::ProxyV1 ||
                               options.passClient == SmtpProxyOptions::PassClient::ProxyV2;
    return proxyProtocol ? 0 : qMax(0, options.backendPoolSize);
}

} // namespace

BackendPool::BackendPool(const SmtpProxyOptions &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_size(poolSize(options))
{
    m_clock.start();
    // Checked a few times per idle period: a connection lives at most 1.5 periods idle,
    // still well inside the backend's own timeout.
    m_expiry.setInterval(qBound(20, m_options.backendPoolIdleMs / 2, 5000));
    connect(&m_expiry, &QTimer::timeout, this, &BackendPool::expire);
}

BackendPool::~BackendPool()
{
    for (Idle &idle : m_idle)
        idle.backend->setOwner(nullptr);
}

BackendPool::Stats BackendPool::Stats::snapshot() const
{
    using smtpcounter::load;
    return {load(taken), load(preopened), load(kept), load(closed)};
}

BackendPool::Stats &BackendPool::Stats::operator+=(const Stats &o)
{
    taken += o.taken;
    preopened += o.preopened;
    kept += o.kept;
    closed += o.closed;
    return *this;
}

std::unique_ptr<BackendSession> BackendPool::take(bool fresh)
{
    if (!isEnabled())
        return nullptr;
    ++m_out;
    while (!fresh && !m_idle.empty()) {
        std::unique_ptr<BackendSession> backend = std::move(m_idle.back().backend);
        backend->setOwner(nullptr);
        m_idle.pop_back();
        if (!backend->isReusable()) { // something arrived unread: the backend's goodbye
            discard(std::move(backend));
            continue;
        }
        smtpcounter::bump(m_stats.taken);
        m_idleGauge.store(int(m_idle.size()), std::memory_order_relaxed);
        return backend;
    }
    if (!fresh && m_out > 1 && m_idle.empty())
        preopen(); // dry while others hold connections: under load
    return nullptr;
}

void BackendPool::release(std::unique_ptr<BackendSession> backend, bool reuse)
{
    m_out = qMax(0, m_out - 1);
    if (!backend)
        return; // connected to nothing here: take() cut its connection, or it is new
    if (!reuse || !isEnabled() || backend->uses() >= m_options.backendPoolMaxUses ||
        !backend->isReady())
        return discard(std::move(backend));
    if (!backend->transactionOpen())
        return keep(std::move(backend));
    // Left within a transaction (the client quit after RCPT): kept once RSET ends it.
    BackendSession *raw = backend.get();
    m_busy.emplace(raw, std::move(backend));
    raw->reset([this, raw](const SmtpReply &) {
        std::unique_ptr<BackendSession> done = unbusy(raw);
        if (done)
            keep(std::move(done)); // keep() checks that the RSET left it clean
    });
}

void BackendPool::keep(std::unique_ptr<BackendSession> backend)
{
    if (!isEnabled() || !backend->isReusable() || int(m_idle.size()) >= m_size)
        return discard(std::move(backend));
    backend->setOwner(this); // backendLost(): dropped at once
    m_idle.push_back({std::move(backend), m_clock.elapsed()});
    smtpcounter::bump(m_stats.kept);
    m_idleGauge.store(int(m_idle.size()), std::memory_order_relaxed);
    if (!m_expiry.isActive())
        m_expiry.start();
}

void BackendPool::discard(std::unique_ptr<BackendSession> backend)
{
    smtpcounter::bump(m_stats.closed);
    m_idleGauge.store(int(m_idle.size()), std::memory_order_relaxed);
    backend->setOwner(nullptr);
    backend->quit();
    // Not deleted here: this may run inside one of its own callbacks.
    backend.release()->deleteLater();
}

void BackendPool::dropIdle(BackendSession *backend)
{
    const auto it = std::find_if(m_idle.begin(), m_idle.end(), [backend](const Idle &idle) {
        return idle.backend.get() == backend;
    });
    if (it == m_idle.end())
        return;
    std::unique_ptr<BackendSession> gone = std::move(it->backend);
    m_idle.erase(it);
    discard(std::move(gone));
}

std::unique_ptr<BackendSession> BackendPool::unbusy(BackendSession *backend)
{
    const auto it = m_busy.find(backend);
    if (it == m_busy.end())
        return nullptr;
    std::unique_ptr<BackendSession> owned = std::move(it->second);
    m_busy.erase(it);
    return owned;
}

void BackendPool::preopen()
{
    // Bounded: a few at once, and never more than the pool could keep.
    if (!isEnabled() || m_opening >= m_options.backendPoolPreopen ||
        int(m_idle.size() + m_busy.size()) >= m_size)
        return;
    ++m_opening;
    smtpcounter::bump(m_stats.preopened);
    auto backend = std::make_unique<BackendSession>(m_options);
    BackendSession *raw = backend.get();
    m_busy.emplace(raw, std::move(backend));
    raw->openIdle([this, raw](const SmtpReply &r) {
        --m_opening;
        std::unique_ptr<BackendSession> opened = unbusy(raw);
        if (!opened)
            return;
        if (r.isPositive())
            keep(std::move(opened));
        else
            discard(std::move(opened)); // the backend is down: sessions will say so
    });
}

void BackendPool::expire()
{
    const qint64 oldest = m_clock.elapsed() - m_options.backendPoolIdleMs;
    // Oldest first: the expired ones are a prefix.
    while (!m_idle.empty() && m_idle.front().since <= oldest) {
        std::unique_ptr<BackendSession> old = std::move(m_idle.front().backend);
        m_idle.erase(m_idle.begin());
        discard(std::move(old));
    }
    if (m_idle.empty())
        m_expiry.stop();
}

void BackendPool::close()
{
    m_closed = true;
    m_expiry.stop();
    std::vector<Idle> idle = std::exchange(m_idle, {});
    for (Idle &each : idle)
        discard(std::move(each.backend));
    for (auto &[raw, owned] : m_busy) {
        raw->abort();
        owned.release()->deleteLater();
    }
    m_busy.clear();
    m_opening = 0;
}

} // namespace greygate
