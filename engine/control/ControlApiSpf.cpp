// SPDX-License-Identifier: GPL-3.0-or-later
// ControlApi's pool-retry methods (docs/api.md, "Pool retries"): the retries the handler's
// detector reported (poolretry.list), and the expiring bypasses it offers, scoped to a sender
// domain and the address ranges its SPF record passes (poolbypass.list/add/remove). The
// bypasses live in this daemon's memory (GreylistPolicyHandler's SpfBypassTable): every
// change is audited in the store, and the table starts empty after a restart.
#include "ControlApi.h"
#include "dns/DnsResolver.h"
#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "policy/PolicySet.h"
#include "policyd/GreylistPolicyHandler.h"
#include "protocol/JsonFields.h"
#include "spf/SpfEvaluator.h"
#include "spf/SpfFlattener.h"
#include "store/Store.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace greygate {

using namespace protocol;

namespace {

using Range = SpfBypassTable::Range;

constexpr qint64 kMinLifetime = 5;          // seconds (tests use a few)
constexpr qint64 kMaxLifetime = 7 * 86'400; // a bypass is a stopgap, not a policy
constexpr qsizetype kMaxReason = 500;

QString rangeText(const Range &r)
{
    return r.first.toString() + u'/' + QString::number(r.second);
}

QJsonObject bypassJson(const SpfBypassTable::Bypass &b, qint64 now)
{
    QJsonArray ranges;
    for (const Range &r : b.ranges)
        ranges.append(rangeText(r));
    return QJsonObject{{QStringLiteral("id"), b.id},
                       {QStringLiteral("domain"), QString::fromLatin1(b.domain)},
                       {QStringLiteral("ranges"), ranges},
                       {QStringLiteral("createdAt"), b.createdAt},
                       {QStringLiteral("expiresAt"), b.expiresAt},
                       {QStringLiteral("remaining"), std::max<qint64>(b.expiresAt - now, 0)}};
}

QJsonObject retryJson(const PoolRetry &r)
{
    QJsonArray addresses;
    for (const QByteArray &a : r.addresses)
        addresses.append(QString::fromLatin1(a));
    return QJsonObject{{QStringLiteral("domain"), QString::fromUtf8(r.senderDomain)},
                       {QStringLiteral("sender"), QString::fromUtf8(r.sender)},
                       {QStringLiteral("recipient"), QString::fromUtf8(r.recipient)},
                       {QStringLiteral("addresses"), addresses},
                       {QStringLiteral("ips"), qint64(r.addresses.size())},
                       {QStringLiteral("networks"), r.networks},
                       {QStringLiteral("firstSeen"), r.firstSeen},
                       {QStringLiteral("lastSeen"), r.lastSeen},
                       {QStringLiteral("summary"), QString::fromUtf8(r.summary())}};
}

// A sender domain as the handler compares it (lower case, letters, digits, '-', '_', '.'),
// so that nothing but a domain reaches the table, the audit log or a DNS query.
std::optional<QByteArray> domainOf(const QString &text)
{
    const QByteArray d = text.trimmed().toLower().toLatin1();
    if (d.isEmpty() || d.size() > 253 || !d.contains('.') || d.startsWith('.') || d.endsWith('.'))
        return std::nullopt;
    for (char c : d) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return std::nullopt;
    }
    return d;
}

// "192.0.2.0/24", "2001:db8::/32" or a bare address (a host range).
std::optional<Range> rangeOf(const QString &text)
{
    if (!text.contains(u'/')) {
        const QHostAddress a(text);
        if (a.isNull())
            return std::nullopt;
        return Range(a, a.protocol() == QAbstractSocket::IPv4Protocol ? 32 : 128);
    }
    const Range r = QHostAddress::parseSubnet(text);
    if (r.first.isNull() || r.second < 0)
        return std::nullopt;
    return r;
}

struct BypassRequest
{
    QByteArray domain;
    qint64 lifetime = 0;
    QString reason;
    std::optional<QList<Range>> ranges; // nullopt: flatten the domain's SPF record
};

