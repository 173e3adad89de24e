// SPDX-License-Identifier: GPL-3.0-or-later
#include "SpfFlattener.h"

#include "SpfRecord.h"

namespace greygate {

SpfFlattener::SpfFlattener(DnsLookup &dns, Callback done)
    : m_dns(dns)
    , m_done(std::move(done))
{}

void SpfFlattener::flatten(DnsLookup &dns, const QByteArray &domain, Callback done)
{
    std::shared_ptr<SpfFlattener> f(new SpfFlattener(dns, std::move(done)));
    ++f->m_pending; // held until the first visit is under way
    f->visit(domain.toLower());
    f->release();
}

void SpfFlattener::fail(const QByteArray &error)
{
    if (m_result.error.isEmpty())
        m_result.error = error;
}

void SpfFlattener::release()
{
    if (--m_pending > 0 || !m_done)
        return;
    m_result.ok = m_result.error.isEmpty() && !m_result.ranges.isEmpty();
    if (m_result.error.isEmpty() && m_result.ranges.isEmpty())
        m_result.error = QByteArrayLiteral("the SPF record passes no address range");
    Callback done = std::move(m_done);
    m_done = nullptr;
    done(std::move(m_result));
}

void SpfFlattener::ask(const QByteArray &name, DnsType type,
                       std::function<void(const DnsAnswer &)> next)
{
    if (++m_queries > kMaxQueries) {
        fail(QByteArrayLiteral("too many DNS queries"));
        return;
    }
    ++m_pending;
    auto self = shared_from_this();
    m_dns.lookup(name, type, [self, next = std::move(next)](const DnsAnswer &answer) {
        next(answer);
        self->release();
    });
}

void SpfFlattener::visit(const QByteArray &domain)
{
    if (++m_records > kMaxRecords) {
        fail(QByteArrayLiteral("more than 10 SPF records to follow"));
        return;
    }
    ask(domain, DnsType::TXT, [this, domain](const DnsAnswer &answer) {
        if (!answer.ok()) {
            fail("no SPF record for " + domain);
            return;
        }
        const DnsRecord *spf = nullptr;
        int found = 0;
        for (const DnsRecord &rec : answer.records) {
            if (SpfRecord::isSpf(rec.text) && ++found == 1)
                spf = &rec;
        }
        if (found > 1)
            spf = nullptr; // two records: a permerror, nothing to flatten
        QByteArray error;
        const std::optional<SpfRecord> record =
            spf ? SpfRecord::parse(spf->text, &error) : std::nullopt;
        if (!record) {
            fail("no usable SPF record for " + domain);
            return;
        }
        for (const SpfTerm &term : record->terms) {
            if (term.qualifier != SpfResult::Pass)
                continue;
            if (term.domainSpec.contains('%') ||
                (record->redirect && record->redirect->contains('%')) ||
                term.kind == SpfTerm::Kind::Ptr || term.kind == SpfTerm::Kind::Exists ||
                term.kind == SpfTerm::Kind::All) {
                m_result.skipped.append(term.text);
                continue;
            }
            const QByteArray target =
                term.domainSpec.isEmpty() ? domain : term.domainSpec.toLower();
            switch (term.kind) {
            case SpfTerm::Kind::Ip4:
                m_result.ranges.append({term.network, term.prefix4});
                break;
            case SpfTerm::Kind::Ip6:
                m_result.ranges.append({term.network, term.prefix6});
                break;
            case SpfTerm::Kind::Include:
                visit(target);
                break;
            case SpfTerm::Kind::A:
                for (const DnsType type : {DnsType::A, DnsType::AAAA}) {
                    ask(target, type, [this, term](const DnsAnswer &a) {
                        for (const DnsRecord &r : a.records)
                            m_result.ranges.append(
                                {r.address, r.type == DnsType::A ? term.prefix4 : term.prefix6});
                    });
                }
                break;
            case SpfTerm::Kind::Mx:
                ask(target, DnsType::MX, [this, term](const DnsAnswer &mx) {
                    for (qsizetype i = 0; i < mx.records.size() && i < 10; ++i) {
                        for (const DnsType type : {DnsType::A, DnsType::AAAA}) {
                            ask(mx.records[i].target, type, [this, term](const DnsAnswer &a) {
                                for (const DnsRecord &r : a.records)
                                    m_result.ranges.append({r.address, r.type == DnsType::A
                                                                           ? term.prefix4
                                                                           : term.prefix6});
                            });
                        }
                    }
                });
                break;
            default:
                break;
            }
        }
        if (record->redirect && !record->redirect->contains('%'))
            visit(record->redirect->toLower());
    });
}

} // namespace greygate
