// SPDX-License-Identifier: GPL-3.0-or-later
#include "RemoteDecider.h"

namespace greygate {

RemoteDecider::RemoteDecider(Ask ask, QObject *parent)
    : QObject(parent)
    , m_ask(std::move(ask))
    , m_answers(this, [this](std::vector<Answer> &answers) { deliver(answers); })
{}

void RemoteDecider::decide(const SmtpRecipientQuery &query, QObject *context, Callback done)
{
    const quint64 ticket = m_nextTicket++;
    m_waiting.emplace(ticket, Waiting{context, std::move(done)});
    m_ask(query, this, ticket);
}

void RemoteDecider::answer(quint64 ticket, const SmtpVerdict &verdict)
{
    m_answers.post({ticket, verdict});
}

void RemoteDecider::deliver(std::vector<Answer> &answers)
{
    for (Answer &a : answers) {
        const auto it = m_waiting.find(a.ticket);
        if (it == m_waiting.end())
            continue;
        Waiting w = std::move(it->second);
        m_waiting.erase(it);
        if (w.context)
            w.done(a.verdict);
    }
}

} // namespace greygate
