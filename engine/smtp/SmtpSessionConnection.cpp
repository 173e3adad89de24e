// SPDX-License-Identifier: GPL-3.0-or-later
// SmtpSession's connection: STARTTLS, the client's timeouts, writing the replies, closing, and
// the session's log line.
#include "BackendSession.h"
#include "SmtpLog.h"
#include "SmtpSession.h"
#include "SmtpSocket.h"
#include "util/LogLine.h"
#include "util/Logger.h"

#include <QTimerEvent>

namespace greygate {

namespace {

constexpr int kCloseGraceMs = 5000; // for the last replies to a client that does not read

} // namespace

void SmtpSession::socketDisconnected()
{
    if (m_endReason.isEmpty())
        m_endReason = QByteArrayLiteral("client closed");
    closeNow();
}

void SmtpSession::socketDrained()
{
    if (m_phase == Phase::Handshake && !m_tlsStarted) {
        // The 220 to STARTTLS is out now. Queued: not inside the socket's own call.
        if (!std::exchange(m_upgradeQueued, true))
            QMetaObject::invokeMethod(this, &SmtpSession::upgradeSocket, Qt::QueuedConnection);
        return;
    }
    if (!m_waiting)
        process();
}

void SmtpSession::socketFailed()
{
    if (m_endReason.isEmpty())
        m_endReason = "socket error: " + m_socket->errorString();
    closeNow();
}

void SmtpSession::socketEncrypted()
{
    m_tlsActive = true;
    m_phase = Phase::Commands;
    armTimer();
    process();
}

void SmtpSession::backendDrained(BackendSession *)
{
    if (!m_waiting)
        process();
}

void SmtpSession::startTls()
{
    if (!m_tls)
        return protocolError(502, "5.5.1", "STARTTLS is not offered here");
    if (m_tlsActive)
        return protocolError(503, "5.5.1", "TLS is already active");
    // CVE-2011-0411: whatever the client pipelined after STARTTLS came in plaintext and
    // must not be taken as said inside TLS. Every byte held or already arrived is thrown
    // away, before the 220: after it, the client's TLS hello may arrive at any moment.
    m_in.clear();
    m_socket->discardInput();
    reply(220, "2.0.0", "Ready to start TLS");
    flush();
    m_parser.reset();
    resetTransaction();
    releaseBackend();
    m_helo.clear();
    m_esmtp = false;
    m_enhanced = false;
    m_phase = Phase::Handshake;
    // The connection moves to a QSslSocket once the 220 has left (the plain socket's held
    // output does not move with it), queued: not inside the socket's own notification.
    if (m_socket->bytesToWrite() == 0 && !std::exchange(m_upgradeQueued, true))
        QMetaObject::invokeMethod(this, &SmtpSession::upgradeSocket, Qt::QueuedConnection);
}

void SmtpSession::upgradeSocket()
{
    if (m_tlsStarted || m_phase != Phase::Handshake || m_finished || m_socket->bytesToWrite() > 0)
        return;
    m_tlsStarted = true;
    // Nothing read in plaintext is carried over (startTls() dropped it); encrypted() goes on.
    if (!m_socket->startServerEncryption(*m_tls)) {
        m_endReason = QByteArrayLiteral("cannot start TLS on the connection");
        return closeNow();
    }
}

void SmtpSession::armTimer()
{
    if (m_waiting || m_phase == Phase::Closing || m_phase == Phase::BannerDelay)
        return;
    // Only the deadline moves per command; the timer is (re)started only when it would fire
    // after the new deadline or is not running (onTimeout() re-arms it when it fires early).
    const int ms = m_phase == Phase::Data ? m_options.dataTimeoutMs : m_options.commandTimeoutMs;
    m_deadline = m_age.elapsed() + ms;
    // Started for the shorter of the two timeouts, so that DATA's (3 min against 5) never
    // has to start it again: one timer registration per session, not two.
    if (!m_timer.isActive() || m_timerDue > m_deadline)
        restartTimer(qMin(m_options.commandTimeoutMs, m_options.dataTimeoutMs));
}

void SmtpSession::restartTimer(int ms)
{
    m_timerDue = m_age.elapsed() + ms;
    m_timer.start(ms, this);
}

void SmtpSession::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timer.timerId())
        return QObject::timerEvent(event);
    m_timer.stop(); // single shot: onTimeout() starts it again when it needs to
    onTimeout();
}

void SmtpSession::onTimeout()
{
    if (m_phase == Phase::Commands || m_phase == Phase::Data || m_phase == Phase::Handshake) {
        if (m_waiting) // an answer is awaited, not the client: its own timeouts bound it
            return restartTimer(m_phase == Phase::Data ? m_options.dataTimeoutMs
                                                       : m_options.commandTimeoutMs);
        const qint64 left = m_deadline - m_age.elapsed();
        if (left > 0)
            return restartTimer(int(left));
    }
    switch (m_phase) {
    case Phase::BannerDelay:
        sendBanner();
        process(); // only possible input: none (an early talker was dropped)
        return;
    case Phase::Closing:
        closeNow();
        return;
    case Phase::Handshake:
        m_endReason = QByteArrayLiteral("TLS handshake timeout");
        closeNow();
        return;
    case Phase::Commands:
    case Phase::Data:
        reply(421, "4.4.2", QByteArray(m_options.hostname + " Error: timeout exceeded"));
        close(m_phase == Phase::Data ? "data timeout" : "command timeout");
        return;
    }
}

void SmtpSession::flush()
{
    if (!m_out.isEmpty() && !m_finished)
        m_socket->write(m_out); // emptied, its capacity kept for the next replies
}

void SmtpSession::close(const QByteArray &why)
{
    if (m_phase == Phase::Closing || m_finished)
        return;
    if (m_endReason.isEmpty())
        m_endReason = why;
    m_phase = Phase::Closing;
    releaseBackend(); // a message without its dot is never delivered (never pooled either)
    // The last replies, then the close: with the FIN in their segment when they leave at
    // once (SmtpSocket::writeAndClose()).
    m_socket->writeAndClose(m_out);
    // Usually closed at once (closeNow() ran); replies still held, or TLS closing, are
    // given a bounded time.
    if (!m_finished)
        restartTimer(kCloseGraceMs);
}

void SmtpSession::closeNow()
{
    if (m_finished)
        return;
    m_finished = true;
    m_phase = Phase::Closing;
    m_timer.stop();
    releaseBackend();
    logEnd();
    m_socket->abort();
    if (m_endHook && *m_endHook)
        (*m_endHook)(this);
}

void SmtpSession::logEnd()
{
    // One line per session: written as bytes (Logger::write), not through QDebug and a
    // QString (about 8k instructions a session less, the same bytes in the log).
    if (!lcSmtp().isInfoEnabled())
        return;
    Logger::write(QtInfoMsg, lcSmtp(),
                  LogLine("smtp session")
                      .add("session", qint64(m_id))
                      .add("client", m_clientText)
                      .add("helo", m_helo)
                      .add("tls", m_tlsActive ? "yes" : "no")
                      .add("from", m_sender)
                      .add("rcpts", m_rcptText)
                      .add("messages", m_messages)
                      .add("bytes", m_bytes)
                      .add("backend_reply", m_backendReply)
                      .add("end", m_endReason)
                      .add("ms", m_age.elapsed()));
}

} // namespace greygate
