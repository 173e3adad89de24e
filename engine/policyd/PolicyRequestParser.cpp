// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyRequestParser.h"

#include "greylist/ControlBytes.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>

namespace greygate {

namespace {

template <qsizetype N> bool equals(QByteArrayView name, const char (&literal)[N])
{
    return name.size() == N - 1 && std::memcmp(name.data(), literal, N - 1) == 0;
}

// Keeps the capacity of `field` when it is not shared, so a long-lived connection stops
// allocating once its buffers have grown to the size of a typical request.
void store(QByteArray &field, QByteArrayView value)
{
    // Most values have the previous request's size ("smtpd_access_policy", "RCPT", an
    // address of the same network): no resize call then, only the copy.
    if (field.size() != value.size())
        field.resize(value.size());
    if (!value.isEmpty())
        std::memcpy(field.data(), value.data(), size_t(value.size()));
}

constexpr quint32 kAllAttributes = (PolicyRequest::SaslUsername << 1) - 1;

QByteArray number(qint64 n)
{
    return QByteArray::number(n);
}

// Error messages only (never on the hot path): strict Qt defines forbid char* + QByteArray.
QByteArray cat(std::initializer_list<QByteArrayView> parts)
{
    QByteArray out;
    for (QByteArrayView p : parts)
        out.append(p);
    return out;
}

} // namespace

PolicyRequestParser::Status PolicyRequestParser::fail(QByteArray message)
{
    m_error = std::move(message);
    m_partial.clear();
    return Status::Error;
}

void PolicyRequestParser::startRequest()
{
    // The fields keep the previous request's values until this one ends: those it sets are
    // overwritten, the others emptied then (clearAbsent), so Postfix's requests, which carry
    // every attribute, empty nothing.
    m_request.present = 0;
    m_request.attributeCount = 0;
    m_lineInRequest = 0;
    m_resetPending = false;
}

void PolicyRequestParser::clearAbsent()
{
    PolicyRequest &r = m_request;
    quint32 bit = 1;
    for (QByteArray *f :
         {&r.request, &r.protocolState, &r.protocolName, &r.clientAddress, &r.clientName,
          &r.heloName, &r.sender, &r.recipient, &r.instance, &r.queueId, &r.saslUsername}) {
        if ((r.present & bit) == 0 && !f->isEmpty())
            f->resize(0);
        bit <<= 1;
    }
}

PolicyRequestParser::Status PolicyRequestParser::next(QByteArrayView &data)
{
    if (failed())
        return Status::Error;
    while (!data.isEmpty()) {
        if (m_resetPending)
            startRequest();
        if (m_partial.isEmpty()) {
            // The common case, a whole line in `data`: one scan finds its end and proves it
            // free of control bytes. Anything else (a tab, CR, a control byte, a line cut
            // by the read) takes the general path below, which says what is wrong.
            const qsizetype scan = std::min(data.size(), m_limits.maxLineBytes + 1);
            const qsizetype end = firstControlByte(data.first(scan));
            if (end >= 0 && data[end] == '\n') {
                m_requestBytes += end + 1;
                const Status status = line(data.first(end), true);
                data = data.sliced(end + 1);
                if (status != Status::NeedMore)
                    return status;
                continue;
            }
        }
        const void *nl = std::memchr(data.data(), '\n', size_t(data.size()));
        if (!nl) {
            // A partial line: bounded now, not when its end arrives, so a peer cannot make
            // us buffer more than one line's worth.
            if (m_partial.size() + data.size() > m_limits.maxLineBytes + 1)
                return fail(
                    cat({"line ", number(m_lineInRequest + 1), " of the request is longer than ",
                         number(m_limits.maxLineBytes), " bytes"}));
            if (m_requestBytes + data.size() > m_limits.maxRequestBytes)
                return fail(
                    cat({"request longer than ", number(m_limits.maxRequestBytes), " bytes"}));
            m_partial.append(data.data(), data.size());
            m_requestBytes += data.size();
            data = {};
            return Status::NeedMore;
        }
        const qsizetype len = static_cast<const char *>(nl) - data.data();
        m_requestBytes += len + 1;
        Status status;
        if (m_partial.isEmpty()) {
            status = line(data.first(len));
        } else {
            m_partial.append(data.data(), len);
            status = line(m_partial);
            m_partial.resize(0);
        }
        data = data.sliced(len + 1);
        if (status != Status::NeedMore)
            return status;
    }
    return Status::NeedMore;
}

PolicyRequestParser::Status PolicyRequestParser::lineError(LineError kind)
{
    const QByteArray line = number(m_lineInRequest);
    switch (kind) {
    case LineError::TooLong:
        return fail(cat({"line ", line, " of the request is longer than ",
                         number(m_limits.maxLineBytes), " bytes"}));
    case LineError::RequestTooLong:
        return fail(cat({"request longer than ", number(m_limits.maxRequestBytes), " bytes"}));
    case LineError::EmptyFirst:
        return fail("empty line before any attribute (a request needs name=value lines)");
    case LineError::NoEquals:
        return fail(cat({"line ", line, ": no '=' (expected name=value)"}));
    case LineError::EmptyName:
        return fail(cat({"line ", line, ": empty attribute name"}));
    case LineError::TooManyAttributes:
        return fail(
            cat({"more than ", number(m_limits.maxAttributes), " attributes in a request"}));
    }
    return fail("malformed line");
}

PolicyRequestParser::Status PolicyRequestParser::controlByteError(QByteArrayView text)
{
    // Only finds which byte it was, for the message (a tab also lands here and is let
    // through).
    for (qsizetype i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 && c != '\t') {
            return fail(cat({"line ", number(m_lineInRequest), ": control byte 0x",
                             QByteArray::number(c, 16).rightJustified(2, '0'), " at offset ",
                             number(i), " (binary data is not a policy request)"}));
        }
        if (c == 0x7f)
            return fail(
                cat({"line ", number(m_lineInRequest), ": DEL byte at offset ", number(i)}));
    }
    return Status::NeedMore;
}

