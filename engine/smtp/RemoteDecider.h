// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "CrossThreadQueue.h"
#include "SmtpDecider.h"

#include <QPointer>
#include <unordered_map>

namespace greygate {

// The SmtpDecider of an I/O thread (--smtp-threads): the engine and its handler are
// single-threaded, so each query is handed to `ask` (which posts it to the main thread,
// where the daemon's decider decides and commits as for any session) and the verdict comes
// back through answer(), from any thread, to be delivered on this object's thread. The
// SmtpDecider contract holds: the callback runs from the event loop, never inside decide(),
// and is dropped when its context is gone first.
class RemoteDecider final : public QObject, public SmtpDecider
{
public:
    using Ask =
        std::function<void(const SmtpRecipientQuery &query, RemoteDecider *from, quint64 ticket)>;

    explicit RemoteDecider(Ask ask, QObject *parent = nullptr);

    void decide(const SmtpRecipientQuery &query, QObject *context, Callback done) override;
    // Any thread: the verdict for `ticket`.
    void answer(quint64 ticket, const SmtpVerdict &verdict);

    qsizetype waitingCount() const { return qsizetype(m_waiting.size()); }

private:
    struct Waiting
    {
        QPointer<QObject> context;
        Callback done;
    };
    struct Answer
    {
        quint64 ticket = 0;
        SmtpVerdict verdict;
    };

    void deliver(std::vector<Answer> &answers);

    const Ask m_ask;
    std::unordered_map<quint64, Waiting> m_waiting;
    quint64 m_nextTicket = 1;
    CrossThreadQueue<Answer> m_answers;
};

} // namespace greygate
