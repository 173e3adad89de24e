// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SmtpCounter.h"

#include <QtGlobal>

namespace greygate {

// The SMTP proxy's counters since it started (SmtpServer::stats(), /metrics): the server
// counts connections, its sessions count recipients, messages and backend failures into
// the instance of their I/O thread (SmtpWorker); each is written by one thread only and
// read with snapshot() from any (smtpcounter::bump/load).
struct SmtpStats
{
    quint64 sessions = 0; // accepted
    quint64 refusedTotal = 0;
    quint64 refusedPerClient = 0;
    quint64 refusedRate = 0;
    quint64 recipientsDeferred = 0; // 451 greylisted, or the decision could not be made
    quint64 recipientsRejected = 0; // 550 Blocked Senders
    quint64 messagesRelayed = 0;    // the backend's final reply was positive
    quint64 messagesRefused = 0;    // the end of DATA answered with a refusal
    quint64 backendFailures = 0;    // backend unreachable, refusing the session, or lost
    quint64 backendOpened = 0;      // backend connections a session opened itself

    // A copy whose every counter was read atomically.
    SmtpStats snapshot() const
    {
        using smtpcounter::load;
        return {load(sessions),        load(refusedTotal),       load(refusedPerClient),
                load(refusedRate),     load(recipientsDeferred), load(recipientsRejected),
                load(messagesRelayed), load(messagesRefused),    load(backendFailures),
                load(backendOpened)};
    }
    SmtpStats &operator+=(const SmtpStats &o)
    {
        sessions += o.sessions;
        refusedTotal += o.refusedTotal;
        refusedPerClient += o.refusedPerClient;
        refusedRate += o.refusedRate;
        recipientsDeferred += o.recipientsDeferred;
        recipientsRejected += o.recipientsRejected;
        messagesRelayed += o.messagesRelayed;
        messagesRefused += o.messagesRefused;
        backendFailures += o.backendFailures;
        backendOpened += o.backendOpened;
        return *this;
    }
};

} // namespace greygate
