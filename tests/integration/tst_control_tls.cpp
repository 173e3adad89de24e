// SPDX-License-Identifier: GPL-3.0-or-later
// The control API over TLS against a real greygated (--control-tls=on on 127.0.0.1, the
// certificate generated into a temp dbdir), driven by the real greygatectl over wss: the
// fingerprint printed at start is the certificate's, the key is 0600; a matching
// --fingerprint works, a wrong one is refused naming both, none is refused with the one seen
// unless --trust-on-first-use; group import/export round-trips over wss and a bad CSV is
// refused with its line; after a restart the same certificate is served.
#include "DaemonProcess.h"
#include "TestSupport.h"

#include <QCryptographicHash>
#include <QFile>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QTemporaryDir>
#include <QTest>
#include <sys/stat.h>

using namespace greygate::test;
using namespace Qt::StringLiterals;

namespace {

constexpr int StartTimeoutMs = 30'000;
constexpr int CtlTimeoutMs = 30'000;

struct Ctl
{
    int code = -1;
    QString out;
    QString err;
};

// Waits (bounded) for a regular expression's first capture in the daemon's output.
QString fromLog(const DaemonProcess &daemon, const QRegularExpression &re)
{
    QString found;
    QTest::qWaitFor(
        [&] {
            const QRegularExpressionMatch m = re.match(daemon.log());
            if (m.hasMatch())
                found = m.captured(1);
            return !found.isEmpty();
        },
        10'000);
    return found;
}

} // namespace

class ControlTlsDaemonTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void greygatectlOverWssPinsTheGeneratedCertificate();

private:
    bool startDaemon(DaemonProcess &daemon);
    Ctl ctl(const QStringList &arguments);

    QString m_dbdir;
    quint16 m_port = 0;
    QString m_fingerprint; // as the daemon printed it
};

bool ControlTlsDaemonTest::startDaemon(DaemonProcess &daemon)
{
    QString error;
    const bool started = daemon.startOnFreePort(
        program(QStringLiteral("greygated")),
        [&](quint16 port) {
            return QStringList{u"--inet=127.0.0.1:"_s + QString::number(port),
                               u"--dbdir="_s + m_dbdir, QStringLiteral("--delay=3600"),
                               QStringLiteral("--control-listen=127.0.0.1:0"),
                               QStringLiteral("--control-tls=on")};
        },
        StartTimeoutMs, &error);
    if (!started) {
        qWarning("%s", qPrintable(error));
        return false;
    }
    m_port = quint16(
        fromLog(daemon,
                QRegularExpression(u"msg=\"control API listening\"[^\\n]* port=(\\d+) tls=yes"_s))
            .toUInt());
    m_fingerprint = fromLog(
        daemon,
        QRegularExpression(u"control API certificate SHA-256 fingerprint ([0-9a-f]{64})"_s));
    if (m_port == 0 || m_fingerprint.isEmpty())
        qWarning("no TLS port or fingerprint in the log: %s", qPrintable(daemon.log()));
    return m_port != 0 && !m_fingerprint.isEmpty();
}

Ctl ControlTlsDaemonTest::ctl(const QStringList &arguments)
{
    QStringList args = {
        QStringLiteral("--proxy"),      u"wss://127.0.0.1:"_s + QString::number(m_port),
        QStringLiteral("--token-file"), m_dbdir + u"/control.token"_s,
        QStringLiteral("--timeout"),    QStringLiteral("20")};
    args += arguments;
    const ProgramResult r = runProgram(program(QStringLiteral("greygatectl")), args, CtlTimeoutMs);
    Ctl run;
    run.code = r.finished && r.exitStatus == QProcess::NormalExit ? r.exitCode : -2;
    run.out = QString::fromUtf8(r.out);
    run.err = QString::fromUtf8(r.err);
    return run;
}

