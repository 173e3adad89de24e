// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "AutoAllowEntry.h"

#include <QHash>
#include <QList>
#include <optional>

namespace greygate {

// The Auto Allow database in memory: (external, internal) pairs with an expiry. Looked up
// on every inbound RCPT, written by learning from outbound mail, so it is separate from the
// compiled PolicyIndex (which is rebuilt only when an admin changes something).
class AutoAllowTable
{
public:
    static constexpr qsizetype kDefaultCapacity = 1'000'000;

    explicit AutoAllowTable(qsizetype capacity = kDefaultCapacity)
        : m_capacity(capacity)
    {}

    // Inserts, or refreshes an existing pair (first createdAt kept, expiry moved to the later
    // of the two). nullopt when the table is full: learning stops rather than growing without
    // bound; expire() makes room.
    std::optional<AutoAllowEntry> put(const AutoAllowEntry &entry);
    bool remove(QStringView externalAddress, QStringView internalAddress);
    void clear() { m_entries.clear(); }

    // The live entry letting mail from `external` to `internal` through: the pair itself, or
    // the external address allowed for every internal user ("*"). Raw bytes (angle brackets
    // and case are dealt with here). The pointer is valid until the table changes.
    const AutoAllowEntry *find(QByteArrayView external, QByteArrayView internal, Seconds now) const;

    // Removes and returns every entry whose expiresAt <= now.
    QList<AutoAllowEntry> expire(Seconds now);

    // Every entry, sorted by external then internal address (a stable listing).
    QList<AutoAllowEntry> entries() const;
    qsizetype size() const { return m_entries.size(); }

    static QByteArray keyOf(QStringView externalAddress, QStringView internalAddress);

private:
    QHash<QByteArray, AutoAllowEntry> m_entries;
    qsizetype m_capacity;
};

} // namespace greygate
