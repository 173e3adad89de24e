// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "protocol/ProtocolError.h"

#include <QJsonValue>
#include <optional>

namespace greygate {

class Clock;
class EventLog;
class GreylistEngine;
class Store;
struct ControlCaller;

// The control API's sender rewriting methods (docs/api.md, "Sender rewriting"; the rules:
// docs/rewriting.md): rewriting.list, rewriting.set (the whole table, version-checked,
// stored with an audit entry and applied to the engine's normaliser once committed, so the
// policy server and the SMTP proxy key on it from the next decision), rewriting.test (sample
// addresses through a proposed table, nothing saved). On the daemon's thread, made per call.
class RewritingApi
{
public:
    static constexpr qsizetype kMaxSamples = 100;

    RewritingApi(GreylistEngine &engine, Store &store, EventLog &events, const Clock &clock,
                 quint64 revision);

    // nullopt when method is not one of rewriting.*; otherwise the result, or nullopt in it
    // with *error set.
    std::optional<std::optional<QJsonValue>> call(const QString &method, const QJsonObject &params,
                                                  const ControlCaller &caller,
                                                  protocol::ProtocolError *error);

private:
    std::optional<QJsonValue> list(const QJsonObject &params, protocol::ProtocolError *error);
    std::optional<QJsonValue> set(const QJsonObject &params, const ControlCaller &caller,
                                  protocol::ProtocolError *error);
    std::optional<QJsonValue> test(const QJsonObject &params, protocol::ProtocolError *error);

    GreylistEngine &m_engine;
    Store &m_store;
    EventLog &m_events;
    const Clock &m_clock;
    quint64 m_revision; // the policy revision, for the audit entry's place in history
};

} // namespace greygate
