// SPDX-License-Identifier: GPL-3.0-or-later
// The control API over TLS, in process: the rule that decides when TLS is needed (by address
// class), the generated certificate (private key 0600, reused across starts) and an admin's
// own, ProxyConnection pinning (match, mismatch naming both fingerprints, trust on first use
// or refusal), and the handshake timeouts: a client that stalls in the TLS handshake, or
// after it before the WebSocket upgrade, is dropped while others are served.
#include "ControlTestProxy.h"
#include "client/ProxyConnection.h"
#include "control/ControlCertificate.h"
#include "protocol/Fingerprint.h"

#include <QFile>
#include <QSslSocket>
#include <QTcpSocket>
#include <sys/stat.h>

using namespace greygate;
using namespace greygate::test;

namespace {

ControlOptions tlsOptions(int handshakeTimeoutMs = 10'000)
{
    ControlOptions o;
    o.tlsMode = ControlCertificate::Mode::On; // on loopback too: the tests' only address
    o.handshakeTimeoutMs = handshakeTimeoutMs;
    return o;
}

QUrl wssUrl(const ControlTestProxy &proxy)
{
    return QUrl(QStringLiteral("wss://127.0.0.1:%1").arg(proxy.server->serverPort()));
}

ProxyConnection::Options clientOptions(const ControlTestProxy &proxy, const QString &pin,
                                       bool trustOnFirstUse = false)
{
    ProxyConnection::Options o;
    o.url = wssUrl(proxy);
    o.token = proxy.token();
    o.pinnedSha256 = pin;
    o.trustOnFirstUse = trustOnFirstUse;
    o.reconnect = false;
    o.connectTimeoutMs = 10'000;
    return o;
}

bool waitForState(ProxyConnection &c, ProxyConnection::State state)
{
    return QTest::qWaitFor([&] { return c.state() == state; }, 10'000);
}

// "status" answered over the connection.
bool statusAnswered(ProxyConnection &c)
{
    bool answered = false;
    bool ok = false;
    c.call(QStringLiteral("status"), {}, [&](const ProxyConnection::Reply &r) {
        answered = true;
        ok = r.ok;
    });
    return QTest::qWaitFor([&] { return answered; }, 10'000) && ok;
}

QString withColons(const QString &hex)
{
    QStringList pairs;
    for (qsizetype i = 0; i < hex.size(); i += 2)
        pairs.append(hex.mid(i, 2).toUpper());
    return pairs.join(u':');
}

} // namespace

class ControlTlsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void tlsIsRequiredByAddressClass_data();
    void tlsIsRequiredByAddressClass();
    void generatedCertificateIsPrivateAndKeptAcrossStarts();
    void anAdminCertificateIsUsedAndAForeignKeyRefused();
    void aPinnedClientConnectsAndCalls();
    void aChangedCertificateIsRefusedNamingBothFingerprints();
    void withoutAPinTheCertificateIsReportedThenTrustedOrRefused();
    void aStalledTlsHandshakeIsDroppedWhileOthersAreServed();
    void aClientSilentAfterTheTlsHandshakeIsDropped();
    void plainWebSocketIsNotSpokenOnTheTlsPort();
};

void ControlTlsTest::tlsIsRequiredByAddressClass_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("mode");
    QTest::addColumn<bool>("certificate");
    QTest::addColumn<int>("expected"); // 0 plain, 1 TLS, -1 refused

    QTest::newRow("IPv4 loopback, auto") << "127.0.0.1"
                                         << "auto" << false << 0;
    QTest::newRow("IPv4 loopback net, auto") << "127.0.0.2"
                                             << "auto" << false << 0;
    QTest::newRow("IPv6 loopback, auto") << "::1"
                                         << "auto" << false << 0;
    QTest::newRow("loopback with a certificate") << "127.0.0.1"
                                                 << "auto" << true << 1;
    QTest::newRow("loopback, on") << "127.0.0.1"
                                  << "on" << false << 1;
    QTest::newRow("loopback, off") << "127.0.0.1"
                                   << "off" << false << 0;
    QTest::newRow("documentation net, auto") << "192.0.2.1"
                                             << "auto" << false << 1;
    QTest::newRow("private net, auto") << "10.1.2.3"
                                       << "auto" << false << 1;
    QTest::newRow("any IPv4, auto") << "0.0.0.0"
                                    << "auto" << false << 1;
    QTest::newRow("any IPv6, auto") << "::"
                                    << "auto" << false << 1;
    QTest::newRow("IPv6 global, auto") << "2001:db8::1"
                                       << "auto" << false << 1;
    QTest::newRow("not loopback, off") << "192.0.2.1"
                                       << "off" << false << -1;
    QTest::newRow("any, off") << "0.0.0.0"
                              << "off" << false << -1;
    QTest::newRow("a certificate, off") << "127.0.0.1"
                                        << "off" << true << -1;
}

void ControlTlsTest::tlsIsRequiredByAddressClass()
{
    QFETCH(QString, address);
    QFETCH(QString, mode);
    QFETCH(bool, certificate);
    QFETCH(int, expected);
    const std::optional<ControlCertificate::Mode> m = ControlCertificate::parseMode(mode);
    QVERIFY(m);
    QString error;
    const std::optional<bool> tls =
        ControlCertificate::useTls(QHostAddress(address), *m, certificate, &error);
    if (expected < 0) {
        QVERIFY(!tls);
        QVERIFY2(error.contains(QStringLiteral("off")), qPrintable(error));
    } else {
        QVERIFY2(tls, qPrintable(error));
        QCOMPARE(*tls, expected == 1);
    }
}

void ControlTlsTest::generatedCertificateIsPrivateAndKeptAcrossStarts()
{
    QString fingerprint;
    QString dirPath;
    {
        ControlTestProxy proxy(tlsOptions());
        QVERIFY2(proxy.start(), qPrintable(proxy.startError));
        QVERIFY(proxy.server->tls());
        dirPath = proxy.dir.path();
        const QString key = ControlCertificate::generatedKeyFile(dirPath);
        const QString cert = ControlCertificate::generatedCertFile(dirPath);
        struct stat st;
        QCOMPARE(::stat(QFile::encodeName(key).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0600);
        QFile certFile(cert);
        QVERIFY(certFile.open(QIODevice::ReadOnly));
        const QSslCertificate c(certFile.readAll(), QSsl::Pem);
        QVERIFY(!c.isNull());
        fingerprint = ControlCertificate::fingerprint(c);
        QCOMPARE(proxy.server->fingerprint(), fingerprint);
        QCOMPARE(fingerprint.size(), 64);

        // The same dbdir, a second start: the same certificate, so pins stay valid.
        proxy.server.reset();
        proxy.server = std::make_unique<ControlServer>(*proxy.engine, *proxy.store, *proxy.handler,
                                                       proxy.events, proxy.clock, proxy.options);
        QVERIFY2(proxy.start(), qPrintable(proxy.startError));
        QCOMPARE(proxy.server->fingerprint(), fingerprint);

        // Half a pair is not silently replaced (clients pinned to it would break).
        proxy.server.reset();
        QVERIFY(QFile::remove(cert));
        proxy.server = std::make_unique<ControlServer>(*proxy.engine, *proxy.store, *proxy.handler,
                                                       proxy.events, proxy.clock, proxy.options);
        QVERIFY(!proxy.start());
        QVERIFY2(proxy.startError.contains(QStringLiteral("remove it")),
                 qPrintable(proxy.startError));
    }
}

void ControlTlsTest::anAdminCertificateIsUsedAndAForeignKeyRefused()
{
    QTemporaryDir files;
    QString error;
    const QString cert = files.filePath(QStringLiteral("a.pem"));
    const QString key = files.filePath(QStringLiteral("a.key"));
    const QString otherCert = files.filePath(QStringLiteral("b.pem"));
    const QString otherKey = files.filePath(QStringLiteral("b.key"));
    QVERIFY2(ControlCertificate::generate(cert, key, QStringLiteral("mx1.example"), &error),
             qPrintable(error));
    QVERIFY2(ControlCertificate::generate(otherCert, otherKey, QStringLiteral("b"), &error),
             qPrintable(error));

    ControlOptions o;
    o.tlsCertFile = cert;
    o.tlsKeyFile = key; // auto on loopback: a certificate given turns TLS on
    {
        ControlTestProxy proxy(o);
        QVERIFY2(proxy.start(), qPrintable(proxy.startError));
        QVERIFY(proxy.server->tls());
        QFile f(cert);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(proxy.server->fingerprint(),
                 ControlCertificate::fingerprint(QSslCertificate(f.readAll(), QSsl::Pem)));
        QVERIFY(!QFile::exists(ControlCertificate::generatedCertFile(proxy.dir.path())));
    }
    o.tlsKeyFile = otherKey;
    ControlTestProxy mismatched(o);
    QVERIFY(!mismatched.start());
    QVERIFY2(mismatched.startError.contains(QStringLiteral("does not belong")),
             qPrintable(mismatched.startError));
}

void ControlTlsTest::aPinnedClientConnectsAndCalls()
{
    ControlTestProxy proxy(tlsOptions());
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    // Pinned as an admin copies it from a browser: upper case with colons.
    ProxyConnection client(clientOptions(proxy, withColons(proxy.server->fingerprint())));
    QSignalSpy seen(&client, &ProxyConnection::certificateSeen);
    client.open();
    QVERIFY2(waitForState(client, ProxyConnection::State::Connected),
             qPrintable(client.lastError()));
    QVERIFY(statusAnswered(client));
    QCOMPARE(seen.size(), 1);
    QCOMPARE(seen.first().at(0).toString(), proxy.server->fingerprint());
    QCOMPARE(seen.first().at(1).toBool(), true);
    QCOMPARE(client.certificateSha256(), proxy.server->fingerprint());
}

void ControlTlsTest::aChangedCertificateIsRefusedNamingBothFingerprints()
{
    ControlTestProxy proxy(tlsOptions());
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    const QString pinned = QString(64, u'a');
    ProxyConnection client(clientOptions(proxy, pinned));
    client.open();
    QVERIFY(waitForState(client, ProxyConnection::State::Refused));
    QVERIFY(client.certificateMismatch());
    QVERIFY2(client.lastError().contains(QStringLiteral("certificate changed")),
             qPrintable(client.lastError()));
    QVERIFY2(client.lastError().contains(pinned), qPrintable(client.lastError()));
    QVERIFY2(client.lastError().contains(proxy.server->fingerprint()),
             qPrintable(client.lastError()));
    // Final: no retry behind the admin's back.
    QTest::qWait(300);
    QCOMPARE(client.state(), ProxyConnection::State::Refused);

    // A malformed pin is refused before connecting, with what was wrong.
    ProxyConnection typo(clientOptions(proxy, QStringLiteral("abc")));
    typo.open();
    QCOMPARE(typo.state(), ProxyConnection::State::Refused);
    QVERIFY2(typo.lastError().contains(QStringLiteral("64 hex")), qPrintable(typo.lastError()));

    // The server still serves a client with the right pin.
    ProxyConnection good(clientOptions(proxy, proxy.server->fingerprint()));
    good.open();
    QVERIFY2(waitForState(good, ProxyConnection::State::Connected), qPrintable(good.lastError()));
}

void ControlTlsTest::withoutAPinTheCertificateIsReportedThenTrustedOrRefused()
{
    ControlTestProxy proxy(tlsOptions());
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));

