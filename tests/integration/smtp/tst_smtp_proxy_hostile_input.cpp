// SPDX-License-Identifier: GPL-3.0-or-later
// Hostile sessions against greygated's SMTP proxy, with exact bytes from a raw client and
// smtp-sink as the backend: an HTTP request sent to the SMTP port, pipelined garbage (replies
// in order, the session goes on), binary junk, commands pipelined behind STARTTLS (thrown
// away, never answered: the CVE-2011-0411 class), a bare LF or CR in DATA (refused), and a
// client that stalls mid-DATA (dropped after --smtp-data-timeout). After each, the daemon
// serves a normal session and nothing half-received reached the backend.

#include "SmtpProxyFixture.h"
#include "SmtpTestKit.h"

#include <QRandomGenerator>
#include <QTest>

using namespace greygate::test;
using namespace greygate::test::smtp;

namespace {

constexpr int DataTimeoutSeconds = 2;

QByteArray describe(const std::optional<SmtpClient::Reply> &reply, const SmtpClient &client)
{
    return SmtpProxyFixture::describe(reply, client);
}

QByteArray describe(const QList<SmtpClient::Reply> &replies)
{
    QByteArray text;
    for (const SmtpClient::Reply &reply : replies)
        text += reply.summary() + '\n';
    return text;
}

} // namespace

class SmtpProxyHostileInputTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void httpRequestGetsOnlyRefusals_data();
    void httpRequestGetsOnlyRefusals();
    void pipelinedGarbageAnsweredInOrderAndSessionGoesOn();
    void binaryJunkNeverAccepted();
    void commandsPipelinedBehindStartTlsAreThrownAway_data();
    void commandsPipelinedBehindStartTlsAreThrownAway();
    void bareLineEndingInDataRefused_data();
    void bareLineEndingInDataRefused();
    void clientStallingMidDataIsDroppedAndNothingDelivered();

private:
    SmtpProxyFixture m_fixture;
};

void SmtpProxyHostileInputTest::initTestCase()
{
    QString error;
    QVERIFY2(m_fixture.start({QStringLiteral("--smtp-data-timeout=%1").arg(DataTimeoutSeconds),
                              QStringLiteral("--smtp-bare-lf=refuse")},
                             &error),
             qPrintable(error));
}

void SmtpProxyHostileInputTest::init()
{
    m_fixture.mark();
}

void SmtpProxyHostileInputTest::cleanup()
{
    if (QTest::currentTestFailed())
        return;
    QString error;
    QVERIFY2(m_fixture.servesNormalSession(&error),
             QByteArray(error.toUtf8() + '\n' + m_fixture.context()).constData());
}

void SmtpProxyHostileInputTest::httpRequestGetsOnlyRefusals_data()
{
    QTest::addColumn<bool>("waitForBanner");
    QTest::newRow("at once, as a browser would") << false;
    QTest::newRow("after the banner") << true;
}

