// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SpfMacro.h"
#include "SpfRecord.h"
#include "SpfResult.h"
#include "dns/DnsLookup.h"

#include <QHostAddress>
#include <functional>
#include <memory>

namespace greygate {

// One RFC 7208 check_host() evaluation in progress (SpfEvaluator starts them). It lives as
// long as a DNS answer it waits for can still arrive (each callback holds it), and answers
// once: from the evaluation, or from cancel() when the evaluator's deadline came first.
class SpfCheck : public std::enable_shared_from_this<SpfCheck>
{
public:
    using Callback = std::function<void(const SpfOutcome &)>;

    static constexpr int kMaxDnsMechanisms = 10; // §4.6.4
    static constexpr int kMaxVoidLookups = 2;    // §4.6.4
    static constexpr int kMaxMxOrPtrNames = 10;  // §4.6.4
    static constexpr int kMaxQueries = 120;      // every query, a safety bound of our own

    SpfCheck(DnsLookup &dns, const QHostAddress &client, const QByteArray &sender,
             const QByteArray &helo, Callback done);

    // check_host(<ip>, <domain>, <sender>).
    void start(const QByteArray &domain);
    void cancel(SpfResult result, const QByteArray &reason);
    bool finished() const { return !m_done; }

private:
    using FrameDone = std::function<void(SpfResult, QByteArray via, QByteArray reason)>;
    struct Frame
    {
        QByteArray domain;
        SpfRecord record;
        int depth = 0;
        FrameDone done;
    };
    using FramePtr = std::shared_ptr<Frame>;

    void checkHost(const QByteArray &domain, int depth, FrameDone done);
    void evaluate(const FramePtr &f, qsizetype index);
    void matched(const FramePtr &f, qsizetype index, const QByteArray &via);
    void redirect(const FramePtr &f);
    void lookupA(const FramePtr &f, qsizetype index, const QByteArray &target);
    void lookupMx(const FramePtr &f, qsizetype index, const QByteArray &target);
    void mxHosts(const FramePtr &f, qsizetype index, std::shared_ptr<QList<QByteArray>> hosts,
                 qsizetype next);
    void lookupPtr(const FramePtr &f, qsizetype index, const QByteArray &target);
    void ptrNames(const FramePtr &f, qsizetype index, const QByteArray &target,
                  std::shared_ptr<QList<QByteArray>> names, qsizetype next);
    void lookupExists(const FramePtr &f, qsizetype index, const QByteArray &target);
    void include(const FramePtr &f, qsizetype index, const QByteArray &target);

    // The DNS query, unless the check is over or made too many; done() is not called then.
    bool ask(const QByteArray &name, DnsType type, const FramePtr &f,
             std::function<void(const DnsAnswer &)> done);
    bool countMechanism(const FramePtr &f);
    bool countVoid(const FramePtr &f, const DnsAnswer &answer);
    bool targetOf(const FramePtr &f, const SpfTerm &term, QByteArray *target);
    bool addressMatches(const QList<DnsRecord> &records, const SpfTerm &term) const;
    DnsType addressType() const;
    void finish(SpfResult result, QByteArray via, QByteArray reason);

    DnsLookup &m_dns;
    SpfMacro::Context m_macro;
    QByteArray m_sender;
    Callback m_done;
    SpfOutcome m_outcome;
    int m_queries = 0;
};

} // namespace greygate
