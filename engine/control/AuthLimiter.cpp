// SPDX-License-Identifier: GPL-3.0-or-later
#include "AuthLimiter.h"

#include <algorithm>

namespace greygate {

AuthLimiter::AuthLimiter(int maxFailures, qint64 windowMs, qint64 banMs)
    : m_maxFailures(std::max(maxFailures, 1))
    , m_windowMs(std::max<qint64>(windowMs, 1))
    , m_banMs(std::max<qint64>(banMs, 0))
{
    m_clock.start();
}

bool AuthLimiter::banned(const QString &address) const
{
    const auto it = m_entries.constFind(address);
    return it != m_entries.cend() && it->bannedUntil > now();
}

bool AuthLimiter::fail(const QString &address)
{
    const qint64 t = now();
    auto it = m_entries.find(address);
    if (it == m_entries.end()) {
        if (m_entries.size() >= kMaxAddresses)
            prune();
        if (m_entries.size() >= kMaxAddresses)
            return true; // nothing to drop: refuse rather than forget
        it = m_entries.insert(address, Entry{0, t, 0});
    }
    if (t - it->windowStart >= m_windowMs) {
        it->windowStart = t;
        it->failures = 0;
    }
    if (++it->failures >= m_maxFailures) {
        it->bannedUntil = t + m_banMs;
        it->failures = 0;
        it->windowStart = t;
        return true;
    }
    return false;
}

void AuthLimiter::succeed(const QString &address)
{
    const auto it = m_entries.find(address);
    if (it != m_entries.end() && it->bannedUntil <= now())
        m_entries.erase(it);
}

void AuthLimiter::prune()
{
    const qint64 t = now();
    m_entries.removeIf([&](const QHash<QString, Entry>::iterator &it) {
        return it->bannedUntil <= t && t - it->windowStart >= m_windowMs;
    });
}

} // namespace greygate
