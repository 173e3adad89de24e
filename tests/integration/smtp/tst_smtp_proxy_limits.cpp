// SPDX-License-Identifier: GPL-3.0-or-later
// RFC 5321's limits at greygated's SMTP proxy, with exact bytes from a raw client and
// smtp-sink as the backend: a 512-byte command line (CRLF included) is served and 513 is not;
// a 1000-byte text line is delivered and a 1001-byte one is not; 100 recipients are accepted
// and the 101st gets 452 4.5.3; a 1 MiB line (command or text) and 10,000 RCPTs are refused
// without harm. After each, the daemon serves a normal session and the backend got exactly
// the messages it should: nothing half-received.

#include "SmtpProxyFixture.h"
#include "SmtpTestKit.h"

#include <QTest>

using namespace greygate::test;
using namespace greygate::test::smtp;

namespace {

QByteArray describe(const std::optional<SmtpClient::Reply> &reply, const SmtpClient &client)
{
    return SmtpProxyFixture::describe(reply, client);
}

// "NOOP xxx...\r\n" of exactly `size` bytes (RFC 5321 allows NOOP an argument).
QByteArray noopOfSize(int size)
{
    return "NOOP " + QByteArray(size - 7, 'x') + "\r\n";
}

// A message body whose second line is exactly lineSize bytes with its CRLF.
QByteArray bodyWithLine(int lineSize, const QByteArray &token)
{
    return "Subject: " + token + "\r\n\r\n" + QByteArray(lineSize - 2, 'a') + "\r\nend of " +
           token + "\r\n.\r\n";
}

bool isRefusal(const std::optional<SmtpClient::Reply> &reply)
{
    return !reply || reply->codeClass() == 5 || reply->code == 421;
}

} // namespace

class SmtpProxyLimitsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void commandLineOf512ServedAnd513Refused_data();
    void commandLineOf512ServedAnd513Refused();
    void textLineOf1000DeliveredAnd1001Not_data();
    void textLineOf1000DeliveredAnd1001Not();
    void hundredRecipientsAcceptedAndTheNextGets452_data();
    void hundredRecipientsAcceptedAndTheNextGets452();
    void oneMebibyteCommandLineRefused();
    void oneMebibyteTextLineNeverDelivered();
    void tenThousandRecipientsNeverExceedTheLimit();

private:
    SmtpProxyFixture m_fixture;
};

void SmtpProxyLimitsTest::initTestCase()
{
    QString error;
    QVERIFY2(m_fixture.start({}, &error), qPrintable(error));
}

void SmtpProxyLimitsTest::init()
{
    m_fixture.mark();
}

void SmtpProxyLimitsTest::cleanup()
{
    if (QTest::currentTestFailed())
        return;
    QString error;
    QVERIFY2(m_fixture.servesNormalSession(&error),
             QByteArray(error.toUtf8() + '\n' + m_fixture.context()).constData());
}

void SmtpProxyLimitsTest::commandLineOf512ServedAnd513Refused_data()
{
    QTest::addColumn<int>("size");
    QTest::addColumn<bool>("served");
    QTest::newRow("512 bytes") << 512 << true;
    QTest::newRow("513 bytes") << 513 << false;
}

void SmtpProxyLimitsTest::commandLineOf512ServedAnd513Refused()
{
    QFETCH(int, size);
    QFETCH(bool, served);
    SmtpClient client;
    QString error;
    QVERIFY2(m_fixture.connect(client, &error), qPrintable(error));
    QVERIFY(client.command("EHLO client.test").has_value());
    QVERIFY(client.send(noopOfSize(size)));
    const std::optional<SmtpClient::Reply> reply = client.readReply();
    if (served) {
        QVERIFY2(reply && reply->code == 250, describe(reply, client).constData());
    } else {
        QVERIFY2(isRefusal(reply), describe(reply, client).constData());
        if (reply && reply->code == 500)
            QVERIFY2(reply->enhancedCode() == "5.5.2", describe(reply, client).constData());
    }
    // If the session goes on, the long line's tail was not read as another command: the
    // next reply is the next command's.
    if (client.isConnected() && (!reply || reply->code != 421)) {
        const std::optional<SmtpClient::Reply> next = client.command("RSET");
        if (next)
            QVERIFY2(next->code == 250, describe(next, client).constData());
    }
    QCOMPARE(m_fixture.delivered(), 0);
}