std::optional<BypassRequest> bypassRequestOf(const QJsonObject &params, ProtocolError *error)
{
    JsonFields f(params, QStringLiteral("params"));
    QString domain;
    qint64 hours = 0;
    BypassRequest r;
    QJsonArray ranges;
    f.onlyKnown({u"domain", u"hours", u"for", u"reason", u"ranges"});
    f.string(u"domain", &domain, true, 253);
    f.integer(u"hours", &hours, 1, kMaxLifetime / 3600);
    f.integer(u"for", &r.lifetime, kMinLifetime, kMaxLifetime);
    f.string(u"reason", &r.reason, false, kMaxReason);
    f.array(u"ranges", &ranges, false, SpfBypassTable::kMaxRanges);
    if (f.ok() && (hours == 0) == (r.lifetime == 0))
        f.fail(u"hours", QStringLiteral("give either hours or for (seconds)"));
    if (f.ok() && r.reason.contains(u'\n'))
        f.fail(u"reason", QStringLiteral("one line only"));
    std::optional<QByteArray> d = domainOf(domain);
    if (f.ok() && !d)
        f.fail(u"domain", QStringLiteral("not a domain name (letters, digits, '-', '_', dots)"));
    if (f.ok() && f.has(u"ranges")) {
        QList<Range> parsed;
        for (const QJsonValue &v : std::as_const(ranges)) {
            const std::optional<Range> range = rangeOf(v.toString());
            if (!range) {
                f.fail(u"ranges", QStringLiteral("not an address or a network: \"%1\"")
                                      .arg(v.toString().left(64)));
                break;
            }
            parsed.append(*range);
        }
        if (f.ok() && parsed.isEmpty())
            f.fail(u"ranges", QStringLiteral("empty: leave it out to use the SPF record"));
        r.ranges = std::move(parsed);
    }
    if (!f.ok()) {
        *error = f.error();
        return std::nullopt;
    }
    r.domain = std::move(*d);
    if (hours)
        r.lifetime = hours * 3600;
    return r;
}

} // namespace

std::optional<ControlApi::Result> ControlApi::spfCall(const QString &method,
                                                      const QJsonObject &params,
                                                      const ControlCaller &caller, Error *error)
{
    if (!method.startsWith(u"poolretry.") && !method.startsWith(u"poolbypass."))
        return std::nullopt;
    JsonFields f(params, QStringLiteral("params"));
    const qint64 now = m_clock.now();
    if (method == u"poolretry.list") {
        if (!f.onlyKnown({})) {
            *error = f.error();
            return Result();
        }
        QJsonArray retries;
        for (const PoolRetry &r : m_handler.poolRetries())
            retries.append(retryJson(r));
        return Result(
            QJsonObject{{QStringLiteral("time"), now}, {QStringLiteral("retries"), retries}});
    }
    if (method == u"poolbypass.list") {
        if (!f.onlyKnown({})) {
            *error = f.error();
            return Result();
        }
        QJsonArray bypasses;
        for (const SpfBypassTable::Bypass &b : m_handler.poolBypasses())
            bypasses.append(bypassJson(b, now));
        return Result(
            QJsonObject{{QStringLiteral("time"), now}, {QStringLiteral("bypasses"), bypasses}});
    }
    if (method == u"poolbypass.remove") {
        qint64 id = 0;
        f.onlyKnown({u"id"});
        if (!f.integer(u"id", &id, 1, JsonFields::kMaxExactInteger, true)) {
            *error = f.error();
            return Result();
        }
        QJsonObject before;
        for (const SpfBypassTable::Bypass &b : m_handler.poolBypasses())
            if (b.id == id)
                before = bypassJson(b, now);
        if (before.isEmpty() || !m_handler.removePoolBypass(id)) {
            *error =
                Error{ErrorCode::NotFound,
                      QStringLiteral("no pool bypass %1 (it may have expired)").arg(id), QString()};
            return Result();
        }
        auditPoolBypass(QStringLiteral("poolbypass.remove"), id, before, QJsonObject(), caller);
        return Result(QJsonObject{{QStringLiteral("ok"), true}});
    }
    if (method == u"poolbypass.add") {
        // Reached only with ranges given (spfCallAsync takes the others) or when refused.
        const std::optional<BypassRequest> r = bypassRequestOf(params, error);
        if (!r)
            return Result();
        return addPoolBypass(r->domain, r->ranges.value_or(QList<Range>()), r->lifetime, r->reason,
                             caller, error);
    }
    *error = ProtocolError::badRequest(QStringLiteral("method"), QStringLiteral("unknown method"));
    return Result();
}

