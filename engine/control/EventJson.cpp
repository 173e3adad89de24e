// SPDX-License-Identifier: GPL-3.0-or-later
#include "EventJson.h"

namespace greygate {

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
