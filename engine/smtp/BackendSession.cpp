// SPDX-License-Identifier: GPL-3.0-or-later
#include "BackendSession.h"

#include "SmtpLog.h"
#include "util/ByteAppend.h"
#include "util/LogLine.h"

#include <QPointer>
#include <QtEndian>
#include <utility>

namespace greygate {

namespace {

constexpr qsizetype kMaxInput = 64 * 1024;
constexpr int kMaxReadsPerPass = 8;           // then other connections get their turn
constexpr qsizetype kMaxKeptHeld = 64 * 1024; // content held for a 354: capacity kept up to this

// The 250 of a client introduced without a word: made once, not per message.
const SmtpReply &ok()
{
    static const SmtpReply reply{250, QByteArrayLiteral("2.0.0"), QByteArrayLiteral("Ok")};
    return reply;
}

QHostAddress plain(const QHostAddress &a)
{
    bool ok = false;
    const quint32 v4 = a.toIPv4Address(&ok);
    return ok ? QHostAddress(v4) : a;
}

} // namespace

BackendSession::BackendSession(const SmtpProxyOptions &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &BackendSession::onTimeout);
    m_clock.start();
    m_socket.setListener(this);
}

void BackendSession::detachSocket()
{
    m_socket.setListener(nullptr);
}

void BackendSession::socketFailed()
{
    fail(m_socket.errorString());
}

void BackendSession::socketDrained()
{
    if (m_owner)
        m_owner->backendDrained(this);
}

void BackendSession::notifyDrainedLater()
{
    QTimer::singleShot(0, this, [this] {
        if (m_owner)
            m_owner->backendDrained(this);
    });
}

BackendSession::~BackendSession()
{
    detachSocket();
    m_socket.abort();
}

void BackendSession::open(const Client &client, ReplyCallback ready)
{
    m_client = client;
    m_introducing = true;
    m_done = std::move(ready);
    m_state = State::Connecting;
    arm(m_options.backendConnectTimeoutMs);
    m_socket.connectTo(m_options.backendAddress, m_options.backendPort);
}

void BackendSession::openIdle(ReplyCallback ready)
{
    open(Client(), std::move(ready));
    m_introducing = false;
}

QByteArray BackendSession::xclientLine() const
{
    const auto mode = m_options.passClient;
    if ((mode != SmtpProxyOptions::PassClient::Auto &&
         mode != SmtpProxyOptions::PassClient::Xclient) ||
        !m_caps.hasXclient())
        return {};
    // Once per client session: only the attributes the backend takes are made (smtp-sink
    // takes NAME and HELO, so no address is turned into text for it).
    QByteArray line = QByteArrayLiteral("XCLIENT");
    const auto takes = [this](QByteArrayView name) {
        return (m_xclientTakes & bit(name)) != 0;
    };
    const auto add = [&](QByteArrayView name, QByteArrayView value) {
        line.append(' ').append(name).append('=').append(xtext(value));
    };
    if (takes("ADDR")) {
        const QHostAddress address = plain(m_client.address);
        // XCLIENT_README: an IPv6 address carries the IPV6: prefix.
        const QByteArray addr = address.toString().toLatin1();
        add("ADDR", address.protocol() == QAbstractSocket::IPv6Protocol ? QByteArray("IPV6:" + addr)
                                                                        : addr);
    }
    if (takes("PORT"))
        add("PORT", QByteArray::number(m_client.port));
    if (takes("NAME"))
        add("NAME", "[UNAVAILABLE]");
    if (takes("HELO"))
        add("HELO", m_client.helo.isEmpty() ? QByteArrayView("[UNAVAILABLE]")
                                            : QByteArrayView(m_client.helo));
    if (takes("PROTO"))
        add("PROTO", m_client.protocol);
    return line;
}

int BackendSession::bit(QByteArrayView attribute)
{
    static constexpr const char *names[] = {"ADDR", "PORT", "NAME", "HELO", "PROTO"};
    for (int i = 0; i < 5; ++i) {
        if (attribute == names[i])
            return 1 << i;
    }
    return 0;
}

bool BackendSession::sameForXclient(const Client &a, const Client &b) const
{
    // Per pooled use: the bits as constants (bit() by name compared strings, ~800
    // instructions a message).
    constexpr int kAddr = 1 << 0, kPort = 1 << 1, kHelo = 1 << 3, kProto = 1 << 4;
    return (!(m_xclientTakes & kAddr) || a.address == b.address) &&
           (!(m_xclientTakes & kPort) || a.port == b.port) &&
           (!(m_xclientTakes & kHelo) || a.helo == b.helo) &&
           (!(m_xclientTakes & kProto) || a.protocol == b.protocol);
}