bool ControlApi::spfCallAsync(const QString &method, const QJsonObject &params,
                              const ControlCaller &caller, Reply &reply)
{
    if (method == u"policy.explain" && m_handler.spfKeyer()) {
        explainSpfKey(params, std::move(reply));
        return true;
    }
    if (method != u"poolbypass.add")
        return false;
    Error error;
    const std::optional<BypassRequest> r = bypassRequestOf(params, &error);
    // Answered by call(): the error, the ranges as given, or the Redis refusal.
    if (!r || r->ranges || m_store.kind() == u"redis")
        return false;
    DnsLookup *dns = spfDns(&error);
    if (!dns) {
        reply(std::nullopt, error);
        return true;
    }
    SpfFlattener::flatten(
        *dns, r->domain,
        [self = std::weak_ptr<ControlApi *>(m_self), request = *r, caller,
         reply = std::move(reply)](SpfFlattener::Result &&flat) {
            const std::shared_ptr<ControlApi *> api = self.lock();
            if (!api)
                return;
            Error failed;
            if (!flat.ok || flat.ranges.isEmpty()) {
                failed = Error{ErrorCode::Conflict,
                               QStringLiteral("cannot scope a bypass to the SPF record of %1: %2; "
                                              "give the address ranges yourself (\"ranges\")")
                                   .arg(QString::fromLatin1(request.domain),
                                        flat.ok ? QStringLiteral("it passes no address range")
                                                : QString::fromUtf8(flat.error)),
                               QString()};
                return reply(std::nullopt, failed);
            }
            Result out = (*api)->addPoolBypass(request.domain, flat.ranges, request.lifetime,
                                               request.reason, caller, &failed);
            if (out && !flat.skipped.isEmpty()) {
                QJsonArray skipped;
                for (const QByteArray &s : std::as_const(flat.skipped))
                    skipped.append(QString::fromUtf8(s));
                QJsonObject o = out->toObject();
                o.insert(QStringLiteral("skipped"), skipped);
                out = o;
            }
            reply(out, failed);
        });
    return true;
}

void ControlApi::explainSpfKey(const QJsonObject &params, Reply reply)
{
    // The policies' explanation as without SPF; then the sender's SPF decides the triplet's
    // key as it would for a decision (docs/spf.md, "Which key, and why").
    Error error;
    Result out = explain(params, &error);
    if (!out)
        return reply(std::nullopt, error);
    QJsonObject result = out->toObject();
    if (!result.contains(u"triplet"))
        return reply(result, Error{});
    const QByteArray client = params.value(u"client").toString().toUtf8();
    const QByteArray sender = params.value(u"sender").toString().toUtf8();
    m_handler.spfKeyer()->key(
        client, sender, QByteArray(),
        [self = std::weak_ptr<ControlApi *>(m_self), result,
         reply = std::move(reply)](SpfKeying &&keying) mutable {
            const std::shared_ptr<ControlApi *> api = self.lock();
            if (!api)
                return;
            QJsonObject triplet = result.value(u"triplet").toObject();
            if (keying.client) {
                TripletKey key{*keying.client, triplet.value(u"sender").toString().toUtf8(),
                               triplet.value(u"recipient").toString().toUtf8()};
                const std::optional<TripletState> t = (*api)->m_engine.triplet(key);
                triplet.insert(QStringLiteral("client"), QString::fromUtf8(key.client));
                triplet.insert(QStringLiteral("key"), QString::fromUtf8(key.client));
                triplet.insert(QStringLiteral("state"), !t ? QStringLiteral("unknown")
                                                        : t->status == TripletStatus::Passed
                                                            ? QStringLiteral("passed")
                                                            : QStringLiteral("deferred"));
            }
            triplet.insert(QStringLiteral("keyWhy"), QString::fromUtf8(keying.explanation));
            result.insert(QStringLiteral("triplet"), triplet);
            reply(result, Error{});
        });
}

