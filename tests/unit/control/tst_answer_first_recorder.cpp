// SPDX-License-Identifier: GPL-3.0-or-later
// AnswerFirstRecorder: the policy server's decisions are recorded once their answers are
// written, with the request's own client, name, sender and recipient, although the parser
// has reused the request's buffers by then. A real SqliteStore in a temp dir, a ManualClock,
// and for the server cases real loopback sockets.

#include "control/AnswerFirstRecorder.h"
#include "control/DecisionRecorder.h"
#include "events/EventLog.h"
#include "greylist/GreylistEngine.h"
#include "policyd/GreylistPolicyHandler.h"
#include "policyd/PolicyRequestParser.h"
#include "policyd/PolicyServer.h"
#include "store/SqliteStore.h"

#include <QDeadlineTimer>
#include <QScopeGuard>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace greygate;

namespace {

// Info lines of "greygate.policyd" (Logger::write goes through Qt's handler while greygate's
// own is not installed, as in this test).
QStringList g_lines;
void captureLine(QtMsgType type, const QMessageLogContext &context, const QString &text)
{
    if (type == QtInfoMsg && qstrcmp(context.category, "greygate.policyd") == 0)
        g_lines.append(text);
}

QByteArray rcpt(const QByteArray &client, const QByteArray &name, const QByteArray &sender,
                const QByteArray &recipient, const QByteArray &state = "RCPT")
{
    return "request=smtpd_access_policy\nprotocol_state=" + state +
           "\nprotocol_name=ESMTP\nclient_address=" + client + "\nclient_name=" + name +
           "\nhelo_name=" + name + "\nsender=" + sender + "\nrecipient=" + recipient +
           "\ninstance=" + client + "\n\n";
}

// The answers of n requests read from a loopback socket, while the server (same thread)
// runs in the test's event loop.
QList<QByteArray> answers(QTcpSocket &socket, int n)
{
    QList<QByteArray> out;
    QByteArray buffer;
    QDeadlineTimer deadline(10'000);
    while (out.size() < n && !deadline.hasExpired() &&
           socket.state() == QAbstractSocket::ConnectedState) {
        buffer += socket.readAll();
        qsizetype end;
        while (out.size() < n && (end = buffer.indexOf("\n\n")) >= 0) {
            out.append(buffer.left(end));
            buffer.remove(0, end + 2);
        }
        if (out.size() < n)
            QTest::qWait(1);
    }
    return out;
}

} // namespace

class AnswerFirstRecorderTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void aDecisionWaitsForAnswersSentWithItsOwnBytes();
    void onlyRcptDecisionsWait();
    void thePassedLineIsWrittenOncePerMessageAfterTheAnswers();
    void theServerRecordsEachPassAfterItsAnswers();

private:
    const Event *event(quint64 id) const;
    // Parses one request into m_parser (reusing its buffers, as the server's parser does).
    const PolicyRequest &parse(const QByteArray &bytes);

    std::unique_ptr<QTemporaryDir> m_dir;
    ManualClock m_clock;
    std::unique_ptr<SqliteStore> m_store;
    std::unique_ptr<GreylistEngine> m_engine;
    std::unique_ptr<GreylistPolicyHandler> m_handler;
    std::unique_ptr<EventLog> m_events;
    std::unique_ptr<DecisionRecorder> m_recorder;
    std::unique_ptr<AnswerFirstRecorder> m_first;
    PolicyRequestParser m_parser;
};

void AnswerFirstRecorderTest::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    SqliteStoreOptions storeOptions;
    storeOptions.dbdir = m_dir->path();
    m_store = std::make_unique<SqliteStore>(storeOptions);
    QString error;
    QVERIFY2(m_store->open(&error), qPrintable(error));
    GreylistConfig config;
    config.delay = 60;
    config.autoWhitelistClients = 0;
    m_engine = std::make_unique<GreylistEngine>(config, m_clock);
    QVERIFY2(m_engine->load(*m_store, &error), qPrintable(error));
    GreylistPolicyOptions options;
    options.hostname = "mx.example.test";
    m_handler = std::make_unique<GreylistPolicyHandler>(*m_engine, *m_store, m_clock, options);
    m_events = std::make_unique<EventLog>(100);
    m_recorder = std::make_unique<DecisionRecorder>(*m_handler, *m_events, m_clock);
    m_first = std::make_unique<AnswerFirstRecorder>(*m_handler, *m_recorder);
}

