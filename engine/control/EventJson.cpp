// SPDX-License-Identifier: GPL-3.0-or-later
#include "EventJson.h"

namespace greygate {

namespace {

// A JSON string of UTF-8 bytes; invalid sequences become U+FFFD, as with QString::fromUtf8.
void appendString(QByteArray *out, QByteArrayView bytes)
{
    bool plain = true;
    for (char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
            plain = false;
            break;
        }
    }
    out->append('"');
    if (plain) {
        out->append(bytes);
    } else {
        const QByteArray valid = QString::fromUtf8(bytes).toUtf8();
        for (char c : valid) {
            const auto u = static_cast<unsigned char>(c);
            if (c == '"' || c == '\\') {
                out->append('\\');
                out->append(c);
            } else if (u < 0x20) {
                static const char hex[] = "0123456789abcdef";
                const char escaped[] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 15]};
                out->append(escaped, sizeof escaped);
            } else {
                out->append(c);
            }
        }
    }
    out->append('"');
}

void appendString(QByteArray *out, const QString &text)
{
    appendString(out, QByteArrayView(text.toUtf8()));
}

void appendKey(QByteArray *out, const char *key)
{
    out->append(',');
    out->append('"');
    out->append(key);
    out->append("\":");
}

} // namespace

void EventJson::appendJson(QByteArray *out, const Event &e)
{
    out->append("{\"id\":");
    out->append(QByteArray::number(e.id));
    appendKey(out, "type");
    appendString(out, Event::typeName(e.type));
    appendKey(out, "time");
    out->append(QByteArray::number(e.time));
    switch (e.type) {
    case EventType::Attempt:
        appendKey(out, "outcome");
        appendString(out, Event::outcomeName(e.outcome));
        appendKey(out, "attempts");
        out->append(QByteArray::number(e.attempts));
        if (e.ref != 0) {
            appendKey(out, "ref");
            out->append(QByteArray::number(e.ref));
        }
        appendKey(out, "policy");
        appendString(out, deciderKey(e.decidedBy, e.ref));
        if (!e.action.isEmpty()) {
            appendKey(out, "reason");
            appendString(out, e.action);
        }
        [[fallthrough]];
    case EventType::FailedToRetry:
    case EventType::QueueChange:
        appendKey(out, "client");
        appendString(out, QByteArrayView(e.client));
        appendKey(out, "sender");
        appendString(out, QByteArrayView(e.sender));
        appendKey(out, "recipient");
        appendString(out, QByteArrayView(e.recipient));
        if (e.type == EventType::FailedToRetry) {
            appendKey(out, "attempts");
            out->append(QByteArray::number(e.attempts));
        }
        if (e.type == EventType::QueueChange) {
            appendKey(out, "action");
            appendString(out, e.action);
            appendKey(out, "who");
            appendString(out, e.who);
        }
        break;
    case EventType::PolicyChange:
    case EventType::GroupChange:
    case EventType::AutoAllowChange:
        appendKey(out, "subject");
        appendString(out, e.subject);
        appendKey(out, "action");
        appendString(out, e.action);
        appendKey(out, "who");
        appendString(out, e.who);
        appendKey(out, "version");
        out->append(QByteArray::number(e.ref));
        break;
    }
    out->append('}');
}

QJsonObject EventJson::toJson(const Event &e)
{
    QJsonObject o{{QStringLiteral("id"), qint64(e.id)},
                  {QStringLiteral("type"), Event::typeName(e.type)},
                  {QStringLiteral("time"), e.time}};
    switch (e.type) {
    case EventType::Attempt:
        o.insert(QStringLiteral("outcome"), Event::outcomeName(e.outcome));
        o.insert(QStringLiteral("attempts"), qint64(e.attempts));
        if (e.ref != 0)
            o.insert(QStringLiteral("ref"), e.ref);
        o.insert(QStringLiteral("policy"), deciderKey(e.decidedBy, e.ref));
        if (!e.action.isEmpty())
            o.insert(QStringLiteral("reason"), e.action);
        [[fallthrough]];
    case EventType::FailedToRetry:
    case EventType::QueueChange:
        // Bytes from the wire, shown as UTF-8 (invalid sequences become U+FFFD).
        o.insert(QStringLiteral("client"), QString::fromUtf8(e.client));
        o.insert(QStringLiteral("sender"), QString::fromUtf8(e.sender));
        o.insert(QStringLiteral("recipient"), QString::fromUtf8(e.recipient));
        if (e.type == EventType::FailedToRetry)
            o.insert(QStringLiteral("attempts"), qint64(e.attempts));
        if (e.type == EventType::QueueChange) {
            o.insert(QStringLiteral("action"), e.action);
            o.insert(QStringLiteral("who"), e.who);
        }
        break;
    case EventType::PolicyChange:
    case EventType::GroupChange:
    case EventType::AutoAllowChange:
        o.insert(QStringLiteral("subject"), e.subject);
        o.insert(QStringLiteral("action"), e.action);
        o.insert(QStringLiteral("who"), e.who);
        o.insert(QStringLiteral("version"), e.ref);
        break;
    }
    return o;
}

QString EventJson::deciderKey(DecidedBy by, qint64 id)
{
    switch (by) {
    case DecidedBy::None:
        return QStringLiteral("none");
    case DecidedBy::Policy:
        return QString::number(id);
    case DecidedBy::PermittedGroup:
    case DecidedBy::BlockedGroup:
        return QStringLiteral("group:") + QString::number(id);
    case DecidedBy::AutoAllow:
        return QStringLiteral("autoallow");
    case DecidedBy::Outbound:
        return QStringLiteral("outbound");
    case DecidedBy::Other:
        break;
    }
    return QStringLiteral("other");
}

} // namespace greygate