    ProxyConnection refusing(clientOptions(proxy, QString(), false));
    QSignalSpy seenRefused(&refusing, &ProxyConnection::certificateSeen);
    refusing.open();
    QVERIFY(waitForState(refusing, ProxyConnection::State::Refused));
    QCOMPARE(seenRefused.size(), 1);
    QCOMPARE(seenRefused.first().at(0).toString(), proxy.server->fingerprint());
    QCOMPARE(seenRefused.first().at(1).toBool(), false);
    QVERIFY2(refusing.lastError().contains(proxy.server->fingerprint()),
             qPrintable(refusing.lastError()));
    QVERIFY(!refusing.certificateMismatch());

    ProxyConnection trusting(clientOptions(proxy, QString(), true));
    QSignalSpy seen(&trusting, &ProxyConnection::certificateSeen);
    trusting.open();
    QVERIFY2(waitForState(trusting, ProxyConnection::State::Connected),
             qPrintable(trusting.lastError()));
    QCOMPARE(seen.size(), 1);
    QCOMPARE(seen.first().at(0).toString(), proxy.server->fingerprint());
    QCOMPARE(seen.first().at(1).toBool(), false);
}

void ControlTlsTest::aStalledTlsHandshakeIsDroppedWhileOthersAreServed()
{
    ControlTestProxy proxy(tlsOptions(1000));
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));

    // TCP only: never a ClientHello.
    QTcpSocket stalled;
    stalled.connectToHost(QHostAddress::LocalHost, proxy.server->serverPort());
    QTRY_COMPARE_WITH_TIMEOUT(proxy.server->handshakesInProgress(), 1, 5000);

    ProxyConnection client(clientOptions(proxy, proxy.server->fingerprint()));
    client.open();
    QVERIFY2(waitForState(client, ProxyConnection::State::Connected),
             qPrintable(client.lastError()));
    QVERIFY(statusAnswered(client));

    QTRY_VERIFY_WITH_TIMEOUT(stalled.state() == QAbstractSocket::UnconnectedState, 10'000);
    QTRY_COMPARE_WITH_TIMEOUT(proxy.server->handshakesInProgress(), 0, 5000);
    QCOMPARE(client.state(), ProxyConnection::State::Connected);
    QVERIFY(statusAnswered(client));
}