void AnswerFirstRecorderTest::cleanup()
{
    m_first.reset();
    m_recorder.reset();
    m_events.reset();
    m_handler.reset();
    m_engine.reset();
    if (m_store)
        m_store->close();
    m_store.reset();
    m_dir.reset();
}

const Event *AnswerFirstRecorderTest::event(quint64 id) const
{
    std::vector<const Event *> got;
    if (!m_events->since(id - 1, 1, &got) || got.empty())
        return nullptr;
    return got.front();
}

const PolicyRequest &AnswerFirstRecorderTest::parse(const QByteArray &bytes)
{
    QByteArrayView view(bytes);
    const PolicyRequestParser::Status status = m_parser.next(view);
    if (status != PolicyRequestParser::Status::Request)
        qFatal("test request did not parse");
    return m_parser.request();
}

void AnswerFirstRecorderTest::aDecisionWaitsForAnswersSentWithItsOwnBytes()
{
    const QByteArray first = m_first->decide(
        parse(rcpt("192.0.2.10", "mail.one.example", "Alice+tag@One.Example", "bob@example.test")));
    QVERIFY(first.startsWith("DEFER_IF_PERMIT "));
    QCOMPARE(m_events->lastId(), quint64(0)); // not yet: the answer is not written
    QCOMPARE(m_first->waiting(), 1);
    // The parser's next request overwrites the buffers the first one was read into.
    const QByteArray second = m_first->decide(
        parse(rcpt("198.51.100.7", "unknown", "carol@two.example", "dave@example.test")));
    QVERIFY(second.startsWith("DEFER_IF_PERMIT "));
    QCOMPARE(m_first->waiting(), 2);
    QCOMPARE(m_events->lastId(), quint64(0));
    QCOMPARE(m_handler->commit(), true);

    m_first->answersSent();
    QCOMPARE(m_first->waiting(), 0);
    QCOMPARE(m_events->lastId(), quint64(2));
    const Event *one = event(1);
    QVERIFY(one);
    QCOMPARE(one->type, EventType::Attempt);
    QCOMPARE(one->outcome, AttemptOutcome::Deferred);
    QCOMPARE(one->client, QByteArray("192.0.2.10"));
    QCOMPARE(one->clientName, QByteArray("mail.one.example"));
    QCOMPARE(one->sender, QByteArray("Alice+tag@One.Example")); // as the request gave it
    QCOMPARE(one->recipient, QByteArray("bob@example.test"));
    QCOMPARE(one->key, QByteArray("192.0.2.0/24"));
    QCOMPARE(one->attempts, quint32(1));
    const Event *two = event(2);
    QVERIFY(two);
    QCOMPARE(two->client, QByteArray("198.51.100.7"));
    QCOMPARE(two->clientName, QByteArray()); // "unknown": no verified name
    QCOMPARE(two->sender, QByteArray("carol@two.example"));
    QCOMPARE(two->recipient, QByteArray("dave@example.test"));

    m_first->answersSent(); // nothing waits: nothing more
    QCOMPARE(m_events->lastId(), quint64(2));
}

void AnswerFirstRecorderTest::onlyRcptDecisionsWait()
{
    const QByteArray data = m_first->decide(
        parse(rcpt("192.0.2.10", "mail.one.example", "a@one.example", "b@example.test", "DATA")));
    QCOMPARE(data, QByteArray("DUNNO"));
    QCOMPARE(m_first->waiting(), 0);
    m_first->answersSent();
    QCOMPARE(m_events->lastId(), quint64(0));
}

