// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "BackendSession.h"
#include "SmtpProxyOptions.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <atomic>
#include <memory>
#include <unordered_map>
#include <vector>

namespace greygate {

// Idle, greeted backend connections kept for the next client sessions (docs/smtp.md,
// "Backend connection pool"). A new backend connection costs five serial waits before MAIL
// (connect, greeting, EHLO, XCLIENT, EHLO); a pooled one costs none, or one for XCLIENT and
// EHLO in one write when the next client differs from the last.
//
// A session takes a connection for its first accepted recipient (take(); none idle: it
// opens its own, and when other sessions hold connections too, so the pool ran dry under
// load, the pool opens up to backendPoolPreopen more in the background for the next ones)
// and gives it back when it is done with it (release(), once per take()). Only
// a clean connection is kept: ready, no reply outstanding, no 421 or failure seen, under
// backendPoolMaxUses sessions; one left inside a transaction is kept after the backend
// answered RSET. At most backendPoolSize are idle (further ones are closed with QUIT), each
// for at most backendPoolIdleMs, the most recently used handed out first so that the
// others age out under light load. A connection the backend closes or answers while idle
// (EOF, its own 421 timeout) is dropped as soon as that is read; one whose end is noticed
// only on use fails the session's first command, which the session retries once on a
// fresh connection (SmtpSession).
//
// With the PROXY protocol the pool is off: its header names the client once per
// connection and cannot be sent again.
class BackendPool : public QObject, private BackendSession::Owner
{
    Q_OBJECT

public:
    struct Stats
    {
        quint64 taken = 0;     // handed to a session
        quint64 preopened = 0; // opened in the background
        quint64 kept = 0;      // given back and kept
        quint64 closed = 0;    // given back or idle and closed (dirty, full, expired, lost)

        Stats snapshot() const; // every counter read atomically, from any thread
        Stats &operator+=(const Stats &o);
    };

    explicit BackendPool(const SmtpProxyOptions &options, QObject *parent = nullptr);
    ~BackendPool() override;

    bool isEnabled() const { return m_size > 0 && !m_closed; }
    // An idle connection, ready for BackendSession::introduce(); nullptr when none is (or
    // `fresh`): the caller opens its own. Each take() is matched by one release().
    std::unique_ptr<BackendSession> take(bool fresh = false);
    // The connection the taker ended up with (nullptr: none): kept when `reuse`, clean and
    // there is room, else closed.
    void release(std::unique_ptr<BackendSession> backend, bool reuse = true);
    // Closes every idle connection and keeps none from now on (shutdown).
    void close();

    // Readable from any thread (the metrics of --smtp-threads).
    int idleCount() const { return m_idleGauge.load(std::memory_order_relaxed); }
    int busyCount() const { return int(m_busy.size()); } // opening in the background, or RSET
    const Stats &stats() const { return m_stats; }

private:
    struct Idle
    {
        std::unique_ptr<BackendSession> backend;
        qint64 since = 0;
    };

    // BackendSession::Owner: an idle connection that fails (EOF, a 421, garbage) leaves the
    // pool at once. Idle ones are the pool's (setOwner), cut when taken or discarded.
    void backendLost(BackendSession *backend) override { dropIdle(backend); }

    void keep(std::unique_ptr<BackendSession> backend);
    void discard(std::unique_ptr<BackendSession> backend);
    void dropIdle(BackendSession *backend);
    std::unique_ptr<BackendSession> unbusy(BackendSession *backend);
    void preopen();
    void expire();

    const SmtpProxyOptions m_options;
    const int m_size;
    bool m_closed = false;
    std::vector<Idle> m_idle; // oldest first; taken from the back
    std::unordered_map<BackendSession *, std::unique_ptr<BackendSession>> m_busy;
    int m_opening = 0;
    std::atomic<int> m_idleGauge{0}; // m_idle.size() for other threads
    int m_out = 0;                   // take()s not yet released: sessions holding a connection
    QElapsedTimer m_clock;
    QTimer m_expiry;
    Stats m_stats;
};

} // namespace greygate
