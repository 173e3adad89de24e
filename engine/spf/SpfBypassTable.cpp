// SPDX-License-Identifier: GPL-3.0-or-later
#include "SpfBypassTable.h"

namespace greygate {

qint64 SpfBypassTable::add(const QByteArray &domain, const QList<Range> &ranges, qint64 now,
                           qint64 lifetime)
{
    if (ranges.isEmpty() || ranges.size() > kMaxRanges || lifetime <= 0 || domain.isEmpty())
        return 0;
    expire(now);
    if (m_bypasses.size() >= kMaxBypasses)
        return 0;
    Bypass b;
    b.id = m_nextId++;
    b.domain = domain.toLower();
    b.ranges = ranges;
    b.createdAt = now;
    b.expiresAt = now + lifetime;
    m_bypasses.append(std::move(b));
    return m_bypasses.last().id;
}

bool SpfBypassTable::remove(qint64 id)
{
    return m_bypasses.removeIf([id](const Bypass &b) { return b.id == id; }) > 0;
}

bool SpfBypassTable::allows(QByteArrayView senderDomain, const QHostAddress &rawClient,
                            qint64 now) const
{
    if (m_bypasses.isEmpty())
        return false;
    QHostAddress client = rawClient;
    bool mapped = false;
    const quint32 v4 = rawClient.toIPv4Address(&mapped);
    if (mapped)
        client = QHostAddress(v4);
    for (const Bypass &b : m_bypasses) {
        if (b.expiresAt <= now || senderDomain.compare(b.domain, Qt::CaseInsensitive) != 0)
            continue;
        for (const Range &r : b.ranges) {
            if (r.first.protocol() == client.protocol() && client.isInSubnet(r.first, r.second))
                return true;
        }
    }
    return false;
}

int SpfBypassTable::expire(qint64 now)
{
    return int(m_bypasses.removeIf([now](const Bypass &b) { return b.expiresAt <= now; }));
}

QList<SpfBypassTable::Bypass> SpfBypassTable::list(qint64 now) const
{
    QList<Bypass> out;
    for (const Bypass &b : m_bypasses) {
        if (b.expiresAt > now)
            out.append(b);
    }
    return out;
}

} // namespace greygate
