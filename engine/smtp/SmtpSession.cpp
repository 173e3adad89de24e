// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpSession.h"

#include "BackendPool.h"
#include "BackendSession.h"
#include "DropFront.h"
#include "SmtpDecider.h"
#include "SmtpSocket.h"
#include "util/ByteAppend.h"

#include <QScopeGuard>
#include <charconv>
#include <utility>

namespace greygate {

namespace {

constexpr qsizetype kMaxInput = 64 * 1024;    // bytes of client input held at once
constexpr qint64 kMaxOutput = 256 * 1024;     // replies queued to a client that does not read
constexpr qint64 kBackendHighWater = 1 << 20; // message bytes queued to the backend
constexpr int kMaxCommandsPerPass = 200;      // then other sessions get their turn
constexpr int kMaxLoggedRecipients = 50;
constexpr qsizetype kMaxHelo = 255;

// QHostAddress::toString() goes through QString for an IPv4 address, per connection.
QByteArray addressText(const QHostAddress &address)
{
    if (address.protocol() != QAbstractSocket::IPv4Protocol)
        return address.toString().toLatin1();
    const quint32 v4 = address.toIPv4Address();
    char text[16];
    int length = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        const unsigned octet = (v4 >> shift) & 0xff;
        if (octet >= 100)
            text[length++] = char('0' + octet / 100);
        if (octet >= 10)
            text[length++] = char('0' + octet / 10 % 10);
        text[length++] = char('0' + octet % 10);
        if (shift > 0)
            text[length++] = '.';
    }
    return QByteArray(text, length);
}

} // namespace