void BackendSession::introduce(const Client &client, ReplyCallback ready)
{
    m_done = std::move(ready);
    if (!isOpen()) // closed under the caller's feet: its failure was told to nobody
        return finish(SmtpReply::make(451, "4.4.1", "The mail server is not available now"));
    if (m_state != State::Ready || !m_pending.empty())
        return fail("client introduced while the backend is not ready");
    ++m_uses;
    if (!m_lastXclient.isEmpty() && sameForXclient(client, m_client)) {
        // The backend holds exactly these attributes already (the same HELO from the same
        // sending host, as a queue flush does): nothing to make or say.
        m_client = client;
        finish(ok());
        return;
    }
    m_client = client;
    const QByteArray line = xclientLine();
    if (line.isEmpty() && m_options.passClient == SmtpProxyOptions::PassClient::Xclient)
        return fail("the backend does not offer XCLIENT (--smtp-pass-client=xclient)");
    if (line.isEmpty() || line == m_lastXclient) {
        // Nothing to tell: the attributes are persistent across transactions.
        finish(ok());
        return;
    }
    m_lastXclient = line;
    // XCLIENT may be pipelined (XCLIENT_README); EHLO ends the group (RFC 2920).
    m_ehloPipelined = m_caps.pipelining;
    cork();
    send(line, State::Xclient, m_options.commandTimeoutMs);
    if (m_ehloPipelined)
        put(QByteArray("EHLO " + m_options.hostname));
    uncork();
}

void BackendSession::reset(ReplyCallback done)
{
    command(QByteArrayLiteral("RSET"), [this, done = std::move(done)](const SmtpReply &r) {
        if (r.isPositive())
            m_transactionOpen = false;
        if (done)
            done(r);
    });
}

bool BackendSession::isReusable() const
{
    return isReady() && !m_transactionOpen && m_uses < m_options.backendPoolMaxUses &&
           m_socket.isOpen() && !m_socket.atEnd() && m_in.isEmpty() && m_out.isEmpty() &&
           !m_socket.hasUnreadInput();
}

void BackendSession::onConnected()
{
    if (m_options.passClient == SmtpProxyOptions::PassClient::ProxyV1) {
        m_socket.write(QByteArrayView(proxyV1(m_client)));
        m_passedAs = QByteArrayLiteral("proxy-v1");
    } else if (m_options.passClient == SmtpProxyOptions::PassClient::ProxyV2) {
        m_socket.write(QByteArrayView(proxyV2(m_client)));
        m_passedAs = QByteArrayLiteral("proxy-v2");
    }
    m_state = State::Greeting;
    arm(m_options.commandTimeoutMs);
}

void BackendSession::send(const QByteArray &line, State next, int timeoutMs)
{
    m_state = next;
    put(line);
    arm(timeoutMs);
}

void BackendSession::command(const QByteArray &line, ReplyCallback done)
{
    if (m_state != State::Ready || (!m_pending.empty() && !m_caps.pipelining)) {
        m_done = std::move(done);
        fail("command while the backend is not ready");
        return;
    }
    // A long queue is a caller's bug, not a backend's: the session sends MAIL, one RCPT and
    // DATA at most before it waits.
    Q_ASSERT(m_pending.size() < 128);
    if (line.startsWith("MAIL "))
        m_transactionOpen = true;
    m_pending.push_back(std::move(done));
    put(line);
    if (m_pending.size() == 1)
        arm(m_options.commandTimeoutMs);
}

void BackendSession::startData()
{
    if (m_state != State::Ready || !m_pending.empty() || !m_caps.pipelining) {
        fail("DATA while the backend is not ready");
        return;
    }
    m_held.resize(0); // its capacity kept (onDataReply())
    m_dotHeld = false;
    send(QByteArrayLiteral("DATA"), State::DataPending, m_options.commandTimeoutMs);
}

void BackendSession::put(QByteArrayView line)
{
    appendBytes(m_out, {line, "\r\n"}); // one resize and a copy, not insert()'s general path
    if (m_corks == 0)
        flushOut();
}

void BackendSession::flushOut()
{
    m_socket.write(m_out); // emptied, its capacity kept for the next command
}

void BackendSession::uncork()
{
    if (m_corks > 0 && --m_corks == 0)
        flushOut();
}

