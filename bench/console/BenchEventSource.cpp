// SPDX-License-Identifier: GPL-3.0-or-later
#include "BenchEventSource.h"

#include "control/ControlServer.h"
#include "control/ControlTokens.h"
#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "policyd/GreylistPolicyHandler.h"
#include "store/SqliteStore.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>
#include <ctime>
#include <memory>

namespace greygate {

BenchEventSource::BenchEventSource(int rate, double seconds, QString dir)
    : m_rate(rate)
    , m_seconds(seconds)
    , m_dir(std::move(dir))
{}

void BenchEventSource::run()
{
    SystemClock clock;
    SqliteStoreOptions so;
    so.dbdir = m_dir;
    SqliteStore store(so);
    GreylistConfig config;
    GreylistEngine engine(config, clock);
    QString error;
    if (!store.open(&error) || !engine.load(store, &error)) {
        m_error = error;
        Q_EMIT ready(false);
        return;
    }
    GreylistPolicyHandler handler(engine, store, clock, GreylistPolicyOptions{});
    EventLog events;
    ControlOptions options;
    options.tokenDir = m_dir;
    options.proxyName = QStringLiteral("bench");
    ControlServer server(engine, store, handler, events, clock, options);
    if (!server.start(&error)) {
        m_error = error;
        Q_EMIT ready(false);
        return;
    }
    m_token =
        ControlTokens::readFile(ControlTokens::adminFile(m_dir), &error).value_or(QByteArray());
    m_port.store(server.serverPort());
    Q_EMIT ready(true);

    // A pool of realistic values, shared (implicitly) by the events as the recorder's are.
    QList<QByteArray> clients, senders, recipients;
    for (int i = 0; i < 997; ++i)
        clients.append(QByteArray("10.") + QByteArray::number(i % 200) + '.' +
                       QByteArray::number(i % 251) + '.' + QByteArray::number(i % 250 + 1));
    for (int i = 0; i < 4999; ++i)
        senders.append("sender" + QByteArray::number(i) + "@mail" + QByteArray::number(i % 331) +
                       ".example");
    for (int i = 0; i < 499; ++i)
        recipients.append("user" + QByteArray::number(i) + "@corp.example");
    const AttemptOutcome outcomes[] = {AttemptOutcome::Deferred, AttemptOutcome::Deferred,
                                       AttemptOutcome::Deferred, AttemptOutcome::Deferred,
                                       AttemptOutcome::Deferred, AttemptOutcome::Deferred,
                                       AttemptOutcome::Passed,   AttemptOutcome::PassedKnown,
                                       AttemptOutcome::Bypassed, AttemptOutcome::Blocked};

    QElapsedTimer since;
    quint64 n = 0;
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    tick.setInterval(5);
    QEventLoop loop;
    QObject::connect(&tick, &QTimer::timeout, &loop, [&] {
        if (m_stop.load()) {
            loop.quit();
            return;
        }
        if (!m_go.load())
            return;
        if (!since.isValid())
            since.start();
        const double elapsed = since.nsecsElapsed() / 1e9;
        if (elapsed >= m_seconds)
            return;
        // Catch up to the exact rate (bounded: one second's worth per tick at most).
        const quint64 due = quint64(elapsed * m_rate);
        const quint64 target = std::min(due, n + quint64(m_rate));
        for (; n < target; ++n) {
            Event e;
            e.type = EventType::Attempt;
            e.time = clock.now();
            e.outcome = outcomes[n % 10];
            e.attempts = quint32(1 + n % 3);
            e.client = clients.at(qsizetype(n % 997));
            e.sender = senders.at(qsizetype(n % 4999));
            e.recipient = recipients.at(qsizetype(n % 499));
            if (e.outcome == AttemptOutcome::Bypassed)
                e.action = QStringLiteral("policy 3: partners");
            events.append(std::move(e));
        }
        m_appended.store(n);
    });
    tick.start();
    loop.exec();
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    m_cpuSeconds = double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

} // namespace greygate