void ControlTlsTest::aClientSilentAfterTheTlsHandshakeIsDropped()
{
    ControlTestProxy proxy(tlsOptions(1000));
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    QFile f(ControlCertificate::generatedCertFile(proxy.dir.path()));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QSslCertificate cert(f.readAll(), QSsl::Pem);

    // TLS completes (the certificate's own errors ignored, as a pinning client does), then
    // no WebSocket upgrade follows.
    QSslSocket silent;
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setCaCertificates({});
    silent.setSslConfiguration(config);
    connect(&silent, &QSslSocket::sslErrors, this, [&](const QList<QSslError> &errors) {
        QList<QSslError> expected;
        for (const QSslError &e : errors) {
            if (e.certificate() == cert)
                expected.append(e);
        }
        silent.ignoreSslErrors(expected);
    });
    bool encrypted = false;
    connect(&silent, &QSslSocket::encrypted, this, [&] { encrypted = true; });
    // Never a blocking wait: the server runs on this thread.
    silent.connectToHostEncrypted(QStringLiteral("127.0.0.1"), proxy.server->serverPort());
    QTRY_VERIFY_WITH_TIMEOUT(encrypted, 5000);
    QTRY_VERIFY_WITH_TIMEOUT(silent.state() == QAbstractSocket::UnconnectedState, 10'000);
    QCOMPARE(proxy.server->connectionCount(), 0);
}

void ControlTlsTest::plainWebSocketIsNotSpokenOnTheTlsPort()
{
    ControlTestProxy proxy(tlsOptions(1000));
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    ProxyConnection::Options o = clientOptions(proxy, QString());
    o.url = proxy.url(); // ws://
    o.connectTimeoutMs = 3000;
    ProxyConnection client(o);
    client.open();
    QVERIFY(QTest::qWaitFor(
        [&] {
            return client.state() == ProxyConnection::State::Disconnected ||
                   client.state() == ProxyConnection::State::Refused;
        },
        10'000));
    QCOMPARE(proxy.server->connectionCount(), 0);
}

QTEST_GUILESS_MAIN(ControlTlsTest)
#include "tst_control_tls_server.moc"
