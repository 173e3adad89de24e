// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QString>

namespace greygate {

// Failed authentications per address: after `maxFailures` within `windowMs` the address is
// banned for `banMs` (every connection from it refused at once). Bounded: at most
// kMaxAddresses are tracked; when full, entries neither banned nor recent are dropped, and
// failing that the new address is banned outright (a flood of addresses is an attack).
class AuthLimiter
{
public:
    static constexpr qsizetype kMaxAddresses = 10'000;

    AuthLimiter(int maxFailures, qint64 windowMs, qint64 banMs);

    bool banned(const QString &address) const;
    // Records one failure; true when the address is now banned.
    bool fail(const QString &address);
    void succeed(const QString &address);
    qsizetype tracked() const { return m_entries.size(); }

private:
    struct Entry
    {
        int failures = 0;
        qint64 windowStart = 0;
        qint64 bannedUntil = 0;
    };
    qint64 now() const { return m_clock.elapsed(); }
    void prune();

    int m_maxFailures;
    qint64 m_windowMs;
    qint64 m_banMs;
    QElapsedTimer m_clock;
    QHash<QString, Entry> m_entries;
};

} // namespace greygate
