// SPDX-License-Identifier: GPL-3.0-or-later
#include "EventJson.h"

#include "protocol/BinaryEvents.h"
#include "protocol/JsonText.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace greygate {

namespace {

void appendString(QByteArray *out, QByteArrayView bytes)
{
    protocol::JsonText::appendString(out, bytes);
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

// The SMTP proxy's fields (docs/api.md): absent from policy-delegation events, so those
// cost nothing more to write or to read.
void appendSmtp(QByteArray *out, const Event &e)
{
    if (e.source != EventSource::Smtp)
        return;
    appendKey(out, "source");
    out->append("\"smtp\"");
    if (!e.helo.isEmpty()) {
        appendKey(out, "helo");
        appendString(out, QByteArrayView(e.helo));
    }
    appendKey(out, "tls");
    out->append(e.tls ? "true" : "false");
}

void insertSmtp(QJsonObject *o, const Event &e)
{
    if (e.source != EventSource::Smtp)
        return;
    o->insert(QStringLiteral("source"), Event::sourceName(e.source));
    if (!e.helo.isEmpty())
        o->insert(QStringLiteral("helo"), QString::fromUtf8(e.helo));
    o->insert(QStringLiteral("tls"), e.tls);
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
        if (e.shadow != ShadowEffect::None) {
            // A shadow policy's would-be effect (docs/api.md): {"policy":7,"effect":"bypass"}
            appendKey(out, "shadow");
            out->append("{\"policy\":");
            out->append(QByteArray::number(e.shadowPolicy));
            out->append(",\"effect\":");
            appendString(out, Event::shadowName(e.shadow));
            out->append('}');
        }
        if (!e.key.isEmpty()) {
            appendKey(out, "key");
            appendString(out, QByteArrayView(e.key));
        }
        if (!e.keyWhy.isEmpty()) {
            appendKey(out, "keyWhy");
            appendString(out, QByteArrayView(e.keyWhy));
        }
        appendSmtp(out, e);
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
    case EventType::Message:
        appendSmtp(out, e);
        appendKey(out, "client");
        appendString(out, QByteArrayView(e.client));
        appendKey(out, "sender");
        appendString(out, QByteArrayView(e.sender));
        appendKey(out, "recipient");
        appendString(out, QByteArrayView(e.recipient));
        appendKey(out, "recipients");
        out->append(QByteArray::number(e.attempts));
        appendKey(out, "bytes");
        out->append(QByteArray::number(e.bytes));
        appendKey(out, "reply");
        appendString(out, QByteArrayView(e.reply));
        break;
    case EventType::Alert:
        // docs/api.md, "Alerts": the kind, what it is about, a line for a person.
        appendKey(out, "kind");
        appendString(out, e.subject);
        appendKey(out, "subject");
        appendString(out, QByteArrayView(e.client));
        appendKey(out, "message");
        appendString(out, e.action);
        appendKey(out, "alertId");
        out->append(QByteArray::number(e.ref));
        out->append(e.attempts ? ",\"cleared\":true" : ",\"cleared\":false");
        break;
    case EventType::PoolRetry: {
        // Rare (once per group): its fields built as an object, written compactly after
        // the common ones already out.
        QJsonObject o = toJson(e);
        for (const QLatin1StringView common :
             {QLatin1StringView("id"), QLatin1StringView("type"), QLatin1StringView("time")})
            o.remove(common);
        const QByteArray fields = QJsonDocument(o).toJson(QJsonDocument::Compact);
        out->append(',');
        out->append(QByteArrayView(fields).sliced(1, fields.size() - 2));
        break;
    }
    }
    out->append('}');
}

bool EventJson::compactable(const Event &e)
{
    // Exactly the attempts whose object has no optional field but `ref`, `key` and `keyWhy`
    // (docs/api.md, "Compact events"); anything else keeps its object form. A new optional
    // attempt field must be added here (or to the compact form) and to tst_event_json.
    return e.type == EventType::Attempt && e.source == EventSource::Policyd && e.action.isEmpty() &&
           e.shadow == ShadowEffect::None;
}

void EventJson::appendCompact(QByteArray *out, const Event &e)
{
    if (!compactable(e)) {
        appendJson(out, e);
        return;
    }
    // [id,time,outcome,attempts,policy,ref,client,sender,recipient,key,keyWhy]: the names of the
    // object form were most of an attempt's bytes, written again for every subscriber.
    out->append('[');
    out->append(QByteArray::number(e.id));
    out->append(',');
    out->append(QByteArray::number(e.time));
    out->append(',');
    appendString(out, Event::outcomeName(e.outcome));
    out->append(',');
    out->append(QByteArray::number(e.attempts));
    out->append(',');
    appendString(out, deciderKey(e.decidedBy, e.ref));
    out->append(',');
    out->append(QByteArray::number(e.ref));
    out->append(',');
    appendString(out, QByteArrayView(e.client));
    out->append(',');
    appendString(out, QByteArrayView(e.sender));
    out->append(',');
    appendString(out, QByteArrayView(e.recipient));
    out->append(',');
    appendString(out, QByteArrayView(e.key));
    out->append(',');
    appendString(out, QByteArrayView(e.keyWhy));
    out->append(']');
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
        if (e.shadow != ShadowEffect::None)
            o.insert(QStringLiteral("shadow"),
                     QJsonObject{{QStringLiteral("policy"), e.shadowPolicy},
                                 {QStringLiteral("effect"), Event::shadowName(e.shadow)}});
        if (!e.key.isEmpty())
            o.insert(QStringLiteral("key"), QString::fromUtf8(e.key));
        if (!e.keyWhy.isEmpty())
            o.insert(QStringLiteral("keyWhy"), QString::fromUtf8(e.keyWhy));
        insertSmtp(&o, e);
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
    case EventType::Message:
        insertSmtp(&o, e);
        o.insert(QStringLiteral("client"), QString::fromUtf8(e.client));
        o.insert(QStringLiteral("sender"), QString::fromUtf8(e.sender));
        o.insert(QStringLiteral("recipient"), QString::fromUtf8(e.recipient));
        o.insert(QStringLiteral("recipients"), qint64(e.attempts));
        o.insert(QStringLiteral("bytes"), e.bytes);
        o.insert(QStringLiteral("reply"), QString::fromUtf8(e.reply));
        break;
    case EventType::Alert:
        o.insert(QStringLiteral("kind"), e.subject);
        o.insert(QStringLiteral("subject"), QString::fromUtf8(e.client));
        o.insert(QStringLiteral("message"), e.action);
        o.insert(QStringLiteral("alertId"), e.ref);
        o.insert(QStringLiteral("cleared"), e.attempts != 0);
        break;
    case EventType::PoolRetry: {
        // docs/api.md, "Events": what the console shows with its "Bypass for N h" button.
        QJsonArray addresses;
        for (const QByteArray &a : e.client.split(','))
            if (!a.isEmpty())
                addresses.append(QString::fromLatin1(a));
        o.insert(QStringLiteral("domain"), e.subject);
        o.insert(QStringLiteral("sender"), QString::fromUtf8(e.sender));
        o.insert(QStringLiteral("recipient"), QString::fromUtf8(e.recipient));
        o.insert(QStringLiteral("addresses"), addresses);
        o.insert(QStringLiteral("ips"), qint64(e.attempts));
        o.insert(QStringLiteral("networks"), e.ref);
        o.insert(QStringLiteral("summary"), e.action);
        break;
    }
    }
    return o;
}

QString EventJson::deciderKey(DecidedBy by, qint64 id)
{
    // One table for both ends: the binary decoder names deciders from the same wire values.
    return protocol::BinaryEvents::deciderKey(quint8(by), id);
}

} // namespace greygate
