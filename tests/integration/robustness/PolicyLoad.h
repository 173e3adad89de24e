// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QMutex>
#include <QStringList>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

class QRandomGenerator;

namespace greygate::test::robustness {

struct LoadTriplet
{
    QByteArray client;
    QByteArray sender;
    QByteArray recipient;
};

// Policy-delegation load for the robustness tests: `clients` threads, each with its own
// connection (a blocking PolicyClient), sending RCPT requests for new triplets (unique per
// load, client and request, letters only so normalisation keeps them apart) until stopped or
// a bound (count or time) is reached. It records every triplet that got an answer, every
// answer the check refused, and every request left unanswered within the deadline or
// dropped with its connection (expected under kill -9, a failure anywhere else).
class PolicyLoad
{
public:
    struct Options
    {
        int clients = 4;
        int maxRequestsPerClient = 20'000;
        int runMs = 30'000;           // bound on the whole run
        int answerTimeoutMs = 10'000; // a request unanswered after this counts as unanswered
        bool reconnect = false;       // connect again after a drop (else the client stops)
        int pauseUs = 0;              // between requests of one client, to hold a rate
        int distinct = 0;             // > 0: each client cycles over this many triplets, so
                                      // the daemon's state stops growing (a steady state)
        QByteArray tag;               // makes this load's triplets distinct from others'
    };
    // True for an acceptable answer (the action without "action=").
    using Check = std::function<bool(const QByteArray &action)>;

    PolicyLoad(quint16 port, Options options, Check check);
    ~PolicyLoad();
    PolicyLoad(const PolicyLoad &) = delete;
    PolicyLoad &operator=(const PolicyLoad &) = delete;

    void start();
    // Asks every client to stop and waits for them (each within its answer timeout).
    void stop();
    // Blocks (bounded) until at least n answers arrived.
    bool waitForAnswers(qint64 n, int timeoutMs) const;

    qint64 answered() const { return m_answered.load(); }
    qint64 unanswered() const { return m_unanswered.load(); }
    QList<LoadTriplet> answeredTriplets() const;
    // Answers the check refused and requests unanswered, with their reason (bounded).
    QStringList failures() const;
    qint64 refused() const { return m_refused.load(); }

    static LoadTriplet triplet(const QByteArray &tag, int client, int request);

private:
    void runClient(int client);
    void note(QStringList &list, const QString &what);

    quint16 m_port;
    Options m_options;
    Check m_check;
    std::atomic<bool> m_stop = false;
    std::atomic<qint64> m_answered = 0;
    std::atomic<qint64> m_unanswered = 0;
    std::atomic<qint64> m_refused = 0;
    mutable QMutex m_lock;
    QList<LoadTriplet> m_triplets;
    QStringList m_failures;
    std::vector<std::thread> m_threads;
};

// After a crash and the delay every triplet a client was answered about must pass: asks the
// daemon on port about `samples` of them picked at random and returns those it still defers
// (at most 10, as "sender: answer"); *error says why it could not ask.
QStringList deferredAmong(quint16 port, const QList<LoadTriplet> &answered, int samples,
                          QRandomGenerator &random, QString *error);

} // namespace greygate::test::robustness