ControlApi::Result ControlApi::addPoolBypass(const QByteArray &domain, const QList<Range> &ranges,
                                             qint64 lifetime, const QString &reason,
                                             const ControlCaller &caller, Error *error)
{
    if (m_store.kind() == u"redis") {
        // The bypass table is this host's memory: the other greygated hosts sharing the
        // store would go on greylisting the domain. A timed release is shared.
        *error = Error{ErrorCode::Conflict,
                       QStringLiteral("pool bypasses are kept in one greygated's memory and would "
                                      "not reach the other hosts sharing the Redis store: use a "
                                      "timed release of the domain instead (release.create "
                                      "kind=domain, greygatectl release --domain %1 --for 4h)")
                           .arg(QString::fromLatin1(domain)),
                       QString()};
        return std::nullopt;
    }
    const qint64 id = m_handler.addPoolBypass(domain, ranges, lifetime);
    if (id == 0) {
        *error = Error{ErrorCode::Conflict,
                       QStringLiteral("the pool bypass table is full (%1 bypasses, %2 ranges "
                                      "each at most): remove some first")
                           .arg(SpfBypassTable::kMaxBypasses)
                           .arg(SpfBypassTable::kMaxRanges),
                       QString()};
        return std::nullopt;
    }
    QJsonObject added;
    for (const SpfBypassTable::Bypass &b : m_handler.poolBypasses())
        if (b.id == id)
            added = bypassJson(b, m_clock.now());
    QJsonObject audited = added;
    if (!reason.isEmpty())
        audited.insert(QStringLiteral("reason"), reason);
    auditPoolBypass(QStringLiteral("poolbypass.add"), id, QJsonObject(), audited, caller);
    return added;
}

void ControlApi::auditPoolBypass(const QString &what, qint64 id, const QJsonObject &before,
                                 const QJsonObject &after, const ControlCaller &caller)
{
    AuditRecord a;
    a.revision = m_handler.policies().set().revision();
    a.time = m_clock.now();
    a.who = caller.who.toUtf8();
    a.what = what.toUtf8();
    a.objectId = "poolBypass:" + QByteArray::number(id);
    if (!before.isEmpty())
        a.beforeJson = QJsonDocument(before).toJson(QJsonDocument::Compact);
    if (!after.isEmpty())
        a.afterJson = QJsonDocument(after).toJson(QJsonDocument::Compact);
    WriteBatch batch;
    batch.audit.append(std::move(a));
    // The bypass is in force already; a failing store loses the audit line only, and says so.
    Error ignored;
    if (!commit(batch, &ignored))
        qWarning("pool bypass %lld: audit not saved: %s", id, qPrintable(ignored.message));
}

DnsLookup *ControlApi::spfDns(Error *error)
{
    if (SpfTripletKeyer *keyer = m_handler.spfKeyer())
        return &keyer->evaluator().dns();
    if (!m_ownDns) {
        const std::optional<DnsServerAddress> server = DnsServerAddress::fromResolvConf();
        if (!server) {
            *error =
                Error{ErrorCode::Conflict,
                      QStringLiteral("no DNS server to read the SPF record from: start "
                                     "greygated with --triplet-key=spf --dns-server=HOST:PORT, "
                                     "or give the address ranges yourself (\"ranges\")"),
                      QString()};
            return nullptr;
        }
        DnsResolverOptions options;
        options.server = *server;
        m_ownDns = std::make_unique<DnsResolver>(options);
    }
    return m_ownDns.get();
}

void ControlApi::recordPoolRetry(const PoolRetry &retry)
{
    Event e;
    e.type = EventType::PoolRetry;
    e.time = m_clock.now();
    e.subject = QString::fromUtf8(retry.senderDomain);
    e.sender = retry.sender;
    e.recipient = retry.recipient;
    e.client = retry.addresses.join(',');
    e.attempts = quint32(retry.addresses.size());
    e.ref = retry.networks;
    e.action = QString::fromUtf8(retry.summary());
    m_events.append(std::move(e));
}

} // namespace greygate