PolicyRequestParser::Status PolicyRequestParser::line(QByteArrayView text, bool clean)
{
    // Every error is built out of line (lineError, controlByteError): what is left here is
    // the path of a good attribute line, which every line of every request takes.
    ++m_lineInRequest;
    if (text.endsWith('\r'))
        text.chop(1); // tolerated: some hand-written clients send CRLF
    if (text.size() > m_limits.maxLineBytes) [[unlikely]]
        return lineError(LineError::TooLong);
    if (m_requestBytes > m_limits.maxRequestBytes) [[unlikely]]
        return lineError(LineError::RequestTooLong);

    if (text.isEmpty()) {
        if (m_request.attributeCount == 0)
            return lineError(LineError::EmptyFirst);
        m_requestBytes = 0;
        m_resetPending = true;
        if (m_request.present != kAllAttributes)
            clearAbsent();
        return Status::Request;
    }

    if (!clean && containsControlByte(text) && controlByteError(text) == Status::Error)
        return Status::Error;
    const void *equalsSign = std::memchr(text.data(), '=', size_t(text.size()));
    if (!equalsSign) [[unlikely]]
        return lineError(LineError::NoEquals);
    const qsizetype eq = static_cast<const char *>(equalsSign) - text.data();
    if (eq == 0) [[unlikely]]
        return lineError(LineError::EmptyName);
    if (++m_request.attributeCount > m_limits.maxAttributes) [[unlikely]]
        return lineError(LineError::TooManyAttributes);

    const QByteArrayView name = text.first(eq);
    const QByteArrayView value = text.sliced(eq + 1);
    PolicyRequest &r = m_request;
    QByteArray *field = nullptr;
    PolicyRequest::Attribute bit{};
    // Switch on the length first: one compare for most names, and no hashing.
    switch (name.size()) {
    case 6:
        if (equals(name, "sender"))
            field = &r.sender, bit = PolicyRequest::Sender;
        break;
    case 7:
        if (equals(name, "request"))
            field = &r.request, bit = PolicyRequest::Request;
        break;
    case 8:
        if (equals(name, "instance"))
            field = &r.instance, bit = PolicyRequest::Instance;
        else if (equals(name, "queue_id"))
            field = &r.queueId, bit = PolicyRequest::QueueId;
        break;
    case 9:
        if (equals(name, "recipient"))
            field = &r.recipient, bit = PolicyRequest::Recipient;
        else if (equals(name, "helo_name"))
            field = &r.heloName, bit = PolicyRequest::HeloName;
        break;
    case 11:
        if (equals(name, "client_name"))
            field = &r.clientName, bit = PolicyRequest::ClientName;
        break;
    case 13:
        if (equals(name, "protocol_name"))
            field = &r.protocolName, bit = PolicyRequest::ProtocolName;
        else if (equals(name, "sasl_username"))
            field = &r.saslUsername, bit = PolicyRequest::SaslUsername;
        break;
    case 14:
        if (equals(name, "protocol_state"))
            field = &r.protocolState, bit = PolicyRequest::ProtocolState;
        else if (equals(name, "client_address"))
            field = &r.clientAddress, bit = PolicyRequest::ClientAddress;
        break;
    default:
        break;
    }
    // Attributes Greygate does not use are skipped: Postfix adds new ones over its versions.
    if (field) {
        store(*field, value);
        r.present |= bit;
    }
    return Status::NeedMore;
}

} // namespace greygate