void SmtpProxyHostileInputTest::httpRequestGetsOnlyRefusals()
{
    QFETCH(bool, waitForBanner);
    SmtpClient client;
    QString error;
    if (waitForBanner) {
        QVERIFY2(m_fixture.connect(client, &error), qPrintable(error));
    } else {
        QVERIFY2(client.connectTo(m_fixture.port()), qPrintable(client.errorString()));
    }
    // A client speaking before the banner may be dropped at once (an early talker).
    client.send("POST /mail HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                "Content-Length: 38\r\n\r\nMAIL FROM:<x@partner.test>\r\nDATA\r\n");
    client.send("QUIT\r\n");
    bool closed = false;
    const QList<SmtpClient::Reply> replies =
        SmtpProxyFixture::readUntilClosed(client, 20, 20'000, &closed);
    QVERIFY2(closed, describe(replies).constData());
    for (qsizetype i = 0; i < replies.size(); ++i) {
        const SmtpClient::Reply &reply = replies[i];
        const bool banner = i == 0 && !waitForBanner && reply.code == 220;
        const bool last = i == replies.size() - 1;
        // The body's MAIL line is a command of its own to an SMTP server; it must not
        // lead to a transaction: DATA never gets 354.
        QVERIFY2(reply.code != 354, describe(replies).constData());
        QVERIFY2(banner || reply.codeClass() == 5 || reply.code == 421 ||
                     (reply.code == 250 && reply.lines.value(0).contains("2.1.0")) ||
                     (last && reply.code == 221),
                 describe(replies).constData());
    }
    QCOMPARE(m_fixture.delivered(), 0);
}

void SmtpProxyHostileInputTest::pipelinedGarbageAnsweredInOrderAndSessionGoesOn()
{
    SmtpClient client;
    QString error;
    QVERIFY2(m_fixture.connect(client, &error), qPrintable(error));
    const QList<std::pair<QByteArray, int>> lines = {
        {"EHLO client.test", 2},
        {"XYZZY", 5},
        {"MAIL FROM:<bulk@partner.test>", 2},
        {QByteArray("\x01\x02\x7f junk", 9), 5},
        {"RCPT TO:<rcpt@example.test>", 2},
        {"MAIL FROM:<again@partner.test>", 5}, // a transaction is already open
        {"FOO BAR BAZ", 5},
        {"RSET", 2},
        {"RCPT TO:<rcpt@example.test>", 5}, // no transaction after RSET
        {"NOOP", 2},
        {"QUIT", 2},
    };
    QByteArray pipeline;
    for (const auto &[line, expected] : lines)
        pipeline += line + "\r\n";
    QVERIFY(client.send(pipeline));
    QList<SmtpClient::Reply> replies;
    for (const auto &[line, expected] : lines) {
        const std::optional<SmtpClient::Reply> reply = client.readReply();
        QVERIFY2(reply,
                 QByteArray(describe(replies) + "then " + describe(reply, client)).constData());
        replies.append(*reply);
        QVERIFY2(
            reply->codeClass() == expected,
            QByteArray(line.toPercentEncoding(" <>@.:") + " -> " + describe(replies)).constData());
    }
    QCOMPARE(replies.constLast().code, 221);
    QVERIFY(client.waitForClosed(10'000));
    QCOMPARE(m_fixture.delivered(), 0);
}

void SmtpProxyHostileInputTest::binaryJunkNeverAccepted()
{
    SmtpClient client;
    QString error;
    QVERIFY2(m_fixture.connect(client, &error), qPrintable(error));
    QRandomGenerator random(4711); // the same junk every run
    QByteArray junk(64 * 1024, Qt::Uninitialized);
    for (char &byte : junk)
        byte = char(random.bounded(256));
    junk += "\r\nQUIT\r\n";
    client.send(junk, 20'000); // the proxy may close before it has read all of it
    bool closed = false;
    const QList<SmtpClient::Reply> replies =
        SmtpProxyFixture::readUntilClosed(client, 1'000, 30'000, &closed);
    QVERIFY2(closed, describe(replies).constData());
    for (qsizetype i = 0; i < replies.size(); ++i) {
        const int code = replies[i].code;
        QVERIFY2(code != 354 &&
                     (replies[i].codeClass() != 2 || (code == 221 && i == replies.size() - 1)),
                 describe(replies).constData());
    }
    QCOMPARE(m_fixture.delivered(), 0);
}

void SmtpProxyHostileInputTest::commandsPipelinedBehindStartTlsAreThrownAway_data()
{
    QTest::addColumn<QByteArray>("hidden");
    QTest::newRow("NOOP") << QByteArray("NOOP\r\n");
    QTest::newRow("MAIL FROM") << QByteArray("MAIL FROM:<evil@partner.test>\r\n");
    QTest::newRow("a whole transaction")
        << QByteArray("MAIL FROM:<evil@partner.test>\r\nRCPT TO:<rcpt@example.test>\r\nDATA\r\n"
                      "Subject: injected\r\n\r\ninjected\r\n.\r\n");
}

void SmtpProxyHostileInputTest::commandsPipelinedBehindStartTlsAreThrownAway()
{
    QFETCH(QByteArray, hidden);
    SmtpClient client;
    QString error;
    QVERIFY2(m_fixture.connect(client, &error), qPrintable(error));
    const std::optional<SmtpClient::Reply> ehlo = client.command("EHLO client.test");
    QVERIFY2(ehlo && ehlo->code == 250, describe(ehlo, client).constData());
    QVERIFY2(ehlo->lines.contains("STARTTLS"), ehlo->text().constData());

    QVERIFY(client.send("STARTTLS\r\n" + hidden)); // one write
    const std::optional<SmtpClient::Reply> ready = client.readReply();
    QVERIFY2(ready && ready->code == 220, describe(ready, client).constData());
    // startTls() fails if anything followed the 220 in plaintext.
    QVERIFY2(client.startTls(), qPrintable(client.errorString()));

    // The first reply inside TLS is the EHLO's: nothing was answered for the hidden
    // commands, before or after the handshake.
    const std::optional<SmtpClient::Reply> secure = client.command("EHLO client.test");
    QVERIFY2(secure && secure->code == 250 && secure->lines.size() > 1 &&
                 secure->lines.first().contains(SmtpProxyProcess::Hostname),
             describe(secure, client).constData());
    QVERIFY2(!secure->lines.contains("STARTTLS"), secure->text().constData());
    // And the session starts afresh: no MAIL is in effect.
    const std::optional<SmtpClient::Reply> rcpt = client.command("RCPT TO:<rcpt@example.test>");
    QVERIFY2(rcpt && rcpt->code == 503, describe(rcpt, client).constData());

    // A transaction inside TLS is delivered, alone.
    QVERIFY2(client.command("MAIL FROM:<bulk@partner.test>").value_or(SmtpClient::Reply{}).code ==
                 250,
             m_fixture.context().constData());
    QVERIFY2(client.command("RCPT TO:<rcpt@example.test>").value_or(SmtpClient::Reply{}).code ==
                 250,
             m_fixture.context().constData());
    QVERIFY2(client.command("DATA").value_or(SmtpClient::Reply{}).code == 354,
             m_fixture.context().constData());
    const std::optional<SmtpClient::Reply> final =
        client.command("Subject: over tls\r\n\r\nsecure\r\n.");
    QVERIFY2(final && final->code == 250, describe(final, client).constData());
    QTRY_COMPARE_WITH_TIMEOUT(m_fixture.delivered(), 1, 10'000);
    m_fixture.expectDelivered(1);
    const QByteArray message = m_fixture.sink().messages().constLast();
    QVERIFY2(message.contains("Subject: over tls") && !message.contains("injected") &&
                 !message.contains("evil@"),
             message.constData());
    QVERIFY(!m_fixture.sink().log().contains(QStringLiteral("evil@partner.test")));
}

void SmtpProxyHostileInputTest::bareLineEndingInDataRefused_data()
{
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("bare LF") << QByteArray("Subject: bare\r\n\r\nline one\nline two\r\n.\r\n");
    QTest::newRow("bare CR") << QByteArray("Subject: bare\r\n\r\nline one\rline two\r\n.\r\n");
    QTest::newRow("LF only in the text")
        << QByteArray("Subject: bare\n\nline one\nline two\r\n.\r\n");
    static const char nul[] = "Subject: nul\r\n\r\nline\0one\r\n.\r\n";
    QTest::newRow("NUL") << QByteArray(nul, sizeof nul - 1);
}

void SmtpProxyHostileInputTest::bareLineEndingInDataRefused()
{
    QFETCH(QByteArray, body);
    SmtpClient client;
    QString error;
    QVERIFY2(m_fixture.connect(client, &error), qPrintable(error));
    QVERIFY2(m_fixture.openTransaction(client, 1, &error),
             QByteArray(error.toUtf8() + '\n' + m_fixture.context()).constData());
    const std::optional<SmtpClient::Reply> go = client.command("DATA");
    QVERIFY2(go && go->code == 354, m_fixture.context().constData());
    client.send(body);
    const std::optional<SmtpClient::Reply> final = client.readReply();
    QVERIFY2(!final || (final->codeClass() == 5 || final->codeClass() == 4),
             describe(final, client).constData());
    if (final && final->code != 421) {
        // The refusal ended the transaction, not the session.
        const std::optional<SmtpClient::Reply> rset = client.command("RSET");
        QVERIFY2(!rset || rset->code == 250 || rset->code == 421,
                 describe(rset, client).constData());
    }
    client.close();
    QCOMPARE(m_fixture.delivered(), 0);
}

void SmtpProxyHostileInputTest::clientStallingMidDataIsDroppedAndNothingDelivered()
{
    SmtpClient client;
    QString error;
    QVERIFY2(m_fixture.connect(client, &error), qPrintable(error));
    QVERIFY2(m_fixture.openTransaction(client, 1, &error),
             QByteArray(error.toUtf8() + '\n' + m_fixture.context()).constData());
    const std::optional<SmtpClient::Reply> go = client.command("DATA");
    QVERIFY2(go && go->code == 354, m_fixture.context().constData());
    QVERIFY(client.send("Subject: stalled\r\n\r\nthe first line\r\nand a half"));
    // Bounded well beyond the data timeout; the proxy may say 421 first.
    QVERIFY2(client.waitForClosed((DataTimeoutSeconds + 20) * 1000),
             m_fixture.context().constData());
    const QByteArray said = client.unread();
    QVERIFY2(said.isEmpty() || said.startsWith("421"), said.constData());
    QCOMPARE(m_fixture.delivered(), 0);
}

QTEST_GUILESS_MAIN(SmtpProxyHostileInputTest)
#include "tst_smtp_proxy_hostile_input.moc"