void BackendSession::stuffInto(QByteArray &out, QByteArrayView content)
{
    out.reserve(out.size() + content.size() + content.size() / 64 + 2);
    // Copied in runs, cut only before a line that starts with a dot (rare), which gets its
    // dot doubled: re-stuffed, the content never holds a line that ends DATA.
    qsizetype run = 0;
    qsizetype start = 0;
    while (start < content.size()) {
        if (content[start] == '.') {
            out.append(content.sliced(run, start - run)).append('.');
            run = start;
        }
        const qsizetype lf = content.indexOf('\n', start);
        if (lf < 0)
            break;
        start = lf + 1;
    }
    out.append(content.sliced(run));
}

void BackendSession::sendData(QByteArrayView content)
{
    // No timer here: a backend that stops reading fills its socket, the session then stops
    // reading the client, and the client's DATA timeout ends both. Held content counts in
    // pendingOutput(), so the same high-water mark bounds it.
    if (m_state == State::Data) {
        stuffInto(m_out, content);
        if (m_corks == 0)
            flushOut();
    } else if (m_state == State::DataPending) {
        stuffInto(m_held, content);
    }
}

void BackendSession::endData(ReplyCallback done)
{
    if (m_state == State::DataPending) {
        m_done = std::move(done);
        m_dotHeld = true; // the dot follows the content once the 354 comes
        return;
    }
    if (m_state == State::DataRefused) {
        // The backend refused DATA: its reply is the message's. Its transaction is left
        // half-open, so the connection ends here as lock-step does after a refused DATA.
        m_state = State::Closed;
        disarm();
        detachSocket();
        m_out.append("QUIT\r\n");
        flushOut();
        m_socket.disconnectFromHost();
        QTimer::singleShot(0, this, [done = std::move(done), r = m_dataRefusal] { done(r); });
        return;
    }
    if (m_state != State::Data) {
        m_done = std::move(done);
        fail("end of data outside DATA");
        return;
    }
    m_done = std::move(done);
    send(QByteArrayLiteral("."), State::Final, m_options.finalTimeoutMs);
}

void BackendSession::onDataReply(const SmtpReply &reply)
{
    if (reply.code != 354) {
        m_held.clear();
        m_dataRefusal = reply;
        m_state = State::DataRefused;
        if (m_dotHeld) {
            m_dotHeld = false;
            endData(std::exchange(m_done, nullptr));
        } else {
            // The held content is gone: a client held back may go on (queued: the session
            // must not run inside this reply's parsing).
            notifyDrainedLater();
        }
        return;
    }
    m_state = State::Data;
    const bool held = !m_held.isEmpty();
    if (held) {
        // Sent with the dot when that came too (one send()). Moved, not copied, when nothing
        // else waits; the held buffer's capacity is kept for the next message (content
        // usually arrives before the 354), unless a large message grew it.
        if (m_out.isEmpty())
            m_out.swap(m_held);
        else
            m_out.append(m_held);
        if (m_held.capacity() > kMaxKeptHeld)
            m_held = QByteArray();
        else
            m_held.resize(0);
        if (m_corks == 0)
            flushOut();
    }
    if (m_dotHeld) {
        m_dotHeld = false;
        send(QByteArrayLiteral("."), State::Final, m_options.finalTimeoutMs);
    } else if (held) {
        // The content is on its way: a client held back by it may go on. Nothing held (the
        // usual case: the 354 came before the content), nobody waits, no wake-up.
        notifyDrainedLater();
    }
}

void BackendSession::quit()
{
    if (m_state == State::Ready && m_pending.empty()) {
        m_out.append("QUIT\r\n");
        flushOut(); // now, corked or not: the object is usually deleted before anything else
    }
    m_state = State::Closed;
    m_done = nullptr;
    m_pending.clear();
    disarm();
    detachSocket();
    m_socket.disconnectFromHost();
}

void BackendSession::abort()
{
    m_state = State::Closed;
    m_done = nullptr;
    m_pending.clear();
    disarm();
    detachSocket();
    m_socket.abort();
}