void ControlTlsDaemonTest::greygatectlOverWssPinsTheGeneratedCertificate()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    m_dbdir = dir.filePath(QStringLiteral("db"));
    DaemonProcess daemon(dir.filePath(QStringLiteral("greygated.log")));
    QVERIFY(startDaemon(daemon));

    // The printed fingerprint is the generated certificate's; its key is private.
    QFile certFile(m_dbdir + u"/control-cert.pem"_s);
    QVERIFY(certFile.open(QIODevice::ReadOnly));
    const QSslCertificate cert(certFile.readAll(), QSsl::Pem);
    QCOMPARE(QString::fromLatin1(cert.digest(QCryptographicHash::Sha256).toHex()), m_fingerprint);
    QVERIFY(daemon.log().contains(u"sha256="_s + m_fingerprint));
    struct stat st;
    QCOMPARE(::stat(QFile::encodeName(m_dbdir + u"/control-key.pem"_s).constData(), &st), 0);
    QCOMPARE(int(st.st_mode & 0777), 0600);

    // A request over wss with the pin; colons and upper case as a browser shows it.
    QStringList pairs;
    for (qsizetype i = 0; i < m_fingerprint.size(); i += 2)
        pairs.append(m_fingerprint.mid(i, 2).toUpper());
    Ctl run = ctl({QStringLiteral("--fingerprint"), pairs.join(u':'), QStringLiteral("status")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.contains(QStringLiteral("triplets")), qPrintable(run.out));

    // No pin: refused, with the fingerprint seen to check and pin (the safe default).
    run = ctl({QStringLiteral("status")});
    QCOMPARE(run.code, 3);
    QVERIFY2(run.err.contains(QStringLiteral("not pinned")), qPrintable(run.err));
    QVERIFY2(run.err.contains(m_fingerprint), qPrintable(run.err));

    // Trust on first use, when asked for: it goes on and says what it trusted.
    run = ctl({QStringLiteral("--trust-on-first-use"), QStringLiteral("status")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.err.contains(m_fingerprint), qPrintable(run.err));

    // A pin that does not match: refused, naming both.
    const QString wrong = QString(64, u'0');
    run = ctl({QStringLiteral("--fingerprint"), wrong, QStringLiteral("status")});
    QCOMPARE(run.code, 3);
    QVERIFY2(run.err.contains(QStringLiteral("certificate changed")), qPrintable(run.err));
    QVERIFY2(run.err.contains(wrong) && run.err.contains(m_fingerprint), qPrintable(run.err));

    // The same from a config file; the command line wins over it.
    const QString config = dir.filePath(QStringLiteral("ctl.conf"));
    QVERIFY(writeFile(config, "# greygatectl\nfingerprint = " + m_fingerprint.toLatin1() + "\n"));
    run = ctl({QStringLiteral("--config"), config, QStringLiteral("status")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    run = ctl({QStringLiteral("--config"), config, QStringLiteral("--fingerprint"), wrong,
               QStringLiteral("status")});
    QCOMPARE(run.code, 3);

    // Group CSV over wss: import, export, a bad line refused with its number.
    const QStringList pin = {QStringLiteral("--fingerprint"), m_fingerprint};
    QCOMPARE(ctl(pin + QStringList{QStringLiteral("group"), QStringLiteral("add"),
                                   QStringLiteral("Partners")})
                 .code,
             0);
    const QString csv = dir.filePath(QStringLiteral("members.csv"));
    QVERIFY(writeFile(csv, "member\r\nboss@partner.test\r\n@vip.test\r\n"));
    run = ctl(pin + QStringList{QStringLiteral("group"), QStringLiteral("import"),
                                QStringLiteral("Partners"), csv});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QVERIFY2(run.out.startsWith(QStringLiteral("2 members read")), qPrintable(run.out));
    run = ctl(pin + QStringList{QStringLiteral("group"), QStringLiteral("export"),
                                QStringLiteral("Partners")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
    QCOMPARE(run.out, QStringLiteral("member\nboss@partner.test\n@vip.test\n"));
    QVERIFY(writeFile(csv, "member\nok@partner.test\nnot a member\n"));
    run = ctl(pin + QStringList{QStringLiteral("group"), QStringLiteral("import"),
                                QStringLiteral("Partners"), csv, QStringLiteral("--replace")});
    QCOMPARE(run.code, 1);
    QVERIFY2(run.err.contains(QStringLiteral("line 3")), qPrintable(run.err));
    run = ctl(pin + QStringList{QStringLiteral("group"), QStringLiteral("export"),
                                QStringLiteral("Partners")});
    QCOMPARE(run.out, QStringLiteral("member\nboss@partner.test\n@vip.test\n")); // unchanged

    // A restart serves the same certificate: pins stay valid.
    QVERIFY(daemon.terminate());
    const QString before = m_fingerprint;
    DaemonProcess again(dir.filePath(QStringLiteral("greygated2.log")));
    QVERIFY(startDaemon(again));
    QCOMPARE(m_fingerprint, before);
    QVERIFY(again.log().contains(QStringLiteral("generated=no")));
    run = ctl(pin + QStringList{QStringLiteral("status")});
    QVERIFY2(run.code == 0, qPrintable(run.err));
}

QTEST_GUILESS_MAIN(ControlTlsDaemonTest)
#include "tst_control_tls.moc"
