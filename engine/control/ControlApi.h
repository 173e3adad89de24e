// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "ControlOptions.h"
#include "ControlTokens.h"
#include "greylist/TripletQuery.h"
#include "policy/PolicyChange.h"
#include "protocol/ProtocolError.h"

#include <QJsonValue>
#include <QMetaObject>
#include <functional>
#include <memory>
#include <optional>

class QHostAddress;

namespace greygate {

class Clock;
class DnsLookup;
class DnsResolver;
class EventLog;
class GreylistEngine;
class GreylistPolicyHandler;
class PolicySet;
class Store;
struct AuditEntry;
struct Event;
struct Policy;
struct PoolRetry;
struct TripletKey;
struct WriteBatch;

// Who is calling: the role of the token, and the name the audit log records.
struct ControlCaller
{
    ControlRole role = ControlRole::None;
    QString who; // "admin@127.0.0.1"
};

// The greylist queue where it is not in this host's memory (the shared Redis store), set by
// the daemon: each call answers later through done, exactly once, on the daemon's thread.
struct SharedQueue
{
    enum class Change : quint8
    {
        Done,
        NotFound,
        AlreadyPassed,
    };
    using ListDone = std::function<void(std::optional<TripletPage> page, const QString &error)>;
    using ChangeDone = std::function<void(std::optional<Change> result, const QString &error)>;
    std::function<void(const TripletQuery &query, ListDone done)> list;
    std::function<void(const TripletKey &key, ChangeDone done)> release;
    std::function<void(const TripletKey &key, ChangeDone done)> remove;
    std::function<Seconds(const TripletState &state)> expiresAt;
    qsizetype maxWindow = 0; // offset + limit of a listing at most this
};

// The control API's methods over the daemon's objects (docs/api.md, "Methods"), all on the
// daemon's one thread. Reads come from memory (engine, policies, event log) or the store
// (rejections, audit); every change is committed before the call returns, through the same
// paths as decisions: policy changes through GreylistPolicyHandler::changePolicies, queue
// changes in a WriteBatch given to Store::commit.
class ControlApi
{
public:
    ControlApi(GreylistEngine &engine, Store &store, GreylistPolicyHandler &handler,
               EventLog &events, const Clock &clock, const ControlOptions &options);
    ~ControlApi();
    ControlApi(const ControlApi &) = delete;
    ControlApi &operator=(const ControlApi &) = delete;

    // Every method but auth and events.*, which belong to the connection (ControlServer).
    // nullopt with *error set when the call is refused or fails.
    std::optional<QJsonValue> call(const QString &method, const QJsonObject &params,
                                   const ControlCaller &caller, protocol::ProtocolError *error);

    void setConnectionCount(std::function<int()> count) { m_connections = std::move(count); }

    // Methods answered later (the queue in the shared store, setSharedQueue): true when the
    // call was taken, and reply is then called exactly once, possibly before callAsync()
    // returns, never after this ControlApi is gone; false: answer it with call().
    using Reply =
        std::function<void(std::optional<QJsonValue> result, const protocol::ProtocolError &error)>;
    bool callAsync(const QString &method, const QJsonObject &params, const ControlCaller &caller,
                   Reply reply);
    void setSharedQueue(SharedQueue queue) { m_shared = std::move(queue); }

private:
    using Result = std::optional<QJsonValue>;
    using Error = protocol::ProtocolError;

    Result hello(const QJsonObject &params, const ControlCaller &caller, Error *error);
    Result status(const QJsonObject &params, Error *error);
    Result stats(const QJsonObject &params, bool report, Error *error);
    Result breakdown(const QJsonObject &params, Error *error); // ControlApiBreakdown.cpp
    Result queueList(const QJsonObject &params, Error *error);
    Result queueChange(const QString &method, const QJsonObject &params,
                       const ControlCaller &caller, Error *error);
    Result rejections(const QJsonObject &params, Error *error);
    Result auditList(const QJsonObject &params, Error *error);