void BackendSession::onReadyRead()
{
    QPointer<BackendSession> alive(this);
    // What the replies' handlers write (the next command, the content held for a 354, a
    // session's next MAIL and RCPT) goes out in one send() after the last of them.
    cork();
    for (int reads = 0; reads < kMaxReadsPerPass; ++reads) {
        const qsizetype got = m_socket.read(m_in, m_in.size() + kMaxInput);
        if (got == 0)
            break; // all read: the notifier says when more comes
        if (got < 0) {
            fail(m_socket.hasFailed() ? m_socket.errorString()
                                      : QByteArrayLiteral("backend closed the connection"));
            break;
        }
        while (alive && isOpen()) {
            SmtpReply reply;
            QList<QByteArray> lines;
            const SmtpReplyParser::Status s =
                m_parser.take(&m_in, &reply, m_state == State::Ehlo ? &lines : nullptr);
            if (s == SmtpReplyParser::Status::NeedMore)
                break;
            if (s == SmtpReplyParser::Status::Error) {
                fail("malformed reply from the backend");
                break;
            }
            onReply(reply, lines);
        }
        if (!alive || !isOpen())
            break;
        if (reads + 1 == kMaxReadsPerPass && m_socket.hasUnreadInput())
            QMetaObject::invokeMethod(this, &BackendSession::onReadyRead, Qt::QueuedConnection);
    }
    if (alive)
        uncork();
}

void BackendSession::onReply(const SmtpReply &reply, const QList<QByteArray> &lines)
{
    disarm();
    // 421: the backend is closing the connection (its idle timeout, a shutdown, too many
    // errors). Whatever was outstanding is lost, the connection never reused.
    if (reply.code == 421)
        return fail("backend closing the connection: " + reply.summary());
    switch (m_state) {
    case State::Greeting:
        if (reply.code != 220)
            return fail("backend greeting " + reply.summary());
        send("EHLO " + m_options.hostname, State::Ehlo, m_options.commandTimeoutMs);
        return;
    case State::Ehlo:
        if (reply.code != 250)
            return fail("backend EHLO " + reply.summary());
        m_caps = BackendCapabilities::fromEhlo(lines);
        m_xclientTakes = 0;
        for (const QByteArray &attribute : std::as_const(m_caps.xclient))
            m_xclientTakes |= bit(attribute);
        m_state = State::Ready;
        if (std::exchange(m_introducing, false))
            return introduce(m_client, std::exchange(m_done, nullptr));
        finish(reply);
        return;
    case State::Xclient:
        // Postfix answers with a new greeting (220); smtp-sink and others with 250.
        if (!reply.isPositive())
            return fail("backend refused XCLIENT: " + reply.summary());
        m_passedAs = QByteArrayLiteral("xclient");
        if (std::exchange(m_ehloPipelined, false)) {
            m_state = State::Ehlo;
            arm(m_options.commandTimeoutMs);
            return;
        }
        send("EHLO " + m_options.hostname, State::Ehlo, m_options.commandTimeoutMs);
        return;
    case State::Ready: {
        if (m_pending.empty())
            return fail("unexpected reply from the backend: " + reply.summary());
        ReplyCallback done = std::move(m_pending.front());
        m_pending.pop_front();
        if (reply.code == 354) // DATA through command(): lock-step, nothing may follow it
            m_state = State::Data;
        if (!m_pending.empty())
            arm(m_options.commandTimeoutMs);
        if (done)
            done(reply);
        return;
    }
    case State::DataPending:
        return onDataReply(reply);
    case State::Final:
        m_state = State::Ready;
        m_transactionOpen = false;
        finish(reply);
        return;
    case State::Data:
        // A reply in the middle of the message: the backend gave up on it.
        return fail("backend replied during DATA: " + reply.summary());
    default:
        return fail("unexpected reply from the backend: " + reply.summary());
    }
}

void BackendSession::arm(int ms)
{
    // Per command only the deadline moves: the QTimer is restarted only when it would fire
    // after the new deadline or is not running, and re-arms itself when it fires early.
    m_deadline = m_clock.elapsed() + ms;
    m_armed = true;
    if (!m_timer.isActive() || m_timerDue > m_deadline) {
        m_timerDue = m_deadline;
        m_timer.start(ms);
    }
}

void BackendSession::disarm()
{
    m_armed = false; // a running timer fires once more, finds nothing armed, and stops
}

void BackendSession::onTimeout()
{
    if (!m_armed)
        return;
    const qint64 left = m_deadline - m_clock.elapsed();
    if (left > 0) {
        m_timerDue = m_deadline;
        m_timer.start(int(left));
        return;
    }
    fail("backend timeout");
}

void BackendSession::finish(const SmtpReply &reply)
{
    ReplyCallback done = std::move(m_done);
    m_done = nullptr;
    if (done)
        done(reply);
}