SmtpSession::SmtpSession(SmtpSocket *socket, quint64 id, const SmtpProxyOptions &options,
                         SmtpDecider &decider, const QSslConfiguration *tls,
                         const BackendCapabilities *backendProbe, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_id(id)
    , m_options(options)
    , m_decider(decider)
    , m_tls(tls)
    , m_probe(backendProbe)
    , m_parser(options.normaliseBareLf)
    , m_reader(0, options.normaliseBareLf)
{
    m_client = m_socket->peerAddress(); // IPv4-mapped ones as IPv4 (SmtpListener)
    m_clientText = addressText(m_client);
    attachSocket();
    m_age.start();
}

void SmtpSession::attachSocket()
{
    m_socket->setParent(this);
    m_socket->setListener(this);
}

SmtpSession::~SmtpSession()
{
    // Its child, deleted after this body: nothing it says then may reach this session.
    m_socket->setListener(nullptr);
    if (m_backend) {
        m_backend->setOwner(nullptr);
        m_backend->abort();
    }
}

void SmtpSession::setRecording(SmtpStats *stats, MessageSink messages)
{
    m_stats = stats ? stats : &m_ownStats;
    m_messageSink = std::move(messages);
}

void SmtpSession::start()
{
    // TCP_NODELAY comes from the listening socket (SmtpListener).
    m_phase = Phase::BannerDelay;
    if (m_options.bannerDelayMs > 0)
        return restartTimer(m_options.bannerDelayMs);
    sendBanner(); // now: a zero timer costs a pass and a timer per connection
}

void SmtpSession::sendBanner()
{
    m_phase = Phase::Commands;
    SmtpReply::formatTo(m_out, 220, {}, QByteArray(m_options.hostname + " ESMTP greygate"), false);
    flush();
    armTimer();
}

void SmtpSession::shutdown()
{
    m_shuttingDown = true;
    if (m_phase == Phase::BannerDelay)
        return closeNow();
    if (m_phase == Phase::Commands && !m_waiting && !m_tx.mail)
        forceClose();
}

void SmtpSession::forceClose()
{
    if (m_phase == Phase::Closing || m_finished)
        return;
    m_shuttingDown = true;
    if (m_phase != Phase::Handshake && m_phase != Phase::BannerDelay)
        reply(421, "4.3.2",
              QByteArray(m_options.hostname + " Service shutting down, try again later"));
    close("shutdown");
}

void SmtpSession::onReadyRead()
{
    if (m_phase == Phase::BannerDelay) {
        // An early talker: a real MTA waits for the greeting (RFC 5321 §3.1); spamware
        // that does not is refused before it costs anything more.
        reply(554, {},
              QByteArray(m_options.hostname + " Protocol error: talked before the greeting"));
        close("early talker");
        return;
    }
    if (m_phase == Phase::Closing) {
        m_socket->discardInput();
        return;
    }
    process();
}

bool SmtpSession::blocked() const
{
    return m_socket->bytesToWrite() > kMaxOutput ||
           (m_phase == Phase::Data && m_backend && m_backend->pendingOutput() > kBackendHighWater);
}

void SmtpSession::process()
{
    if (m_processing)
        return; // the running loop takes up whatever this call was for
    m_processing = true;
    const auto done = qScopeGuard([this] { m_processing = false; });
    int budget = kMaxCommandsPerPass;
    bool progressed = false; // a whole line was taken in this pass
    bool needInput = m_in.isEmpty();
    while (!m_waiting && (m_phase == Phase::Commands || m_phase == Phase::Data) && !blocked()) {
        if (budget-- <= 0) {
            QMetaObject::invokeMethod(this, &SmtpSession::process, Qt::QueuedConnection);
            break;
        }
        if (m_phase == Phase::Commands && m_shuttingDown && !m_tx.mail) {
            forceClose();
            break;
        }
        if (needInput) {
            // Read only when what is held cannot make progress: one recv() per command
            // that arrives on its own, none for a pipelined one already here.
            const qsizetype got = m_socket->read(m_in, kMaxInput);
            if (got < 0)
                return inputEnded();
            if (got == 0) {
                flush();
                // Part of a line does not extend the command timeout: a client dribbling a
                // byte at a time (slowloris) would otherwise hold the session for ever.
                if (progressed || !m_timer.isActive())
                    armTimer();
                return;
            }
            needInput = false;
        }
        if (m_phase == Phase::Data) {
            const qsizetype before = m_in.size();
            processData();
            needInput = m_in.isEmpty() || m_in.size() == before;
            continue;
        }
        qsizetype used = 0;
        QByteArrayView line; // into m_in: parsed (its parts copied) before m_in changes
        const SmtpCommandParser::LineStatus status = m_parser.takeLine(m_in, &used, &line);
        const SmtpCommand cmd = status == SmtpCommandParser::LineStatus::Line
                                    ? SmtpCommandParser::parse(line)
                                    : SmtpCommand();
        dropFront(m_in, used);
        progressed = progressed || status != SmtpCommandParser::LineStatus::NeedMore;
        needInput = m_in.isEmpty();
        switch (status) {
        case SmtpCommandParser::LineStatus::NeedMore:
            needInput = true;
            break;
        case SmtpCommandParser::LineStatus::TooLong:
            protocolError(500, "5.5.2", "Line too long: a command is at most 512 bytes");
            break;
        case SmtpCommandParser::LineStatus::BareLf:
            protocolError(500, "5.5.2", "Bare <LF> received: end command lines with <CR><LF>");
            break;
        case SmtpCommandParser::LineStatus::BadByte:
            protocolError(500, "5.5.2", "Bare <CR> or NUL in a command");
            break;
        case SmtpCommandParser::LineStatus::Line:
            handle(cmd);
            break;
        }
    }
    flush();
    armTimer();
}

void SmtpSession::inputEnded()
{
    if (m_socket->hasFailed()) { // reset, or another error: nothing can be said any more
        if (m_endReason.isEmpty())
            m_endReason = "socket error: " + m_socket->errorString();
        return closeNow();
    }
    // The client will say nothing more (a close, or a half-close after its last command):
    // every command it sent was answered, and the answers still go out before the close. A
    // message without its dot is never delivered.
    close(m_phase == Phase::Data ? "client closed in DATA" : "client closed");
}

void SmtpSession::handle(const SmtpCommand &cmd)
{
    if (!cmd.ok()) {
        protocolError(cmd.error.code, cmd.error.status, cmd.error.text);
        return;
    }
    using Verb = SmtpCommand::Verb;
    switch (cmd.verb) {
    case Verb::Helo:
    case Verb::Ehlo:
        return ehlo(cmd);
    case Verb::Mail:
        return mail(cmd);
    case Verb::Rcpt:
        return rcpt(cmd);
    case Verb::Data:
        return data();
    case Verb::Rset:
        return rset();
    case Verb::Noop:
        return reply(250, "2.0.0", "Ok");
    case Verb::Quit:
        reply(221, "2.0.0", "Bye");
        return close(QByteArrayLiteral("quit"));
    case Verb::Vrfy:
    case Verb::Expn:
        return reply(502, "5.5.1", "VRFY and EXPN are disabled");
    case Verb::Help:
        return reply(214, "2.0.0",
                     "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT STARTTLS HELP");
    case Verb::StartTls:
        return startTls();
    case Verb::Auth:
        return protocolError(502, "5.5.1", "Authentication is not offered here");
    case Verb::Bdat:
        return protocolError(502, "5.5.1", "BDAT is not offered here: use DATA");
    case Verb::Unknown:
        break;
    }
    protocolError(500, "5.5.2", "Command not recognized");
}

const BackendCapabilities &SmtpSession::capabilities() const
{
    if (m_backend && m_backend->capabilities().known)
        return m_backend->capabilities();
    if (m_probe && m_probe->known)
        return *m_probe;
    // Never probed: what every MTA in use offers, and not SMTPUTF8.
    static const BackendCapabilities common = [] {
        BackendCapabilities c;
        c.pipelining = true;
        c.eightBitMime = true;
        c.enhancedStatusCodes = true;
        return c;
    }();
    return common;
}

void SmtpSession::ehlo(const SmtpCommand &cmd)
{
    resetTransaction();
    releaseBackend(); // the backend heard the previous HELO name (XCLIENT)
    m_helo = cmd.argument.trimmed().left(kMaxHelo);
    if (cmd.verb == SmtpCommand::Verb::Helo) {
        m_esmtp = false;
        m_enhanced = false;
        SmtpReply::formatTo(m_out, 250, {}, m_options.hostname, false);
        return;
    }
    m_esmtp = true;
    m_enhanced = true;
    const BackendCapabilities &caps = capabilities();
    qint64 size = m_options.maxMessageSize;
    if (caps.size > 0 && (size <= 0 || caps.size < size))
        size = caps.size;
    QByteArray text = m_options.hostname + "\nPIPELINING";
    if (size > 0)
        text.append("\nSIZE ").append(QByteArray::number(size));
    if (caps.eightBitMime)
        text.append("\n8BITMIME");
    if (caps.smtpUtf8)
        text.append("\nSMTPUTF8");
    text.append("\nENHANCEDSTATUSCODES");
    if (m_tls && !m_tlsActive)
        text.append("\nSTARTTLS");
    SmtpReply::formatTo(m_out, 250, {}, text, false); // RFC 2034: EHLO has none
}

void SmtpSession::mail(const SmtpCommand &cmd)
{
    if (m_helo.isEmpty())
        return reply(503, "5.5.1", "Send EHLO or HELO first");
    if (m_tx.mail)
        return reply(503, "5.5.1", "Nested MAIL command");
    const BackendCapabilities &caps = capabilities();
    if (cmd.smtpUtf8 && !(m_esmtp && caps.smtpUtf8))
        return reply(555, "5.6.7", "SMTPUTF8 is not offered here");
    if (cmd.eightBitPath && !cmd.smtpUtf8)
        return reply(553, "5.6.7", "Non-ASCII address: MAIL needs the SMTPUTF8 parameter");
    if ((cmd.body != SmtpCommand::Body::Unspecified || cmd.size >= 0) && !m_esmtp)
        return reply(555, "5.5.4", "MAIL parameters need EHLO");
    qint64 limit = m_options.maxMessageSize;
    if (caps.size > 0 && (limit <= 0 || caps.size < limit))
        limit = caps.size;
    if (limit > 0 && cmd.size > limit)
        return reply(552, "5.3.4",
                     QByteArray("Message size exceeds the limit of " + QByteArray::number(limit) +
                                " bytes"));
    m_tx = Transaction();
    m_tx.mail = true;
    m_tx.sender = cmd.address;
    m_tx.mailCommand = cmd;
    m_tx.number = ++m_transactions;
    m_sender = cmd.address;
    reply(250, "2.1.0", "Ok");
}

void SmtpSession::rcpt(const SmtpCommand &cmd)
{
    if (!m_tx.mail)
        return reply(503, "5.5.1", "Need MAIL before RCPT");
    if (cmd.eightBitPath && !m_tx.mailCommand.smtpUtf8)
        return reply(553, "5.6.7", "Non-ASCII address: MAIL needs the SMTPUTF8 parameter");
    if (m_tx.decided >= m_options.maxRecipients)
        return reply(452, "4.5.3", "Too many recipients");
    if (m_tx.backendLost)
        return reply(451, "4.4.2", "Connection to the mail server lost, please try again later");
    ++m_tx.decided;
    wait();
    const QByteArray recipient = cmd.address;
    m_decider.decide(query(recipient), this,
                     [this, recipient](const SmtpVerdict &v) { onVerdict(recipient, v); });
}

SmtpRecipientQuery SmtpSession::query(const QByteArray &recipient) const
{
    SmtpRecipientQuery q;
    q.clientAddress = m_clientText;
    q.clientName = QByteArrayLiteral("unknown");
    q.heloName = m_helo;
    q.protocol = m_esmtp ? QByteArrayLiteral("ESMTP") : QByteArrayLiteral("SMTP");
    q.sender = m_tx.sender;
    q.recipient = recipient;
    // "smtp.<session>.<transaction>" made in one piece (QByteArray::number twice was two
    // allocations more per recipient).
    char text[48] = "smtp.";
    char *const end = text + sizeof text;
    char *w = std::to_chars(text + 5, end - 21, m_id).ptr; // room left for '.' and 20 digits
    if (w < end - 21)
        *w++ = '.';
    w = std::to_chars(w, end, m_tx.number).ptr;
    q.instance = QByteArray(text, w - text);
    q.tls = m_tlsActive;
    return q;
}

void SmtpSession::onVerdict(const QByteArray &recipient, const SmtpVerdict &verdict)
{
    switch (verdict.kind) {
    case SmtpVerdict::Kind::Defer:
    case SmtpVerdict::Kind::Reject:
    case SmtpVerdict::Kind::TempFail:
        smtpcounter::bump(verdict.kind == SmtpVerdict::Kind::Reject ? m_stats->recipientsRejected
                                                                    : m_stats->recipientsDeferred);
        logRecipient(recipient, {}, verdict.reason);
        reply(verdict.reply);
        resume();
        return;
    case SmtpVerdict::Kind::Accept:
    case SmtpVerdict::Kind::Pending:
        m_relay.recipient = recipient;
        m_relay.verdict = verdict;
        relayRecipient();
        return;
    }
}

void SmtpSession::logRecipient(QByteArrayView recipient, QByteArrayView prefix,
                               QByteArrayView reason, int code)
{
    // One line's worth, as text from the start: no list of pieces joined at the end.
    if (m_rcptCount >= kMaxLoggedRecipients)
        return;
    ++m_rcptCount;
    const char digits[4] = {'/', char('0' + code / 100 % 10), char('0' + code / 10 % 10),
                            char('0' + code % 10)};
    appendBytes(m_rcptText,
                {m_rcptText.isEmpty() ? QByteArrayView() : QByteArrayView(","), recipient, "=",
                 prefix, reason, code != 0 ? QByteArrayView(digits, 4) : QByteArrayView()});
}

void SmtpSession::relayRecipient()
{
    // One recipient is relayed at a time (the session waits for its answer), so what the
    // steps below need is in m_relay and each callback holds only `this`: a std::function
    // that fits its small buffer, no allocation per step.
    if (m_backend && !m_backend->isOpen() && !m_tx.backendMail)
        dropBackend(); // lost between transactions: this one starts on another connection
    if (!m_backend)
        connectBackend([this](const SmtpReply &r) { backendReady(r); });
    else if (!m_tx.backendMail)
        sendMail();
    else
        sendRcpt();
}

void SmtpSession::backendReady(const SmtpReply &r)
{
    if (!r.isPositive()) {
        if (!m_backendReused || m_tx.retried)
            smtpcounter::bump(m_stats->backendFailures); // unreachable, or refusing the session
        return answerRecipient(r);
    }
    sendMail();
}

void SmtpSession::sendMail()
{
    const BackendCapabilities &caps = m_backend->capabilities();
    const SmtpCommand &mail = m_tx.mailCommand;
    if (mail.smtpUtf8 && !caps.smtpUtf8)
        return answerRecipient(
            SmtpReply::make(553, "5.6.7", "The mail server does not accept SMTPUTF8"));
    QByteArray line = "MAIL FROM:<" + m_tx.sender + '>';
    if (caps.sizeAdvertised && mail.size >= 0)
        line.append(" SIZE=").append(QByteArray::number(mail.size));
    if (mail.body == SmtpCommand::Body::EightBitMime && caps.eightBitMime)
        line.append(" BODY=8BITMIME");
    if (mail.smtpUtf8)
        line.append(" SMTPUTF8");
    if (caps.pipelining) {
        // RFC 2920: MAIL and the RCPT in one write, replies matched in order. The client
        // hears the RCPT's reply, or MAIL's when the backend refused the sender.
        m_relay.mailRefusal = SmtpReply();
        m_backend->cork();
        m_backend->command(line, [this](const SmtpReply &r) {
            if (r.isPositive())
                m_tx.backendMail = true;
            else
                m_relay.mailRefusal = r;
        });
        m_backend->command("RCPT TO:<" + m_relay.recipient + '>', [this](const SmtpReply &r) {
            answerRecipient(m_relay.mailRefusal.code != 0 ? m_relay.mailRefusal : r);
        });
        m_backend->uncork();
        return;
    }
    m_backend->command(line, [this](const SmtpReply &r) {
        if (!r.isPositive())
            return answerRecipient(r);
        m_tx.backendMail = true;
        sendRcpt();
    });
}

void SmtpSession::sendRcpt()
{
    m_backend->command("RCPT TO:<" + m_relay.recipient + '>',
                       [this](const SmtpReply &r) { answerRecipient(r); });
}

void SmtpSession::answerRecipient(const SmtpReply &r)
{
    // The client hears the backend's own reply when the backend refuses.
    if (retryOnFreshBackend(r))
        return;
    const SmtpVerdict &verdict = m_relay.verdict;
    if (r.isPositive()) {
        (verdict.kind == SmtpVerdict::Kind::Pending ? m_tx.pending : m_tx.accepted)
            .append(m_relay.recipient);
        if (!verdict.header.isEmpty() && m_tx.header.isEmpty())
            m_tx.header = verdict.header + "\r\n";
    }
    if (m_backend && !m_backend->isOpen()) {
        dropBackend();
        // Recipients the lost connection had accepted cannot be delivered any more.
        m_tx.backendLost = !m_tx.accepted.isEmpty() || !m_tx.pending.isEmpty();
        m_tx.backendMail = false;
    }
    logRecipient(m_relay.recipient, {}, verdict.reason, r.isPositive() ? 0 : r.code);
    reply(r);
    resume();
}

void SmtpSession::connectBackend(std::function<void(const SmtpReply &)> ready)
{
    // A retry takes a fresh connection: the pool's may all have gone stale together.
    std::unique_ptr<BackendSession> pooled = m_pool ? m_pool->take(m_tx.retried) : nullptr;
    m_backendReused = pooled != nullptr;
    if (!m_backendReused)
        smtpcounter::bump(m_stats->backendOpened);
    m_backend = pooled ? std::move(pooled) : std::make_unique<BackendSession>(m_options);
    m_backend->setOwner(this); // backendDrained()
    BackendSession::Client client;
    client.address = m_client;
    client.port = m_socket->peerPort();
    if (m_options.passClient == SmtpProxyOptions::PassClient::ProxyV1 ||
        m_options.passClient == SmtpProxyOptions::PassClient::ProxyV2)
        client.localAddress = m_socket->localAddress(&client.localPort); // only the header's
    client.helo = m_helo;
    client.protocol = m_esmtp ? QByteArrayLiteral("ESMTP") : QByteArrayLiteral("SMTP");
    if (m_backendReused)
        m_backend->introduce(client, std::move(ready));
    else
        m_backend->open(client, std::move(ready));
}

bool SmtpSession::retryOnFreshBackend(const SmtpReply &r)
{
    // Only a pooled connection that is gone (EOF, a 421, a timeout: not a refusal on a live
    // connection, which is the backend's answer), only once, and only while no recipient
    // was accepted, so nothing the client was told can be lost by starting over.
    if (r.isPositive() || !m_backendReused || m_tx.retried || !m_backend || m_backend->isOpen() ||
        !m_tx.accepted.isEmpty() || !m_tx.pending.isEmpty())
        return false;
    m_tx.retried = true;
    m_tx.backendMail = false;
    dropBackend();
    relayRecipient();
    return true;
}

void SmtpSession::data()
{
    if (!m_tx.mail)
        return reply(503, "5.5.1", "Need MAIL and RCPT before DATA");
    if (m_tx.backendLost)
        return reply(451, "4.4.2", "Connection to the mail server lost, please try again later");
    if (m_tx.accepted.isEmpty() && m_tx.pending.isEmpty())
        return reply(554, "5.5.1", "No valid recipients");
    if (!m_backend || !m_backend->isReady())
        return reply(451, "4.4.2", "Connection to the mail server lost, please try again later");
    if (m_backend->canPipeline()) {
        // RFC 2920 lets DATA end a group: the client goes on at once, its content is held by
        // the BackendSession until the backend's 354, and a refused DATA answers the dot.
        m_backend->startData();
        reply(354, {}, "End data with <CR><LF>.<CR><LF>");
        beginData();
        return;
    }
    wait();
    m_backend->command(QByteArrayLiteral("DATA"), [this](const SmtpReply &r) {
        if (r.code != 354) {
            // The backend's transaction is over or broken; the client's ends with its reply.
            dropBackend();
            resetTransaction();
            reply(r);
            resume();
            return;
        }
        reply(354, {}, "End data with <CR><LF>.<CR><LF>");
        beginData();
        resume();
    });
}

void SmtpSession::rset()
{
    const bool backendBusy = m_tx.backendMail && m_backend && m_backend->isReady();
    resetTransaction();
    if (!backendBusy)
        return reply(250, "2.0.0", "Ok");
    wait();
    m_backend->reset([this](const SmtpReply &r) {
        if (!r.isPositive())
            dropBackend();
        reply(250, "2.0.0", "Ok");
        resume();
    });
}

void SmtpSession::reply(const SmtpReply &r)
{
    SmtpReply::formatTo(m_out, r.code, r.status, r.text, m_enhanced);
}

void SmtpSession::reply(int code, QByteArrayView status, QByteArrayView text)
{
    SmtpReply::formatTo(m_out, code, status, text, m_enhanced);
}

void SmtpSession::protocolError(int code, QByteArrayView status, const QByteArray &text)
{
    reply(code, status, text);
    if (++m_errors >= m_options.maxErrors) {
        reply(554, "5.7.0", "Too many errors, closing the connection");
        close("too many errors");
    }
}

void SmtpSession::wait()
{
    // The timer runs on: while waiting it only re-arms (onTimeout), which is cheaper than a
    // timer stopped and started again per command.
    m_waiting = true;
    flush();
}

void SmtpSession::resume()
{
    m_waiting = false;
    // Inside process() (an answer given during the call that asked for it): its loop goes
    // on. Else the input is taken up now, in the pass that brought the answer, and the reply
    // leaves at once: a posted call cost an eventfd write and read and a wait for the end of
    // the pass (bench/README.md "SMTP proxy", "Round trips"). The answers come from the
    // decider's batch and from the backend's reply handler, which both allow that: nothing
    // is deleted under them (a finished session waits in its SmtpWorker, a backend goes by
    // deleteLater()).
    if (!m_processing)
        process();
}

void SmtpSession::resetTransaction()
{
    m_tx = Transaction();
}

void SmtpSession::dropBackend()
{
    if (!m_backend)
        return;
    m_backend->setOwner(nullptr);
    if (m_pool)
        return m_pool->release(std::move(m_backend), false);
    m_backend->quit();
    // Not deleted here: this may run inside one of its own callbacks.
    m_backend.release()->deleteLater();
}

void SmtpSession::releaseBackend()
{
    if (!m_backend || !m_pool)
        return dropBackend();
    m_backend->setOwner(nullptr);
    // A message cut off in DATA is never pooled (not ready): it is closed without its dot.
    m_pool->release(std::move(m_backend), true);
}

} // namespace greygate
