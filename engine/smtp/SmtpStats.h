// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QtGlobal>

namespace greygate {

// The SMTP proxy's counters since it started (SmtpServer::stats(), /metrics): the server
// counts connections, its sessions count recipients, messages and backend failures into
// the one instance the server owns (same thread, plain increments).
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
};

} // namespace greygate
