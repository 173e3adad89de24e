// SPDX-License-Identifier: GPL-3.0-or-later
// SmtpSession's DATA phase: framing through the DataReader, streaming to the backend,
// header-From decisions and the final reply.
#include "BackendSession.h"
#include "DropFront.h"
#include "HeaderFrom.h"
#include "SmtpDecider.h"
#include "SmtpSession.h"
#include "events/Event.h"

#include <QPointer>
#include <QScopeGuard>
#include <memory>

namespace greygate {

namespace {

constexpr qsizetype kMaxHeldHeaders = 64 * 1024; // header section held for header From
constexpr qsizetype kMaxKeptContent = 64 * 1024; // m_content's capacity kept up to this
// A Message event's recipient list and reply are bounded: a client may send 100
// recipients of 256 bytes each, and a backend's reply line is its own.
constexpr qsizetype kMaxEventRecipients = 1024;
constexpr qsizetype kMaxEventReply = 512;

} // namespace

void SmtpSession::beginData()
{
    m_phase = Phase::Data;
    qint64 limit = m_options.maxMessageSize;
    const BackendCapabilities &caps = capabilities();
    if (caps.size > 0 && (limit <= 0 || caps.size < limit))
        limit = caps.size;
    m_reader.restart(limit);
    m_refusal = SmtpReply();
    m_headerBuffer.clear();
    m_endAfterDecision = false;
    m_holdingHeaders = !m_tx.pending.isEmpty();
    if (!m_holdingHeaders && !m_tx.header.isEmpty())
        m_backend->sendData(m_tx.header);
}

void SmtpSession::processData()
{
    // The content read in this pass and the dot go to the backend in one send().
    const QPointer<BackendSession> corked = m_backend.get();
    if (corked)
        corked->cork();
    const auto uncork = qScopeGuard([&corked] {
        if (corked)
            corked->uncork();
    });
    qsizetype used = 0;
    // The un-stuffed content goes through m_content, whose capacity is kept from one read
    // to the next (a new buffer per read was an allocation per message).
    m_content.resize(0);
    const DataReader::Status status = m_reader.feed(m_in, &used, &m_content);
    dropFront(m_in, used);
    if (!m_content.isEmpty())
        deliverContent(m_content);
    if (m_content.capacity() > kMaxKeptContent)
        m_content = QByteArray();
    switch (status) {
    case DataReader::Status::NeedMore:
        return;
    case DataReader::Status::End:
        if (m_holdingHeaders) {
            m_endAfterDecision = true;
            decideHeaderFrom();
            return;
        }
        if (m_waiting) { // the header-From decision, asked for by the content just read
            m_endAfterDecision = true;
            return;
        }
        endOfData();
        return;
    case DataReader::Status::Fatal: {
        // The message's end can no longer be found with certainty (SMTP smuggling): the
        // backend never gets this message's dot and the connection ends here.
        const DataReader::Error e = m_reader.error();
        const QByteArrayView what = e == DataReader::Error::BareLf   ? "Bare <LF>"
                                    : e == DataReader::Error::BareCr ? "Bare <CR>"
                                                                     : "NUL";
        dropBackend();
        reply(521, "5.5.2",
              QByteArray(what.toByteArray() +
                         " received in the message: lines must end with <CR><LF>"));
        close(what.toByteArray() + " in DATA");
        return;
    }
    }
}

void SmtpSession::deliverContent(QByteArrayView content)
{
    if (m_refusal.code != 0 || m_reader.error() != DataReader::Error::None)
        return;
    if (m_holdingHeaders) {
        m_headerBuffer.append(content);
        if (HeaderFrom::headerEnd(m_headerBuffer) >= 0 || m_headerBuffer.size() > kMaxHeldHeaders)
            decideHeaderFrom();
        return;
    }
    if (m_backend && m_backend->isOpen())
        m_backend->sendData(content);
}

void SmtpSession::decideHeaderFrom()
{
    m_holdingHeaders = false;
    const QByteArray from = HeaderFrom::address(m_headerBuffer);
    const QList<QByteArray> pending = m_tx.pending;
    auto remaining = std::make_shared<qsizetype>(pending.size());
    auto verdicts = std::make_shared<QList<SmtpVerdict>>();
    wait();
    for (const QByteArray &recipient : pending) {
        SmtpRecipientQuery q = query(recipient);
        q.headerFrom = from;
        q.headerFromKnown = true;
        m_decider.decide(q, this, [this, recipient, remaining, verdicts](const SmtpVerdict &v) {
            verdicts->append(v);
            logRecipient(recipient, "header_from:", v.reason);
            if (--*remaining > 0)
                return;
            // One reply for the message: a block wins over a deferral, which wins over
            // acceptance (the accepted recipients' triplets pass on the retry).
            SmtpReply refusal;
            QByteArray header = m_tx.header;
            for (const SmtpVerdict &each : *verdicts) {
                if (each.kind == SmtpVerdict::Kind::Reject)
                    refusal = each.reply;
                else if ((each.kind == SmtpVerdict::Kind::Defer ||
                          each.kind == SmtpVerdict::Kind::TempFail ||
                          each.kind == SmtpVerdict::Kind::Pending) &&
                         refusal.code == 0)
                    refusal = each.kind == SmtpVerdict::Kind::Pending
                                  ? SmtpReply::make(451, "4.3.0", "Cannot decide now, try again")
                                  : each.reply;
                if (header.isEmpty() && !each.header.isEmpty())
                    header = each.header + QByteArrayLiteral("\r\n");
            }
            if (refusal.code != 0) {
                m_refusal = refusal;
            } else if (m_backend && m_backend->isOpen()) {
                m_backend->sendData(header);
                m_backend->sendData(m_headerBuffer);
            }
            m_headerBuffer.clear();
            m_tx.accepted.append(m_tx.pending);
            m_tx.pending.clear();
            if (m_endAfterDecision) {
                m_endAfterDecision = false;
                m_waiting = false;
                endOfData();
                if (!m_waiting)
                    resume();
                return;
            }
            resume();
        });
    }
}

void SmtpSession::endOfData()
{
    m_bytes += m_reader.size();
    m_phase = Phase::Commands;
    m_parser.reset();
    SmtpReply refusal = m_refusal;
    if (m_reader.error() == DataReader::Error::LineTooLong)
        refusal =
            SmtpReply::make(554, "5.6.0", "Message refused: a text line is longer than 1000 bytes");
    else if (m_reader.error() == DataReader::Error::TooBig)
        refusal = SmtpReply::make(552, "5.3.4", "Message size exceeds the fixed limit");
    if (refusal.code != 0) {
        // Without its dot the backend discards what it received.
        dropBackend();
        recordMessage(refusal);
        resetTransaction();
        reply(refusal);
        return;
    }
    if (!m_backend || !m_backend->isOpen()) {
        dropBackend();
        smtpcounter::bump(m_stats->backendFailures);
        const SmtpReply lost = SmtpReply::make(451, "4.4.2",
                                               "Connection to the mail server lost: the message "
                                               "was not accepted, please try again later");
        recordMessage(lost);
        resetTransaction();
        reply(lost);
        return;
    }
    wait();
    m_backend->endData([this](const SmtpReply &final) { finishMessage(final); });
}

void SmtpSession::finishMessage(const SmtpReply &final)
{
    m_backendReply = final.summary(); // the session's log line and the Message event
    if (final.isPositive())
        ++m_messages;
    if (m_backend && !m_backend->isOpen()) {
        if (!final.isPositive())
            smtpcounter::bump(
                m_stats->backendFailures); // gone after the dot: the reply is the proxy's 451
        dropBackend();
    }
    recordMessage(final, &m_backendReply);
    resetTransaction();
    reply(final);
    resume();
}

} // namespace greygate

namespace greygate {

void SmtpSession::recordMessage(const SmtpReply &final, const QByteArray *summary)
{
    smtpcounter::bump(final.isPositive() ? m_stats->messagesRelayed : m_stats->messagesRefused);
    if (!m_messageSink)
        return;
    Event e;
    e.type = EventType::Message;
    e.source = EventSource::Smtp;
    e.client = m_clientText;
    e.helo = m_helo;
    e.tls = m_tlsActive;
    e.sender = m_tx.sender;
    e.attempts = quint32(m_tx.accepted.size());
    for (const QByteArray &recipient : std::as_const(m_tx.accepted)) {
        if (e.recipient.size() + recipient.size() >= kMaxEventRecipients)
            break;
        if (!e.recipient.isEmpty())
            e.recipient.append(',');
        e.recipient.append(recipient);
    }
    e.bytes = m_reader.size();
    e.reply = (summary ? *summary : final.summary()).left(kMaxEventReply);
    m_messageSink(std::move(e));
}

} // namespace greygate