void AnswerFirstRecorderTest::thePassedLineIsWrittenOncePerMessageAfterTheAnswers()
{
    // One message to two recipients, deferred, then retried after the delay.
    for (const char *to : {"r1@example.test", "r2@example.test"}) {
        const QByteArray request = rcpt("192.0.2.10", "a.example", "x@a.example", to);
        QVERIFY(m_first->decide(parse(request)).startsWith("DEFER_IF_PERMIT "));
    }
    m_first->answersSent();
    m_clock.advanceSeconds(61);
    g_lines.clear();
    const QtMessageHandler previous = qInstallMessageHandler(captureLine);
    const auto restore = qScopeGuard([previous] { qInstallMessageHandler(previous); });
    QVERIFY(
        m_first->decide(parse(rcpt("192.0.2.10", "a.example", "x@a.example", "r1@example.test")))
            .startsWith("PREPEND X-Greylist: delayed 61 seconds"));
    QCOMPARE(
        m_first->decide(parse(rcpt("192.0.2.10", "a.example", "x@a.example", "r2@example.test"))),
        QByteArray("DUNNO"));    // the same message: no second header
    QCOMPARE(g_lines.size(), 0); // the answers are not written yet
    m_first->answersSent();
    QCOMPARE(g_lines.size(), 1);
    QCOMPARE(g_lines.first(), QStringLiteral("msg=\"greylisting passed\" client=192.0.2.10 "
                                             "sender=x@a.example recipient=r1@example.test "
                                             "delayed=61 attempts=2"));
    QCOMPARE(m_events->lastId(), quint64(4)); // both passes recorded, one line
}

void AnswerFirstRecorderTest::theServerRecordsEachPassAfterItsAnswers()
{
    PolicyServer server(*m_first, PolicyServerOptions{});
    QString error;
    QVERIFY2(server.listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QVERIFY(socket.waitForConnected(10'000));

    // Three pipelined requests: one pass or several, each recorded with its own bytes.
    socket.write(rcpt("192.0.2.1", "a.example", "x@a.example", "r1@example.test") +
                 rcpt("192.0.2.2", "b.example", "y@b.example", "r2@example.test") +
                 rcpt("192.0.2.3", "c.example", "z@c.example", "r3@example.test"));
    const QList<QByteArray> got = answers(socket, 3);
    QCOMPARE(got.size(), 3);
    for (const QByteArray &answer : got)
        QVERIFY2(answer.startsWith("action=DEFER_IF_PERMIT "), answer.constData());
    // The server's pass ended with its answers written: every decision is recorded by then.
    QCOMPARE(m_events->lastId(), quint64(3));
    QCOMPARE(m_first->waiting(), 0);
    for (quint64 id = 1; id <= 3; ++id) {
        const Event *e = event(id);
        QVERIFY(e);
        const QByteArray n = QByteArray::number(id);
        QCOMPARE(e->client, "192.0.2." + n);
        QCOMPARE(e->clientName, QByteArray(1, char('a' + id - 1)) + ".example");
        QCOMPARE(e->recipient, "r" + n + "@example.test");
        QCOMPARE(e->outcome, AttemptOutcome::Deferred);
    }

    m_clock.advanceSeconds(61);
    socket.write(rcpt("192.0.2.1", "a.example", "x@a.example", "r1@example.test"));
    const QList<QByteArray> retry = answers(socket, 1);
    QCOMPARE(retry.size(), 1);
    QVERIFY2(retry.first().startsWith("action=PREPEND X-Greylist: delayed 61 seconds"),
             retry.first().constData());
    QCOMPARE(m_events->lastId(), quint64(4));
    const Event *passed = event(4);
    QVERIFY(passed);
    QCOMPARE(passed->outcome, AttemptOutcome::Passed);
    QCOMPARE(passed->delayed, Seconds(61));
    QCOMPARE(passed->attempts, quint32(2));
}

QTEST_GUILESS_MAIN(AnswerFirstRecorderTest)
#include "tst_answer_first_recorder.moc"
