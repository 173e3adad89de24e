// SPDX-License-Identifier: GPL-3.0-or-later
#include "DnsCache.h"

namespace greygate {

DnsCache::DnsCache()
    : DnsCache(Limits())
{}

DnsCache::DnsCache(const Limits &limits)
    : m_limits(limits)
{}

QByteArray DnsCache::keyOf(const QByteArray &name, DnsType type)
{
    QByteArray key = name.toLower();
    if (key.endsWith('.'))
        key.chop(1);
    return key.append('/').append(QByteArray::number(quint16(type)));
}

std::optional<DnsAnswer> DnsCache::find(const QByteArray &name, DnsType type, qint64 now)
{
    const auto it = m_entries.find(keyOf(name, type));
    if (it == m_entries.end())
        return std::nullopt;
    if (it->expires <= now) {
        m_use.erase(it->use);
        m_entries.erase(it);
        return std::nullopt;
    }
    m_use.splice(m_use.begin(), m_use, it->use);
    DnsAnswer answer = it->answer;
    answer.fromCache = true;
    const quint32 left = quint32(it->expires - now);
    for (DnsRecord &rec : answer.records)
        rec.ttl = qMin(rec.ttl, left);
    return answer;
}

void DnsCache::insert(const QByteArray &name, DnsType type, const DnsAnswer &answer,
                      std::optional<quint32> negativeTtl, qint64 now)
{
    qint64 ttl = 0;
    if (answer.ok() && !answer.records.isEmpty()) {
        ttl = m_limits.maxTtl;
        for (const DnsRecord &rec : answer.records)
            ttl = qMin(ttl, qint64(rec.ttl));
    } else if (answer.isVoid()) {
        ttl = negativeTtl ? qMin(qint64(*negativeTtl), m_limits.maxNegativeTtl) : 0;
    } else if (answer.status == DnsAnswer::Status::ServerFailure ||
               answer.status == DnsAnswer::Status::Timeout) {
        ttl = m_limits.failureTtl;
    }
    if (ttl <= 0 || m_limits.maxEntries <= 0)
        return;
    const QByteArray key = keyOf(name, type);
    auto it = m_entries.find(key);
    if (it == m_entries.end()) {
        while (m_entries.size() >= m_limits.maxEntries && !m_use.empty()) {
            m_entries.remove(m_use.back());
            m_use.pop_back();
        }
        m_use.push_front(key);
        it = m_entries.insert(key, Entry());
        it->use = m_use.begin();
    } else {
        m_use.splice(m_use.begin(), m_use, it->use);
    }
    it->answer = answer;
    it->answer.fromCache = false;
    it->stored = now;
    it->expires = now + ttl;
}

void DnsCache::clear()
{
    m_entries.clear();
    m_use.clear();
}

} // namespace greygate
