// SPDX-License-Identifier: GPL-3.0-or-later
#include "SpfCheck.h"

#include "dns/DnsMessage.h"

namespace greygate {

namespace {

QByteArray lowerName(QByteArray name)
{
    name = name.toLower();
    if (name.endsWith('.'))
        name.chop(1);
    return name;
}

QByteArray dnsFailure(const char *type, const QByteArray &name, const DnsAnswer &answer)
{
    return QByteArray("DNS ") + type + " lookup for " + name + " failed: " +
           (answer.error.isEmpty() ? QByteArrayLiteral("temporary failure") : answer.error);
}

} // namespace

SpfCheck::SpfCheck(DnsLookup &dns, const QHostAddress &client, const QByteArray &sender,
                   const QByteArray &helo, Callback done)
    : m_dns(dns)
    , m_sender(sender)
    , m_done(std::move(done))
{
    m_macro.client = client;
    m_macro.sender = sender;
    m_macro.helo = helo;
}

void SpfCheck::start(const QByteArray &domain)
{
    m_outcome.domain = lowerName(domain);
    auto self = shared_from_this();
    checkHost(m_outcome.domain, 0, [self](SpfResult r, QByteArray via, QByteArray reason) {
        self->finish(r, std::move(via), std::move(reason));
    });
}

void SpfCheck::cancel(SpfResult result, const QByteArray &reason)
{
    finish(result, {}, reason);
}

void SpfCheck::finish(SpfResult result, QByteArray via, QByteArray reason)
{
    if (!m_done)
        return;
    m_outcome.result = result;
    m_outcome.via = std::move(via);
    m_outcome.reason = std::move(reason);
    Callback done = std::move(m_done);
    m_done = nullptr;
    done(m_outcome);
}

bool SpfCheck::ask(const QByteArray &name, DnsType type, const FramePtr &f,
                   std::function<void(const DnsAnswer &)> done)
{
    if (!m_done)
        return false;
    if (++m_queries > kMaxQueries) {
        f->done(SpfResult::PermError, {}, QByteArrayLiteral("too many DNS queries"));
        return false;
    }
    auto self = shared_from_this();
    m_dns.lookup(name, type, [self, done = std::move(done)](const DnsAnswer &answer) {
        if (self->m_done) // answered already (the deadline): nothing more to do
            done(answer);
    });
    return true;
}

void SpfCheck::checkHost(const QByteArray &domain, int depth, FrameDone done)
{
    // §4.3: a malformed or non-FQDN domain gives "none".
    if (!DnsMessage::isValidName(domain) || !domain.contains('.')) {
        done(SpfResult::None, {}, "'" + domain + "' is not a domain name");
        return;
    }
    auto f = std::make_shared<Frame>();
    f->domain = domain;
    f->depth = depth;
    f->done = std::move(done);
    ask(domain, DnsType::TXT, f, [this, f](const DnsAnswer &answer) {
        if (answer.status == DnsAnswer::Status::NxDomain) {
            f->done(SpfResult::None, {}, f->domain + " does not exist");
            return;
        }
        if (!answer.ok()) {
            f->done(SpfResult::TempError, {}, dnsFailure("TXT", f->domain, answer));
            return;
        }
        const DnsRecord *spf = nullptr;
        for (const DnsRecord &rec : answer.records) {
            if (!SpfRecord::isSpf(rec.text))
                continue;
            if (spf) {
                f->done(SpfResult::PermError, {}, f->domain + " has more than one SPF record");
                return;
            }
            spf = &rec;
        }
        if (!spf) {
            f->done(SpfResult::None, {}, f->domain + " has no SPF record");
            return;
        }
        QByteArray error;
        std::optional<SpfRecord> record = SpfRecord::parse(spf->text, &error);
        if (!record) {
            f->done(SpfResult::PermError, {}, "SPF record of " + f->domain + ": " + error);
            return;
        }
        f->record = std::move(*record);
        evaluate(f, 0);
    });
}

bool SpfCheck::countMechanism(const FramePtr &f)
{
    if (++m_outcome.dnsLookups <= kMaxDnsMechanisms)
        return true;
    f->done(SpfResult::PermError, {}, QByteArrayLiteral("more than 10 DNS-querying terms"));
    return false;
}

bool SpfCheck::countVoid(const FramePtr &f, const DnsAnswer &answer)
{
    if (!answer.isVoid() || ++m_outcome.voidLookups <= kMaxVoidLookups)
        return true;
    f->done(SpfResult::PermError, {}, QByteArrayLiteral("more than 2 void DNS lookups"));
    return false;
}

bool SpfCheck::targetOf(const FramePtr &f, const SpfTerm &term, QByteArray *target)
{
    if (term.domainSpec.isEmpty()) {
        *target = f->domain;
        return true;
    }
    SpfMacro::Context ctx = m_macro;
    ctx.domain = f->domain;
    if (!SpfMacro::expand(term.domainSpec, ctx, target)) {
        f->done(SpfResult::PermError, {}, "cannot expand '" + term.text + "'");
        return false;
    }
    *target = lowerName(*target);
    return true;
}

DnsType SpfCheck::addressType() const
{
    return m_macro.client.protocol() == QAbstractSocket::IPv6Protocol ? DnsType::AAAA : DnsType::A;
}

bool SpfCheck::addressMatches(const QList<DnsRecord> &records, const SpfTerm &term) const
{
    const bool v6 = m_macro.client.protocol() == QAbstractSocket::IPv6Protocol;
    for (const DnsRecord &rec : records) {
        if (rec.address.protocol() == m_macro.client.protocol() &&
            m_macro.client.isInSubnet(rec.address, v6 ? term.prefix6 : term.prefix4))
            return true;
    }
    return false;
}

void SpfCheck::evaluate(const FramePtr &f, qsizetype index)
{
    const bool v6 = m_macro.client.protocol() == QAbstractSocket::IPv6Protocol;
    for (qsizetype i = index; i < f->record.terms.size(); ++i) {
        const SpfTerm &term = f->record.terms[i];
        switch (term.kind) {
        case SpfTerm::Kind::All:
            matched(f, i, {});
            return;
        case SpfTerm::Kind::Ip4:
        case SpfTerm::Kind::Ip6:
            if ((term.kind == SpfTerm::Kind::Ip6) == v6 &&
                m_macro.client.isInSubnet(term.network, v6 ? term.prefix6 : term.prefix4)) {
                matched(f, i, {});
                return;
            }
            continue;
        default:
            break;
        }
        QByteArray target;
        if (!countMechanism(f) || !targetOf(f, term, &target))
            return;
        switch (term.kind) {
        case SpfTerm::Kind::Include:
            include(f, i, target);
            return;
        case SpfTerm::Kind::A:
            lookupA(f, i, target);
            return;
        case SpfTerm::Kind::Mx:
            lookupMx(f, i, target);
            return;
        case SpfTerm::Kind::Ptr:
            lookupPtr(f, i, target);
            return;
        case SpfTerm::Kind::Exists:
            lookupExists(f, i, target);
            return;
        default:
            return;
        }
    }
    redirect(f);
}

void SpfCheck::redirect(const FramePtr &f)
{
    if (!f->record.redirect) {
        f->done(SpfResult::Neutral, {}, QByteArrayLiteral("no mechanism matched"));
        return;
    }
    if (!countMechanism(f))
        return;
    SpfMacro::Context ctx = m_macro;
    ctx.domain = f->domain;
    QByteArray target;
    if (!SpfMacro::expand(*f->record.redirect, ctx, &target)) {
        f->done(SpfResult::PermError, {}, QByteArrayLiteral("cannot expand redirect="));
        return;
    }
    target = lowerName(target);
    checkHost(target, f->depth + 1, [f, target](SpfResult r, QByteArray via, QByteArray reason) {
        // §6.1: a redirect to a domain without a record is a permerror.
        if (r == SpfResult::None)
            f->done(SpfResult::PermError, {}, "redirect=" + target + ": " + reason);
        else
            f->done(r, QByteArray("redirect=" + target + ' ' + via).trimmed(), std::move(reason));
    });
}

void SpfCheck::matched(const FramePtr &f, qsizetype index, const QByteArray &via)
{
    const SpfTerm &term = f->record.terms[index];
    f->done(term.qualifier, via.isEmpty() ? term.text : term.text + ' ' + via, {});
}

void SpfCheck::include(const FramePtr &f, qsizetype index, const QByteArray &target)
{
    if (f->depth >= kMaxDnsMechanisms) {
        f->done(SpfResult::PermError, {}, QByteArrayLiteral("include nested too deeply"));
        return;
    }
    checkHost(target, f->depth + 1,
              [this, f, index, target](SpfResult r, QByteArray via, QByteArray reason) {
                  switch (r) {
                  case SpfResult::Pass:
                      matched(f, index, via);
                      return;
                  case SpfResult::Fail:
                  case SpfResult::SoftFail:
                  case SpfResult::Neutral:
                      evaluate(f, index + 1);
                      return;
                  case SpfResult::TempError:
                      f->done(r, {}, std::move(reason));
                      return;
                  case SpfResult::PermError:
                  case SpfResult::None:
                      f->done(SpfResult::PermError, {}, "include:" + target + ": " + reason);
                      return;
                  }
              });
}

void SpfCheck::lookupA(const FramePtr &f, qsizetype index, const QByteArray &target)
{
    ask(target, addressType(), f, [this, f, index, target](const DnsAnswer &answer) {
        if (answer.temporaryFailure() && answer.status != DnsAnswer::Status::Malformed) {
            f->done(SpfResult::TempError, {}, dnsFailure("A/AAAA", target, answer));
            return;
        }
        if (!countVoid(f, answer))
            return;
        if (addressMatches(answer.records, f->record.terms[index]))
            matched(f, index, {});
        else
            evaluate(f, index + 1);
    });
}

void SpfCheck::lookupMx(const FramePtr &f, qsizetype index, const QByteArray &target)
{
    ask(target, DnsType::MX, f, [this, f, index, target](const DnsAnswer &answer) {
        if (answer.temporaryFailure() && answer.status != DnsAnswer::Status::Malformed) {
            f->done(SpfResult::TempError, {}, dnsFailure("MX", target, answer));
            return;
        }
        if (!countVoid(f, answer))
            return;
        if (answer.records.size() > kMaxMxOrPtrNames) {
            f->done(SpfResult::PermError, {}, target + " has more than 10 MX records");
            return;
        }
        auto hosts = std::make_shared<QList<QByteArray>>();
        for (const DnsRecord &rec : answer.records)
            hosts->append(rec.target);
        mxHosts(f, index, hosts, 0);
    });
}

void SpfCheck::mxHosts(const FramePtr &f, qsizetype index, std::shared_ptr<QList<QByteArray>> hosts,
                       qsizetype next)
{
    if (next >= hosts->size()) {
        evaluate(f, index + 1);
        return;
    }
    const QByteArray host = hosts->at(next);
    ask(host, addressType(), f, [this, f, index, hosts, next, host](const DnsAnswer &answer) {
        if (answer.temporaryFailure() && answer.status != DnsAnswer::Status::Malformed) {
            f->done(SpfResult::TempError, {}, dnsFailure("A/AAAA", host, answer));
            return;
        }
        if (addressMatches(answer.records, f->record.terms[index]))
            matched(f, index, {});
        else
            mxHosts(f, index, hosts, next + 1);
    });
}

void SpfCheck::lookupPtr(const FramePtr &f, qsizetype index, const QByteArray &target)
{
    const QByteArray reverse = SpfMacro::reverseName(m_macro.client);
    ask(reverse, DnsType::PTR, f, [this, f, index, target](const DnsAnswer &answer) {
        // §5.5: a DNS error on the PTR lookup only means no match.
        if (!countVoid(f, answer))
            return;
        auto names = std::make_shared<QList<QByteArray>>();
        for (const DnsRecord &rec : answer.records) {
            if (names->size() >= kMaxMxOrPtrNames)
                break;
            // Only names that could match are validated: the others cannot change the result.
            if (rec.target == target || rec.target.endsWith(QByteArray('.' + target)))
                names->append(rec.target);
        }
        ptrNames(f, index, target, names, 0);
    });
}

void SpfCheck::ptrNames(const FramePtr &f, qsizetype index, const QByteArray &target,
                        std::shared_ptr<QList<QByteArray>> names, qsizetype next)
{
    if (next >= names->size()) {
        evaluate(f, index + 1);
        return;
    }
    const QByteArray name = names->at(next);
    ask(name, addressType(), f, [this, f, index, target, names, next](const DnsAnswer &answer) {
        // A validated name: its addresses include the client's.
        bool valid = false;
        for (const DnsRecord &rec : answer.records)
            valid = valid || rec.address.isEqual(m_macro.client);
        if (valid)
            matched(f, index, {});
        else
            ptrNames(f, index, target, names, next + 1);
    });
}

void SpfCheck::lookupExists(const FramePtr &f, qsizetype index, const QByteArray &target)
{
    // §5.7: always an A query, whatever the client's address family.
    ask(target, DnsType::A, f, [this, f, index, target](const DnsAnswer &answer) {
        if (answer.temporaryFailure() && answer.status != DnsAnswer::Status::Malformed) {
            f->done(SpfResult::TempError, {}, dnsFailure("A", target, answer));
            return;
        }
        if (!countVoid(f, answer))
            return;
        if (!answer.records.isEmpty())
            matched(f, index, {});
        else
            evaluate(f, index + 1);
    });
}

} // namespace greygate
