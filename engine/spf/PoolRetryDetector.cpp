// SPDX-License-Identifier: GPL-3.0-or-later
#include "PoolRetryDetector.h"

#include <QHashFunctions>
#include <QRandomGenerator>
#include <bit>
#include <cstring>

namespace greygate {

namespace {

// Distinct networks counted per group, at the most: a hostile client cycling through
// networks cannot grow a group without bound (the count then stays at this).
constexpr qsizetype kMaxNetworks = 1024;

} // namespace

QByteArray PoolRetry::summary() const
{
    return (senderDomain.isEmpty() ? QByteArrayLiteral("<>") : senderDomain) + " retrying from " +
           QByteArray::number(addresses.size()) + (addresses.size() == 1 ? " IP in " : " IPs in ") +
           QByteArray::number(networks) + (networks == 1 ? " network" : " networks");
}

bool PoolRetryDetector::Group::hasAddress(QByteArrayView address) const
{
    if (hasFirstAddress && QByteArrayView(firstAddress, firstAddressSize) == address)
        return true;
    for (const QByteArray &a : moreAddresses) {
        if (a == address)
            return true;
    }
    return false;
}

void PoolRetryDetector::Group::addNetwork(quint64 network)
{
    if (!hasNetwork) {
        firstNetwork = network;
        hasNetwork = true;
        return;
    }
    if (network == firstNetwork || moreNetworks.contains(network) ||
        moreNetworks.size() >= kMaxNetworks)
        return;
    moreNetworks.append(network);
}

void PoolRetryDetector::Group::reset(qint64 now)
{
    firstSeen = lastSeen = now;
    hasFirstAddress = false;
    firstAddressSize = 0;
    raised = false;
    moreAddresses.clear();
    moreNetworks.clear();
    firstNetwork = 0;
    hasNetwork = false;
}

PoolRetryDetector::PoolRetryDetector()
    : PoolRetryDetector(Options())
{}

PoolRetryDetector::PoolRetryDetector(const Options &options)
    : m_options(options)
    , m_seed(size_t(QRandomGenerator::system()->generate64()))
{
    m_options.maxGroups = qBound<qsizetype>(1, m_options.maxGroups, qsizetype(kNone) / 4);
}

PoolRetryDetector::~PoolRetryDetector() = default;

quint64 PoolRetryDetector::hashOf(QByteArrayView sender, QByteArrayView recipient) const
{
    return qHash(recipient, qHash(sender, m_seed));
}

qsizetype PoolRetryDetector::find(quint64 hash, const QByteArray &sender,
                                  const QByteArray &recipient) const
{
    for (size_t i = hash & m_cellMask;; i = (i + 1) & m_cellMask) {
        const Cell &c = m_cells[i];
        if (c.slot == kNone)
            return -1;
        if (c.hash == hash) {
            const Group &g = m_groups[c.slot];
            if (g.sender == sender && g.recipient == recipient)
                return qsizetype(i);
        }
    }
}

void PoolRetryDetector::unlink(quint32 slot)
{
    Group &g = m_groups[slot];
    (g.newer == kNone ? m_newest : m_groups[g.newer].older) = g.older;
    (g.older == kNone ? m_oldest : m_groups[g.older].newer) = g.newer;
    g.newer = g.older = kNone;
}

void PoolRetryDetector::pushNewest(quint32 slot)
{
    Group &g = m_groups[slot];
    g.newer = kNone;
    g.older = m_newest;
    if (m_newest != kNone)
        m_groups[m_newest].newer = slot;
    m_newest = slot;
    if (m_oldest == kNone)
        m_oldest = slot;
}

void PoolRetryDetector::eraseCell(size_t i)
{
    // Linear probing's deletion: later cells of the run that may move up do, so that no
    // probe stops early at the hole.
    for (size_t j = (i + 1) & m_cellMask; m_cells[j].slot != kNone; j = (j + 1) & m_cellMask) {
        const size_t home = m_cells[j].hash & m_cellMask;
        const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
            m_cells[i] = m_cells[j];
            i = j;
        }
    }
    m_cells[i] = Cell{};
}

quint32 PoolRetryDetector::takeSlot()
{
    if (m_count < m_options.maxGroups)
        return quint32(m_count++);
    const quint32 slot = m_oldest;
    Group &g = m_groups[slot];
    eraseCell(size_t(find(g.hash, g.sender, g.recipient)));
    unlink(slot);
    g.sender = QByteArray();
    g.recipient = QByteArray();
    return slot;
}

std::optional<PoolRetry> PoolRetryDetector::noteDeferred(const QByteArray &sender,
                                                         const QByteArray &recipient,
                                                         const QByteArray &address,
                                                         const QByteArray &network, qint64 now)
{
    if (!m_groups) {
        m_groups = std::make_unique<Group[]>(size_t(m_options.maxGroups));
        const size_t cells = std::bit_ceil(size_t(m_options.maxGroups) * 2);
        m_cells = std::make_unique<Cell[]>(cells);
        m_cellMask = cells - 1;
    }
    const quint64 hash = hashOf(sender, recipient);
    const qsizetype cell = find(hash, sender, recipient);
    quint32 slot = cell < 0 ? kNone : m_cells[cell].slot;
    if (slot == kNone) {
        slot = takeSlot();
        Group &g = m_groups[slot];
        g.sender = sender;
        g.recipient = recipient;
        g.hash = hash;
        g.reset(now);
        size_t i = hash & m_cellMask;
        while (m_cells[i].slot != kNone)
            i = (i + 1) & m_cellMask;
        m_cells[i] = Cell{hash, slot};
    } else {
        unlink(slot);
        // Past its window: the group starts again from this attempt.
        if (now - m_groups[slot].firstSeen > m_options.window)
            m_groups[slot].reset(now);
    }
    pushNewest(slot);
    Group &g = m_groups[slot];
    g.lastSeen = now;
    if (g.addressCount() < m_options.maxAddresses && !g.hasAddress(address)) {
        if (g.addressCount() == 0 && address.size() <= kInlineAddress) {
            std::memcpy(g.firstAddress, address.constData(), size_t(address.size()));
            g.firstAddressSize = quint8(address.size());
            g.hasFirstAddress = true;
        } else {
            g.moreAddresses.append(address);
        }
    }
    g.addNetwork(qHash(QByteArrayView(network), m_seed));
    if (g.raised || g.addressCount() < m_options.minAddresses ||
        g.networkCount() < m_options.minNetworks)
        return std::nullopt;
    g.raised = true;
    return retryOf(g);
}

PoolRetry PoolRetryDetector::retryOf(const Group &g) const
{
    PoolRetry r;
    r.sender = g.sender;
    r.recipient = g.recipient;
    const qsizetype at = g.sender.lastIndexOf('@');
    r.senderDomain = at < 0 ? g.sender : g.sender.sliced(at + 1);
    r.addresses.reserve(g.addressCount());
    if (g.hasFirstAddress)
        r.addresses.append(QByteArray(g.firstAddress, g.firstAddressSize));
    r.addresses.append(g.moreAddresses);
    r.networks = g.networkCount();
    r.firstSeen = g.firstSeen;
    r.lastSeen = g.lastSeen;
    return r;
}

QList<PoolRetry> PoolRetryDetector::detected(qint64 now) const
{
    QList<PoolRetry> out;
    for (qsizetype i = 0; i < m_count; ++i) {
        const Group &g = m_groups[i];
        if (g.raised && now - g.firstSeen <= m_options.window)
            out.append(retryOf(g));
    }
    return out;
}

} // namespace greygate
