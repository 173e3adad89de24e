// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyLoad.h"

#include "PolicyClient.h"
#include "RobustnessKit.h"

#include <QDeadlineTimer>
#include <QMutexLocker>
#include <QRandomGenerator>
#include <QThread>
#include <utility>

namespace greygate::test::robustness {

namespace {
constexpr qsizetype MaxFailuresKept = 20;
}

PolicyLoad::PolicyLoad(quint16 port, Options options, Check check)
    : m_port(port)
    , m_options(std::move(options))
    , m_check(std::move(check))
{}

PolicyLoad::~PolicyLoad()
{
    stop();
}

LoadTriplet PolicyLoad::triplet(const QByteArray &tag, int client, int request)
{
    return LoadTriplet{"198.51.100." + QByteArray::number(client % 250 + 1),
                       "s" + tag + letters(quint64(client)) + 'x' + letters(quint64(request)) +
                           "@load.example",
                       "r" + letters(quint64(request)) + "@dest.example"};
}

void PolicyLoad::start()
{
    m_stop = false;
    for (int c = 0; c < m_options.clients; ++c)
        m_threads.emplace_back([this, c] { runClient(c); });
}

void PolicyLoad::stop()
{
    m_stop = true;
    for (std::thread &t : m_threads)
        t.join();
    m_threads.clear();
}

bool PolicyLoad::waitForAnswers(qint64 n, int timeoutMs) const
{
    const QDeadlineTimer deadline(timeoutMs);
    while (m_answered < n && !deadline.hasExpired())
        QThread::msleep(2);
    return m_answered >= n;
}

QList<LoadTriplet> PolicyLoad::answeredTriplets() const
{
    const QMutexLocker locker(&m_lock);
    return m_triplets;
}

QStringList PolicyLoad::failures() const
{
    const QMutexLocker locker(&m_lock);
    return m_failures;
}

void PolicyLoad::note(QStringList &list, const QString &what)
{
    const QMutexLocker locker(&m_lock);
    if (list.size() < MaxFailuresKept)
        list.append(what);
}

void PolicyLoad::runClient(int client)
{
    const QDeadlineTimer deadline(m_options.runMs);
    PolicyClient policy;
    bool connected = policy.connectTo(m_port);
    QList<LoadTriplet> answered;
    for (int i = 0; i < m_options.maxRequestsPerClient && !m_stop && !deadline.hasExpired(); ++i) {
        if (!connected) {
            if (!m_options.reconnect)
                break;
            QThread::msleep(20);
            connected = policy.connectTo(m_port);
            --i; // the same request again, on the new connection
            continue;
        }
        const LoadTriplet t =
            triplet(m_options.tag, client, m_options.distinct > 0 ? i % m_options.distinct : i);
        const std::optional<QByteArray> action =
            policy.askRcpt(t.client, t.sender, t.recipient, {}, m_options.answerTimeoutMs);
        if (!action) {
            ++m_unanswered;
            note(m_failures, QStringLiteral("unanswered: %1 (%2)")
                                 .arg(QString::fromLatin1(t.sender), policy.errorString()));
            policy.close();
            connected = false;
            continue;
        }
        if (!m_check(*action)) {
            ++m_refused;
            note(m_failures, QString::fromLatin1(t.sender + " got " + *action));
        }
        if (m_options.distinct == 0 || i < m_options.distinct)
            answered.append(t);
        ++m_answered;
        if (m_options.pauseUs > 0)
            QThread::usleep(quint64(m_options.pauseUs));
    }
    policy.close();
    const QMutexLocker locker(&m_lock);
    m_triplets += answered;
}

QStringList deferredAmong(quint16 port, const QList<LoadTriplet> &answered, int samples,
                          QRandomGenerator &random, QString *error)
{
    QStringList deferred;
    PolicyClient policy;
    if (!policy.connectTo(port)) {
        *error = QStringLiteral("cannot connect to port %1").arg(port);
        return deferred;
    }
    for (int i = 0; i < samples && !answered.isEmpty(); ++i) {
        const LoadTriplet &t = answered.at(random.bounded(int(answered.size())));
        const auto action = policy.askRcpt(t.client, t.sender, t.recipient);
        if (!action) {
            *error = policy.errorString();
            return deferred;
        }
        if (action->startsWith("DEFER") && deferred.size() < 10)
            deferred.append(QString::fromLatin1(t.sender + ": " + *action));
    }
    return deferred;
}

} // namespace greygate::test::robustness
