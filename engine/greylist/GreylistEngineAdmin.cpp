// SPDX-License-Identifier: GPL-3.0-or-later
// GreylistEngine's admin operations (queue browsing, release, delete): the control API's,
// kept apart from the decision path in GreylistEngine.cpp.
#include "GreylistEngine.h"

#include <algorithm>

namespace greygate {

namespace {

constexpr char kSeparator = '\x1f';
// The status bit of CompactTriplet::attemptsAndStatus (as in GreylistEngine.cpp).
constexpr quint32 kPassedBit = 0x80000000u;

quint32 attemptsOf(quint32 attemptsAndStatus)
{
    return attemptsAndStatus & ~kPassedBit;
}

bool isPassed(quint32 attemptsAndStatus)
{
    return (attemptsAndStatus & kPassedBit) != 0;
}

struct Fields
{
    QByteArrayView client;
    QByteArrayView sender;
    QByteArrayView recipient;
};

Fields fieldsOf(QByteArrayView joined)
{
    const qsizetype a = joined.indexOf(kSeparator);
    const qsizetype b = a < 0 ? -1 : joined.indexOf(kSeparator, a + 1);
    if (a < 0 || b < 0)
        return Fields{joined, {}, {}};
    return Fields{joined.first(a), joined.sliced(a + 1, b - a - 1), joined.sliced(b + 1)};
}

QByteArrayView domainOf(QByteArrayView address)
{
    const qsizetype at = address.lastIndexOf('@');
    return at < 0 ? QByteArrayView() : address.sliced(at + 1);
}

} // namespace

Seconds GreylistEngine::expiresAt(const TripletState &state) const
{
    return Seconds(tripletDeadline(compact(state)));
}

TripletPage GreylistEngine::query(const TripletQuery &q) const
{
    std::vector<quint32> matches;
    for (quint32 s = 0; s < m_triplets.slotCount(); ++s) {
        if (!m_triplets.isLive(s))
            continue;
        const CompactTriplet &c = m_triplets.value(s);
        const bool passed = isPassed(c.attemptsAndStatus);
        if ((q.state == TripletQuery::State::Deferred && passed) ||
            (q.state == TripletQuery::State::Passed && !passed))
            continue;
        const Fields f = fieldsOf(m_triplets.key(s));
        if (!q.client.isEmpty() && f.client != q.client)
            continue;
        if (!q.sender.isEmpty() && !f.sender.contains(q.sender))
            continue;
        if (!q.recipient.isEmpty() && !f.recipient.contains(q.recipient))
            continue;
        if (!q.domain.isEmpty() && domainOf(f.sender) != q.domain &&
            domainOf(f.recipient) != q.domain)
            continue;
        matches.push_back(s);
    }

    const auto number = [&](quint32 s) -> qint64 {
        const CompactTriplet &c = m_triplets.value(s);
        switch (q.sort) {
        case TripletQuery::SortKey::FirstSeen:
            return c.firstSeen;
        case TripletQuery::SortKey::LastSeen:
            return c.lastSeen;
        case TripletQuery::SortKey::Attempts:
            return attemptsOf(c.attemptsAndStatus);
        case TripletQuery::SortKey::PassAt:
            return qint64(c.firstSeen) + m_config.delay;
        case TripletQuery::SortKey::ExpiresAt:
            return tripletDeadline(c);
        default:
            return 0;
        }
    };
    const auto text = [&](quint32 s) -> QByteArrayView {
        const Fields f = fieldsOf(m_triplets.key(s));
        switch (q.sort) {
        case TripletQuery::SortKey::Client:
            return f.client;
        case TripletQuery::SortKey::Sender:
            return f.sender;
        case TripletQuery::SortKey::Recipient:
            return f.recipient;
        default:
            return {};
        }
    };
    // Ascending order with the whole key as the tie-break, so pages never overlap or skip.
    const auto ascending = [&](quint32 a, quint32 b) {
        const qint64 na = number(a), nb = number(b);
        if (na != nb)
            return na < nb;
        const int t = text(a).compare(text(b));
        if (t != 0)
            return t < 0;
        return m_triplets.key(a).compare(m_triplets.key(b)) < 0;
    };
    const auto order = [&](quint32 a, quint32 b) {
        return q.descending ? ascending(b, a) : ascending(a, b);
    };

    TripletPage page;
    page.total = qsizetype(matches.size());
    const size_t offset = size_t(std::max<qsizetype>(q.offset, 0));
    if (offset >= matches.size() || q.limit <= 0)
        return page;
    const size_t end = std::min(matches.size(), offset + size_t(q.limit));
    // Select the page, then sort only it: linear in the matches whatever the page's depth
    // (a partial sort of everything up to the page made deep pages of 1M entries take ~1 s).
    if (offset > 0)
        std::nth_element(matches.begin(), matches.begin() + qsizetype(offset), matches.end(),
                         order);
    std::partial_sort(matches.begin() + qsizetype(offset), matches.begin() + qsizetype(end),
                      matches.end(), order);
    for (size_t i = offset; i < end; ++i) {
        const quint32 s = matches[i];
        const QByteArray joined = m_triplets.key(s).toByteArray();
        page.records.append(
            TripletRecord{TripletKey::split(joined).value_or(TripletKey{joined, {}, {}}),
                          expand(m_triplets.value(s))});
    }
    return page;
}

GreylistEngine::ReleaseResult GreylistEngine::release(const TripletKey &key, WriteBatch &changes)
{
    const quint32 slot = m_triplets.find(key.joined());
    if (slot == KeyedSlotTable<CompactTriplet>::npos)
        return ReleaseResult::NotFound;
    CompactTriplet &c = m_triplets.value(slot);
    if (isPassed(c.attemptsAndStatus))
        return ReleaseResult::AlreadyPassed;
    const quint32 now = stored(m_clock.now());
    c.passedAt = c.lastSeen = now;
    c.attemptsAndStatus |= kPassedBit;
    // The lifetime's end is later than the retry window's: the queued item finds the entry
    // early and re-queues it, as for any refresh.
    schedule(slot, tripletDeadline(c), c.queued);
    record(slot, key, changes);
    return ReleaseResult::Released;
}

bool GreylistEngine::remove(const TripletKey &key, WriteBatch &changes)
{
    const QByteArray joined = key.joined();
    const quint32 slot = m_triplets.find(joined);
    if (slot == KeyedSlotTable<CompactTriplet>::npos)
        return false;
    // Its heap item goes stale: the sweep skips items whose slot is free or holds another
    // entry with a different deadline, and re-checks the real deadline otherwise.
    m_triplets.remove(slot);
    changes.removeTriplets.append(joined);
    return true;
}

} // namespace greygate