void BackendSession::fail(const QByteArray &why)
{
    if (!isOpen()) {
        // Asked for something after the end (a command on a connection already lost): the
        // caller still gets its answer.
        if (m_done)
            finish(SmtpReply::make(451, "4.4.1",
                                   "The mail server is not available now, please try again later"));
        return;
    }
    const State was = m_state;
    m_state = State::Failed;
    std::deque<ReplyCallback> pending = std::exchange(m_pending, {});
    m_held.clear();
    m_out.clear();
    disarm();
    detachSocket();
    m_socket.abort();
    qCWarning(lcSmtp).noquote() << LogLine("backend failed")
                                       .add("backend", m_options.backendAddress.toString())
                                       .add("port", qint64(m_options.backendPort))
                                       .add("error", why)
                                       .text();
    SmtpReply reply;
    if (was == State::Final || was == State::Data || was == State::DataPending ||
        was == State::DataRefused)
        reply = SmtpReply::make(451, "4.4.2",
                                "Connection to the mail server lost: the message was not "
                                "accepted, please try again later");
    else
        reply = SmtpReply::make(451, "4.4.1",
                                "The mail server is not available now, please try again later");
    finish(reply);
    // Every command still outstanding gets the failure, in order (a pipelined RCPT too).
    QPointer<BackendSession> alive(this);
    for (ReplyCallback &done : pending) {
        if (!alive)
            return;
        if (done)
            done(reply);
    }
    if (alive && m_owner)
        m_owner->backendLost(this);
}

QByteArray BackendSession::xtext(QByteArrayView value)
{
    // RFC 3461 xtext, as XCLIENT wants it: '+', '=' and anything outside '!'..'~' as +HH.
    static constexpr char hex[] = "0123456789ABCDEF";
    QByteArray out;
    out.reserve(value.size());
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u < '!' || u > '~' || c == '+' || c == '=') {
            const char escaped[3] = {'+', hex[u >> 4], hex[u & 0xf]};
            out.append(escaped, 3);
        } else {
            out.append(c);
        }
    }
    return out;
}

QByteArray BackendSession::proxyV1(const Client &client)
{
    const QHostAddress src = plain(client.address);
    const QHostAddress dst = plain(client.localAddress);
    const bool v4 = src.protocol() == QAbstractSocket::IPv4Protocol &&
                    dst.protocol() == QAbstractSocket::IPv4Protocol;
    if (!v4 && (src.protocol() != QAbstractSocket::IPv6Protocol ||
                dst.protocol() != QAbstractSocket::IPv6Protocol))
        return QByteArrayLiteral("PROXY UNKNOWN\r\n");
    return QByteArrayLiteral("PROXY ") + (v4 ? "TCP4 " : "TCP6 ") + src.toString().toLatin1() +
           ' ' + dst.toString().toLatin1() + ' ' + QByteArray::number(client.port) + ' ' +
           QByteArray::number(client.localPort) + "\r\n";
}

QByteArray BackendSession::proxyV2(const Client &client)
{
    static const char signature[12] = {'\r', '\n', '\r', '\n', '\0', '\r',
                                       '\n', 'Q',  'U',  'I',  'T',  '\n'};
    QByteArray out(signature, 12);
    const QHostAddress src = plain(client.address);
    const QHostAddress dst = plain(client.localAddress);
    const auto port = [](quint16 p) {
        const quint16 be = qToBigEndian(p);
        return QByteArray(reinterpret_cast<const char *>(&be), 2);
    };
    if (src.protocol() == QAbstractSocket::IPv4Protocol &&
        dst.protocol() == QAbstractSocket::IPv4Protocol) {
        out.append(char(0x21)).append(char(0x11)).append(char(0)).append(char(12));
        const quint32 s = qToBigEndian(src.toIPv4Address());
        const quint32 d = qToBigEndian(dst.toIPv4Address());
        out.append(reinterpret_cast<const char *>(&s), 4)
            .append(reinterpret_cast<const char *>(&d), 4);
    } else if (src.protocol() == QAbstractSocket::IPv6Protocol &&
               dst.protocol() == QAbstractSocket::IPv6Protocol) {
        out.append(char(0x21)).append(char(0x21)).append(char(0)).append(char(36));
        const Q_IPV6ADDR s = src.toIPv6Address();
        const Q_IPV6ADDR d = dst.toIPv6Address();
        out.append(reinterpret_cast<const char *>(s.c), 16)
            .append(reinterpret_cast<const char *>(d.c), 16);
    } else { // LOCAL: the backend uses the connection's own addresses
        out.append(char(0x20)).append(char(0)).append(char(0)).append(char(0));
        return out;
    }
    out.append(port(client.port)).append(port(client.localPort));
    return out;
}

} // namespace greygate
