// SPDX-License-Identifier: GPL-3.0-or-later
#include "Event.h"

namespace greygate {

QString Event::typeName(EventType type)
{
    switch (type) {
    case EventType::Attempt:
        return QStringLiteral("attempt");
    case EventType::QueueChange:
        return QStringLiteral("queue");
    case EventType::PolicyChange:
        return QStringLiteral("policy");
    case EventType::GroupChange:
        return QStringLiteral("group");
    case EventType::AutoAllowChange:
        return QStringLiteral("autoallow");
    case EventType::FailedToRetry:
        return QStringLiteral("failedToRetry");
    case EventType::Message:
        return QStringLiteral("message");
    case EventType::Alert:
        return QStringLiteral("alert");
    case EventType::PoolRetry:
        return QStringLiteral("poolRetry");
    }
    return QString();
}

QString Event::sourceName(EventSource source)
{
    return source == EventSource::Smtp ? QStringLiteral("smtp") : QStringLiteral("policyd");
}

QString Event::shadowName(ShadowEffect effect)
{
    switch (effect) {
    case ShadowEffect::None:
        return QString();
    case ShadowEffect::Greylist:
        return QStringLiteral("greylist");
    case ShadowEffect::Bypass:
        return QStringLiteral("bypass");
    }
    return QString();
}

QString Event::outcomeName(AttemptOutcome outcome)
{
    switch (outcome) {
    case AttemptOutcome::Deferred:
        return QStringLiteral("deferred");
    case AttemptOutcome::Passed:
        return QStringLiteral("passed");
    case AttemptOutcome::PassedKnown:
        return QStringLiteral("passedKnown");
    case AttemptOutcome::Whitelisted:
        return QStringLiteral("whitelisted");
    case AttemptOutcome::Bypassed:
        return QStringLiteral("bypassed");
    case AttemptOutcome::Outbound:
        return QStringLiteral("outbound");
    case AttemptOutcome::Blocked:
        return QStringLiteral("blocked");
    }
    return QString();
}

} // namespace greygate