void SmtpProxyLimitsTest::textLineOf1000DeliveredAnd1001Not_data()
{
    QTest::addColumn<int>("lineSize");
    QTest::addColumn<bool>("delivered");
    QTest::newRow("1000 bytes") << 1000 << true;
    QTest::newRow("1001 bytes") << 1001 << false;
}

void SmtpProxyLimitsTest::textLineOf1000DeliveredAnd1001Not()
{
    QFETCH(int, lineSize);
    QFETCH(bool, delivered);
    SmtpClient client;
    QString error;
    QVERIFY2(m_fixture.connect(client, &error), qPrintable(error));
    QVERIFY2(m_fixture.openTransaction(client, 1, &error),
             QByteArray(error.toUtf8() + '\n' + m_fixture.context()).constData());
    const std::optional<SmtpClient::Reply> go = client.command("DATA");
    QVERIFY2(go && go->code == 354, m_fixture.context().constData());
    const QByteArray token = "line-" + QByteArray::number(lineSize);
    client.send(bodyWithLine(lineSize, token));
    const std::optional<SmtpClient::Reply> final = client.readReply();
    if (delivered) {
        QVERIFY2(final && final->code == 250, m_fixture.context().constData());
        QTRY_COMPARE_WITH_TIMEOUT(m_fixture.delivered(), 1, 10'000);
        m_fixture.expectDelivered(1);
        const QByteArray message = m_fixture.sink().messages().constLast();
        QVERIFY2(message.contains(QByteArray('\n' + QByteArray(lineSize - 2, 'a') + "\r\n")) ||
                     message.contains(QByteArray('\n' + QByteArray(lineSize - 2, 'a') + '\n')),
                 message.left(400).constData());
    } else {
        QVERIFY2(!final || final->codeClass() != 2, describe(final, client).constData());
        client.command("QUIT");
        client.waitForClosed(10'000);
        QCOMPARE(m_fixture.delivered(), 0);
    }
}

void SmtpProxyLimitsTest::hundredRecipientsAcceptedAndTheNextGets452_data()
{
    QTest::addColumn<int>("recipients");
    QTest::newRow("100 recipients") << 100;
    QTest::newRow("101 recipients") << 101;
}

void SmtpProxyLimitsTest::hundredRecipientsAcceptedAndTheNextGets452()
{
    QFETCH(int, recipients);
    SmtpClient client;
    QString error;
    QVERIFY2(m_fixture.connect(client, &error), qPrintable(error));
    QVERIFY2(m_fixture.openTransaction(client, 100, &error),
             QByteArray(error.toUtf8() + '\n' + m_fixture.context()).constData());
    for (int i = 100; i < recipients; ++i) {
        const std::optional<SmtpClient::Reply> extra =
            client.command("RCPT TO:<rcpt" + QByteArray::number(i) + "@example.test>");
        QVERIFY2(extra && extra->code == 452 && extra->enhancedCode() == "4.5.3",
                 describe(extra, client).constData());
    }
    const std::optional<SmtpClient::Reply> go = client.command("DATA");
    QVERIFY2(go && go->code == 354, m_fixture.context().constData());
    client.send("Subject: many recipients\r\n\r\nhello\r\n.\r\n");
    const std::optional<SmtpClient::Reply> final = client.readReply();
    QVERIFY2(final && final->code == 250, m_fixture.context().constData());
    QTRY_COMPARE_WITH_TIMEOUT(m_fixture.delivered(), 1, 10'000);
    m_fixture.expectDelivered(1);
    const QByteArray message = m_fixture.sink().messages().constLast();
    QCOMPARE(message.count("X-Rcpt-Args: <"), 100);
    QVERIFY(!message.contains("X-Rcpt-Args: <rcpt100@"));
}

void SmtpProxyLimitsTest::oneMebibyteCommandLineRefused()
{
    SmtpClient client;
    QString error;
    QVERIFY2(m_fixture.connect(client, &error), qPrintable(error));
    QVERIFY(client.command("EHLO client.test").has_value());
    // The proxy may close while we are still writing: that is a fine answer too.
    const bool sent = client.send("MAIL FROM:<" + QByteArray(1024 * 1024, 'x') + ">\r\n", 30'000);
    if (sent) {
        const std::optional<SmtpClient::Reply> reply = client.readReply(30'000);
        QVERIFY2(isRefusal(reply), describe(reply, client).constData());
    }
    QCOMPARE(m_fixture.delivered(), 0);
}

void SmtpProxyLimitsTest::oneMebibyteTextLineNeverDelivered()
{
    SmtpClient client;
    QString error;
    QVERIFY2(m_fixture.connect(client, &error), qPrintable(error));
    QVERIFY2(m_fixture.openTransaction(client, 1, &error),
             QByteArray(error.toUtf8() + '\n' + m_fixture.context()).constData());
    const std::optional<SmtpClient::Reply> go = client.command("DATA");
    QVERIFY2(go && go->code == 354, m_fixture.context().constData());
    const bool sent = client.send(bodyWithLine(1024 * 1024, "mebibyte"), 30'000);
    if (sent) {
        const std::optional<SmtpClient::Reply> final = client.readReply(30'000);
        QVERIFY2(!final || final->codeClass() != 2, describe(final, client).constData());
    }
    client.close();
    QCOMPARE(m_fixture.delivered(), 0);
}

void SmtpProxyLimitsTest::tenThousandRecipientsNeverExceedTheLimit()
{
    SmtpClient client;
    QString error;
    QVERIFY2(m_fixture.connect(client, &error), qPrintable(error));
    QVERIFY2(m_fixture.openTransaction(client, 0, &error), qPrintable(error));
    // Pipelined in windows of 100, as a PIPELINING client would, so neither side's buffers
    // fill while the other is not reading.
    constexpr int Total = 10'000;
    constexpr int Window = 100;
    int positive = 0;
    int refused452 = 0;
    bool closed = false;
    for (int start = 0; start < Total && !closed; start += Window) {
        QByteArray batch;
        for (int i = start; i < start + Window; ++i)
            batch += "RCPT TO:<r" + QByteArray::number(i) + "@example.test>\r\n";
        if (!client.send(batch)) {
            closed = true;
            break;
        }
        for (int i = 0; i < Window; ++i) {
            const std::optional<SmtpClient::Reply> reply = client.readReply();
            if (!reply) {
                closed = true;
                break;
            }
            if (reply->codeClass() == 2)
                ++positive;
            else if (reply->code == 452)
                ++refused452;
            else if (reply->code == 421)
                closed = client.waitForClosed(10'000);
            else
                QFAIL(describe(reply, client).constData());
        }
    }
    QVERIFY2(positive == 100, qPrintable(QStringLiteral("%1 recipients accepted").arg(positive)));
    QVERIFY2(closed || refused452 == Total - 100, m_fixture.context().constData());
    if (!closed) {
        const std::optional<SmtpClient::Reply> go = client.command("DATA");
        QVERIFY2(go && go->code == 354, m_fixture.context().constData());
        client.send("Subject: ten thousand\r\n\r\nhello\r\n.\r\n");
        const std::optional<SmtpClient::Reply> final = client.readReply();
        QVERIFY2(final && final->code == 250, m_fixture.context().constData());
        QTRY_COMPARE_WITH_TIMEOUT(m_fixture.delivered(), 1, 10'000);
        m_fixture.expectDelivered(1);
        QCOMPARE(m_fixture.sink().messages().constLast().count("X-Rcpt-Args: <"), 100);
    } else {
        QCOMPARE(m_fixture.delivered(), 0);
    }
}

QTEST_GUILESS_MAIN(SmtpProxyLimitsTest)
#include "tst_smtp_proxy_limits.moc"
