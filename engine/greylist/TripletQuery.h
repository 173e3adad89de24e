// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Triplet.h"

#include <QList>

namespace greygate {

// One page of the greylist for the console's queue view and the control API: filtered,
// sorted, with the total count of matches. Filters compare against the normalised keys.
struct TripletQuery
{
    enum class State : quint8
    {
        Any,
        Deferred,
        Passed,
    };
    enum class SortKey : quint8
    {
        FirstSeen,
        LastSeen,
        Attempts,
        Client,
        Sender,
        Recipient,
        PassAt,    // firstSeen + delay
        ExpiresAt, // the retry window's end (deferred) or the lifetime's (passed)
    };

    State state = State::Any;
    QByteArray client;    // the client key exactly ("192.0.2.0/24"); empty: any
    QByteArray sender;    // a substring of the sender; empty: any
    QByteArray recipient; // a substring of the recipient; empty: any
    QByteArray domain;    // the sender's or the recipient's domain exactly; empty: any
    SortKey sort = SortKey::LastSeen;
    bool descending = true;
    qsizetype offset = 0;
    qsizetype limit = 100;
};

struct TripletPage
{
    qsizetype total = 0; // matches over all pages
    QList<TripletRecord> records;
};

} // namespace greygate
