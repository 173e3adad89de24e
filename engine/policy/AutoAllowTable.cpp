// SPDX-License-Identifier: GPL-3.0-or-later
#include "AutoAllowTable.h"

#include "MailAddress.h"

#include <algorithm>

namespace greygate {

namespace {

// '\x1f' never appears in an address the hot path accepts (no control bytes).
constexpr char kSeparator = '\x1f';

} // namespace

QByteArray AutoAllowTable::keyOf(QStringView externalAddress, QStringView internalAddress)
{
    return MailAddress::normalise(externalAddress).toUtf8() + kSeparator +
           MailAddress::normalise(internalAddress).toUtf8();
}

std::optional<AutoAllowEntry> AutoAllowTable::put(const AutoAllowEntry &entry)
{
    const QByteArray key = keyOf(entry.externalAddress, entry.internalAddress);
    auto it = m_entries.find(key);
    if (it == m_entries.end()) {
        if (m_entries.size() >= m_capacity)
            return std::nullopt;
        AutoAllowEntry stored = entry;
        stored.externalAddress = MailAddress::normalise(entry.externalAddress);
        stored.internalAddress = MailAddress::normalise(entry.internalAddress);
        it = m_entries.insert(key, stored);
        return *it;
    }
    it->expiresAt = std::max(it->expiresAt, entry.expiresAt);
    return *it;
}

bool AutoAllowTable::remove(QStringView externalAddress, QStringView internalAddress)
{
    return m_entries.remove(keyOf(externalAddress, internalAddress));
}

const AutoAllowEntry *AutoAllowTable::find(QByteArrayView external, QByteArrayView internal,
                                           Seconds now) const
{
    if (m_entries.isEmpty())
        return nullptr;
    const MailAddress::Lowered ext(external);
    const MailAddress::Lowered in(internal);
    if (!ext.valid() || ext.isNull() || !in.valid() || in.isNull())
        return nullptr;
    char buffer[2 * MailAddress::kMaxAddress + 1];
    const QByteArrayView e = ext.address();
    std::copy(e.begin(), e.end(), buffer);
    buffer[e.size()] = kSeparator;
    for (QByteArrayView who : {in.address(), QByteArrayView("*")}) {
        std::copy(who.begin(), who.end(), buffer + e.size() + 1);
        const auto it =
            m_entries.constFind(QByteArray::fromRawData(buffer, e.size() + 1 + who.size()));
        if (it != m_entries.cend() && it->liveAt(now))
            return &*it;
    }
    return nullptr;
}

QList<AutoAllowEntry> AutoAllowTable::expire(Seconds now)
{
    QList<AutoAllowEntry> gone;
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        if (!it->liveAt(now)) {
            gone.append(*it);
            it = m_entries.erase(it);
        } else {
            ++it;
        }
    }
    return gone;
}

QList<AutoAllowEntry> AutoAllowTable::entries() const
{
    QList<AutoAllowEntry> all = m_entries.values();
    std::sort(all.begin(), all.end(), [](const AutoAllowEntry &a, const AutoAllowEntry &b) {
        return std::tie(a.externalAddress, a.internalAddress) <
               std::tie(b.externalAddress, b.internalAddress);
    });
    return all;
}

} // namespace greygate