    // ControlApiPolicies.cpp
    Result policyCall(const QString &method, const QJsonObject &params, const ControlCaller &caller,
                      Error *error);
    Result groupCall(const QString &method, const QJsonObject &params, const ControlCaller &caller,
                     Error *error);
    Result groupImport(const QJsonObject &params, const ControlCaller &caller, Error *error);
    Result autoAllowCall(const QString &method, const QJsonObject &params,
                         const ControlCaller &caller, Error *error);
    Result explain(const QJsonObject &params, Error *error);
    // Runs one PolicySet change through the handler (applied and committed), records its
    // events, and answers {"id","version","revision","changes"}.
    Result change(const std::function<ChangeOutcome(PolicySet &)> &change,
                  const ControlCaller &caller, Error *error);
    Result permitSender(const TripletKey &key, const ControlCaller &caller, Error *error);

    // ControlApiReplay.cpp: shadow policies, replay, policy versions.
    void annotateShadow(Event &attempt) const; // the EventLog's attempt annotator
    QJsonObject shadowCounts(const QList<Policy> &policies) const; // policy.list's "shadow"
    Result replay(const QJsonObject &params, Error *error);
    Result versionCall(const QString &method, const QJsonObject &params,
                       const ControlCaller &caller, Error *error);
    std::optional<QList<AuditEntry>> policyAudit(Error *error) const;

    // ControlApiRelease.cpp: release.*, delay.stats, triage.list, alerts.list (nullopt: not
    // one of them).
    std::optional<Result> releaseCall(const QString &method, const QJsonObject &params,
                                      const ControlCaller &caller, Error *error);
    Result releaseCreate(const QJsonObject &params, const ControlCaller &caller, Error *error);
    Result releaseListOrRevoke(const QString &method, const QJsonObject &params,
                               const ControlCaller &caller, Error *error);
    Result releaseAudit(const QJsonObject &params, Error *error);
    Result delayStats(const QJsonObject &params, Error *error);
    Result triageList(const QJsonObject &params, Error *error);

    // ControlApiSpf.cpp: pool retries and their bypasses (docs/spf.md, docs/api.md).
    std::optional<Result> spfCall(const QString &method, const QJsonObject &params,
                                  const ControlCaller &caller, Error *error);
    bool spfCallAsync(const QString &method, const QJsonObject &params, const ControlCaller &caller,
                      Reply &reply);
    void recordPoolRetry(const PoolRetry &retry);               // the poolRetry event
    void explainSpfKey(const QJsonObject &params, Reply reply); // policy.explain, SPF-keyed
    DnsLookup *spfDns(Error *error); // the resolver the SPF records come from
    Result addPoolBypass(const QByteArray &domain, const QList<QPair<QHostAddress, int>> &ranges,
                         qint64 lifetime, const QString &reason, const ControlCaller &caller,
                         Error *error);
    void auditPoolBypass(const QString &what, qint64 id, const QJsonObject &before,
                         const QJsonObject &after, const ControlCaller &caller);

    bool queueHere(Error *error) const; // false in Redis mode (the queue is not in memory)
    // The queue in the shared store, answered later.
    void sharedList(const QJsonObject &params, Reply reply);
    void sharedChange(const QString &method, const QJsonObject &params, const ControlCaller &caller,
                      Reply reply);
    void queueChanged(const QString &method, const TripletKey &key, const ControlCaller &caller);
    bool commit(WriteBatch &batch, Error *error);
    bool prepareCommit(Error *error);
    std::optional<TripletKey> tripletOf(const QJsonObject &params, Error *error) const;

    GreylistEngine &m_engine;
    Store &m_store;
    GreylistPolicyHandler &m_handler;
    EventLog &m_events;
    const Clock &m_clock;
    const ControlOptions &m_options;
    qint64 m_started;
    std::function<int()> m_connections;
    SharedQueue m_shared;
    QMetaObject::Connection m_poolRetryConnection;
    // Without --triplet-key=spf there is no resolver in the daemon: one from resolv.conf is
    // made on the first pool bypass that needs it.
    std::unique_ptr<DnsResolver> m_ownDns;
    // Answers of the shared queue that come back after this ControlApi is gone are dropped.
    std::shared_ptr<ControlApi *> m_self = std::make_shared<ControlApi *>(this);
};

} // namespace greygate
