// SPDX-License-Identifier: GPL-3.0-or-later
#include "RewritingApi.h"

#include "ControlApi.h"
#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "greylist/SenderRewriteDocument.h"
#include "greylist/SenderRewriter.h"
#include "protocol/JsonFields.h"
#include "store/Store.h"

namespace greygate {

using namespace protocol;

namespace {

// A table from the request's "rules" (and "version" when given), compiled; nullopt with a
// bad_request naming the field ("params.rules[2].pattern").
std::shared_ptr<const SenderRewriter> compiledOf(const QJsonObject &params, ProtocolError *error)
{
    QString why;
    std::optional<SenderRewriteRules> rules = SenderRewriteRules::fromJson(params, &why);
    std::shared_ptr<const SenderRewriter> compiled;
    if (rules)
        compiled = SenderRewriter::compile(*rules, &why);
    if (!compiled) {
        // "rules[2] (mailer).pattern: ..." -> field "params.rules[2].pattern"
        const qsizetype colon = why.indexOf(u": ");
        QString field = why.first(std::max<qsizetype>(colon, 0));
        if (const qsizetype space = field.indexOf(u" ("); space >= 0)
            field.remove(space, field.indexOf(u')', space) - space + 1);
        *error = ProtocolError::badRequest(u"params." + field, why);
    }
    return compiled;
}

} // namespace

RewritingApi::RewritingApi(GreylistEngine &engine, Store &store, EventLog &events,
                           const Clock &clock, quint64 revision)
    : m_engine(engine)
    , m_store(store)
    , m_events(events)
    , m_clock(clock)
    , m_revision(revision)
{}

std::optional<std::optional<QJsonValue>> RewritingApi::call(const QString &method,
                                                            const QJsonObject &params,
                                                            const ControlCaller &caller,
                                                            ProtocolError *error)
{
    if (method == u"rewriting.list")
        return list(params, error);
    if (method == u"rewriting.set")
        return set(params, caller, error);
    if (method == u"rewriting.test")
        return test(params, error);
    return std::nullopt;
}

std::optional<QJsonValue> RewritingApi::list(const QJsonObject &params, ProtocolError *error)
{
    JsonFields f(params, QStringLiteral("params"));
    if (!f.onlyKnown({})) {
        *error = f.error();
        return std::nullopt;
    }
    QJsonObject out = m_engine.normaliser().senderRewriter()->rules().toJson();
    // --no-strip-sender-tags: the table is kept (and editable) but no decision uses it.
    out.insert(QStringLiteral("active"), m_engine.config().stripSenderTags);
    return out;
}

std::optional<QJsonValue> RewritingApi::set(const QJsonObject &params, const ControlCaller &caller,
                                            ProtocolError *error)
{
    JsonFields f(params, QStringLiteral("params"));
    qint64 version = 0;
    f.onlyKnown({u"version", u"rules"});
    if (!f.integer(u"version", &version, 0, 0xffffffffLL, true)) {
        *error = f.error();
        return std::nullopt;
    }
    const SenderRewriteRules &before = m_engine.normaliser().senderRewriter()->rules();
    if (quint32(version) != before.version) {
        *error = ProtocolError{
            ErrorCode::StaleVersion,
            QStringLiteral("the sender rewriting rules were changed since you loaded them (you "
                           "edited version %1, the proxy has version %2): reload them and apply "
                           "your edits again")
                .arg(version)
                .arg(before.version),
            QStringLiteral("params.version")};
        return std::nullopt;
    }
    std::shared_ptr<const SenderRewriter> compiled = compiledOf(params, error);
    if (!compiled)
        return std::nullopt;
    SenderRewriteRules after = compiled->rules();
    after.version = before.version + 1;
    QString unexpected; // the same rules compiled a moment ago: only the version differs
    compiled = SenderRewriter::compile(after, &unexpected);
    WriteBatch batch;
    batch.documents.append(SenderRewriteDocument::record(after, m_revision));
    batch.audit.append(
        SenderRewriteDocument::audit(before, after, caller.who, m_clock.now(), m_revision));
    QString why;
    if (!m_store.commit(batch, &why)) {
        *error = ProtocolError{ErrorCode::Internal,
                               u"the sender rewriting rules could not be saved (nothing was "
                               u"changed): " +
                                   why,
                               QString()};
        return std::nullopt;
    }
    // Committed: decisions from now on key on the new table.
    m_engine.normaliser().setSenderRewriter(std::move(compiled));
    Event e;
    e.type = EventType::PolicyChange;
    e.time = m_clock.now();
    e.subject = QStringLiteral("rewriting");
    e.action = QStringLiteral("rewriting.set");
    e.who = caller.who;
    e.ref = after.version;
    m_events.append(std::move(e));
    return QJsonObject{{QStringLiteral("version"), qint64(after.version)},
                       {QStringLiteral("rules"), after.rules.size()}};
}

std::optional<QJsonValue> RewritingApi::test(const QJsonObject &params, ProtocolError *error)
{
    JsonFields f(params, QStringLiteral("params"));
    QJsonArray addresses;
    f.onlyKnown({u"addresses", u"rules", u"version"});
    f.array(u"addresses", &addresses, true, kMaxSamples);
    for (qsizetype i = 0; f.ok() && i < addresses.size(); ++i) {
        if (!addresses[i].isString() ||
            addresses[i].toString().size() > TripletNormaliser::kMaxFieldBytes)
            f.fail(QStringLiteral("addresses[%1]").arg(i),
                   QStringLiteral("not a string of at most %1 characters")
                       .arg(TripletNormaliser::kMaxFieldBytes));
    }
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    // The proposed table through a normaliser of its own, stripping on: the preview shows
    // what the table does, whether or not this proxy runs with --no-strip-sender-tags.
    GreylistConfig config = m_engine.config();
    config.stripSenderTags = true;
    TripletNormaliser normaliser(config);
    normaliser.setSenderRewriter(m_engine.normaliser().senderRewriter());
    if (params.contains(u"rules")) {
        std::shared_ptr<const SenderRewriter> proposed = compiledOf(params, error);
        if (!proposed)
            return std::nullopt;
        normaliser.setSenderRewriter(std::move(proposed));
    }
    QJsonArray results;
    for (const QJsonValue &v : std::as_const(addresses)) {
        const QByteArray address = v.toString().toUtf8();
        SenderRewriteTrace trace;
        const QByteArray key = normaliser.normaliseSender(address, &trace);
        results.append(
            QJsonObject{{QStringLiteral("address"), v.toString()},
                        {QStringLiteral("normalised"), QString::fromUtf8(key)},
                        {QStringLiteral("applied"), QJsonArray::fromStringList(trace.applied)},
                        {QStringLiteral("skipped"), QJsonArray::fromStringList(trace.skipped)}});
    }
    return QJsonObject{{QStringLiteral("results"), results},
                       {QStringLiteral("active"), m_engine.config().stripSenderTags}};
}

} // namespace greygate
