// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "BackendCapabilities.h"
#include "BackendPool.h"
#include "CrossThreadQueue.h"
#include "SmtpProxyOptions.h"
#include "SmtpSession.h"
#include "SmtpStats.h"

#include <QBasicTimer>
#include <QHostAddress>
#include <QObject>
#include <QSslConfiguration>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace greygate {

class SmtpDecider;

// The client sessions of one thread (docs/smtp.md, --smtp-threads): the sessions, their
// backend pool shard, their counters. With --smtp-threads=0 the server has one, on the main
// thread; with N, one per I/O thread, each fed by the accepting main thread (adoptLater())
// and talking back only through `Hooks`. Everything but adoptLater(), stats() and
// poolStats() runs on the worker's own thread.
class SmtpWorker final : public QObject
{
    Q_OBJECT

public:
    struct Hooks
    {
        SmtpDecider *decider = nullptr; // on this worker's thread
        SmtpSession::MessageSink messages;
        std::function<void(const QHostAddress &client)> sessionEnded;
        std::function<void()> drained; // after shutdown(), once no session is left
    };

    SmtpWorker(const SmtpProxyOptions &options, const std::optional<QSslConfiguration> &tls,
               QObject *parent = nullptr);
    ~SmtpWorker() override;

    // On the worker's thread, before the first session.
    void start(Hooks hooks);
    // On the worker's thread: a connection the server admitted (accept4's descriptor, now
    // the worker's, and its peer).
    void adopt(int fd, const QHostAddress &client, quint16 port, quint64 id);
    // Any thread: the same, handed to the worker's thread.
    void adoptLater(int fd, const QHostAddress &client, quint16 port, quint64 id);

    void setCapabilities(const BackendCapabilities &probed) { m_probed = probed; }
    void shutdown();
    void forceClose();
    // Deletes every session and pooled connection now, on the worker's thread (before the
    // thread stops), without the hooks.
    void tearDown();

    int sessionCount() const { return int(m_sessions.size()); }
    SmtpStats stats() const { return m_stats.snapshot(); } // any thread
    BackendPool::Stats poolStats() const;                  // any thread
    const BackendPool *pool() const { return m_pool.get(); }

private:
    struct Handover
    {
        int fd = -1;
        quint64 id = 0;
        QHostAddress client; // as the server counted it
        quint16 port = 0;
    };

    void adoptAll(std::vector<Handover> &batch);
    void onSessionFinished(SmtpSession *session);
    void maybeDrained();
    void timerEvent(QTimerEvent *event) override;

    const SmtpProxyOptions m_options;
    const std::optional<QSslConfiguration> m_tls;
    Hooks m_hooks;
    BackendCapabilities m_probed;
    std::unique_ptr<BackendPool> m_pool; // made on the worker's thread, before the sessions
    // Each session's end hook (one for all: no connection per session).
    const SmtpSession::EndHook m_sessionEnded = [this](SmtpSession *s) {
        onSessionFinished(s);
    };
    std::unordered_map<SmtpSession *, std::unique_ptr<SmtpSession>> m_sessions;
    // Finished sessions, deleted at the next connection adopted or by m_sweep, never inside
    // their own call: a deleteLater() each was a posted event (and often an eventfd wake-up)
    // per message.
    std::vector<std::unique_ptr<SmtpSession>> m_ended;
    QBasicTimer m_sweep;
    SmtpStats m_stats;
    CrossThreadQueue<Handover> m_handovers;
    bool m_shuttingDown = false;
    bool m_drained = false;
};

} // namespace greygate
