// SPDX-License-Identifier: GPL-3.0-or-later
// greygated's options: defaults < config file < command line, postgrey's spellings, and
// errors that name what is wrong (and, for a file, where).

#include "config/ConfigFile.h"
#include "config/DaemonOptions.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;
using namespace Qt::Literals::StringLiterals;

namespace {

QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &contents)
{
    const QString path = dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return {};
    file.write(contents);
    return path;
}

} // namespace

class DaemonOptionsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaultsAreThePostgreyCompatibleOnes();
    void postgreyStyleValuesAreUnderstood_data();
    void postgreyStyleValuesAreUnderstood();
    void commandLineWinsOverConfigFileWhichWinsOverDefaults();
    void badValuesGiveClearErrors_data();
    void badValuesGiveClearErrors();
    void configFileErrorsNameFileAndLine_data();
    void configFileErrorsNameFileAndLine();
    void configFileCommentsQuotesAndBlankLines();
    void oversizedConfigFileIsRejected();
    void helpAndVersionWinOverEverythingElse();
    void everyConfigKeyIsInTheShippedConfigFile();
};

void DaemonOptionsTest::defaultsAreThePostgreyCompatibleOnes()
{
    DaemonOptions o;
    QString error;
    QCOMPARE(o.parse({}, &error), DaemonOptions::ParseResult::Run);
    QCOMPARE(o.listenHost, QStringLiteral("127.0.0.1"));
    QCOMPARE(o.listenPort, quint16(10023));
    QCOMPARE(o.delaySeconds, 60);
    QCOMPARE(o.maxAgeDays, 36);
    QCOMPARE(o.retryWindowSeconds, 12 * 3600);
    QCOMPARE(o.autoWhitelistClients, 5);
    QVERIFY(o.lookupBySubnet);
    QCOMPARE(o.ipv4Prefix, 24);
    QCOMPARE(o.ipv6Prefix, 64);
    QVERIFY(o.greylistCode.isEmpty());
    QVERIFY(o.recipientDelimiter.isEmpty());
    QCOMPARE(o.sync, DaemonOptions::SyncMode::Process);
    QCOMPARE(o.requestTimeoutSeconds, 30);
    QCOMPARE(o.idleTimeoutSeconds, 600);
    QVERIFY(o.controlHost.isEmpty()); // the control API and metrics are off by default
    QVERIFY(o.metricsHost.isEmpty());
}

void DaemonOptionsTest::postgreyStyleValuesAreUnderstood_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("expected");

    QTest::newRow("--inet=PORT is localhost")
        << QStringList{u"--inet=10025"_s} << u"inet"_s << u"127.0.0.1:10025"_s;
    QTest::newRow("--inet=HOST:PORT")
        << QStringList{u"--inet=0.0.0.0:2525"_s} << u"inet"_s << u"0.0.0.0:2525"_s;
    QTest::newRow("--inet=[v6]:PORT")
        << QStringList{u"--inet=[::1]:10023"_s} << u"inet"_s << u"::1:10023"_s;
    QTest::newRow("value as next argument")
        << QStringList{u"--delay"_s, u"300"_s} << u"delay"_s << u"300"_s;
    QTest::newRow("--delay=0") << QStringList{u"--delay=0"_s} << u"delay"_s << u"0"_s;
    QTest::newRow("--retry-window in days")
        << QStringList{u"--retry-window=2"_s} << u"retry"_s << u"172800"_s;
    QTest::newRow("--retry-window in hours")
        << QStringList{u"--retry-window=6h"_s} << u"retry"_s << u"21600"_s;
    QTest::newRow("--max-age days") << QStringList{u"--max-age=35"_s} << u"maxage"_s << u"35"_s;
    QTest::newRow("--auto-whitelist-clients alone")
        << QStringList{u"--auto-whitelist-clients=9"_s, u"--auto-whitelist-clients"_s} << u"awl"_s
        << u"5"_s;
    QTest::newRow("--auto-whitelist-clients=0 disables")
        << QStringList{u"--auto-whitelist-clients=0"_s} << u"awl"_s << u"0"_s;
    QTest::newRow("--lookup-by-host")
        << QStringList{u"--lookup-by-host"_s} << u"subnet"_s << u"false"_s;
    QTest::newRow("last of by-host/by-subnet wins")
        << QStringList{u"--lookup-by-host"_s, u"--lookup-by-subnet"_s} << u"subnet"_s << u"true"_s;
    QTest::newRow("--greylist-code")
        << QStringList{u"--greylist-code=4.2.0"_s} << u"code"_s << u"4.2.0"_s;
    QTest::newRow("--greylist-text with placeholders")
        << QStringList{u"--greylist-text=Greylisted, see http://x/%r.html (%s s)"_s} << u"text"_s
        << u"Greylisted, see http://x/%r.html (%s s)"_s;
    QTest::newRow("--sync=full") << QStringList{u"--sync=full"_s} << u"sync"_s << u"full"_s;
    QTest::newRow("--recipient-delimiter")
        << QStringList{u"--recipient-delimiter=+"_s} << u"delim"_s << u"+"_s;
    QTest::newRow("--policies") << QStringList{u"--policies=/etc/greygate/policies.json"_s}
                                << u"policies"_s << u"/etc/greygate/policies.json"_s;
    QTest::newRow("--internal-domains, commas and spaces")
        << QStringList{u"--internal-domains=example.com, *.example.net  example.org"_s}
        << u"domains"_s << u"example.com|*.example.net|example.org"_s;
    QTest::newRow("--internal-domains empty is not set")
        << QStringList{u"--internal-domains="_s} << u"domains"_s << u"(unset)"_s;
    QTest::newRow("--internal-networks")
        << QStringList{u"--internal-networks=10.0.0.0/8,2001:db8::/32"_s} << u"networks"_s
        << u"10.0.0.0/8|2001:db8::/32"_s;
    QTest::newRow("--auto-allow-lifetime")
        << QStringList{u"--auto-allow-lifetime=30"_s} << u"lifetime"_s << u"30"_s;
    QTest::newRow("--reject-text")
        << QStringList{u"--reject-text=Go away"_s} << u"reject"_s << u"Go away"_s;
    QTest::newRow("--control-listen") << QStringList{u"--control-listen=127.0.0.1:10024"_s}
                                      << u"control"_s << u"127.0.0.1:10024"_s;
    QTest::newRow("--control-listen on [::1]")
        << QStringList{u"--control-listen=[::1]:10024"_s} << u"control"_s << u"::1:10024"_s;
    QTest::newRow("--control-listen empty is off")
        << QStringList{u"--control-listen=127.0.0.1:1"_s, u"--control-listen="_s} << u"control"_s
        << u":0"_s;
    QTest::newRow("--metrics-listen=PORT is loopback")
        << QStringList{u"--metrics-listen=9190"_s} << u"metrics"_s << u"127.0.0.1:9190"_s;
    QTest::newRow("--metrics-listen=HOST:PORT")
        << QStringList{u"--metrics-listen=0.0.0.0:9190"_s} << u"metrics"_s << u"0.0.0.0:9190"_s;
}

void DaemonOptionsTest::postgreyStyleValuesAreUnderstood()
{
    QFETCH(QStringList, args);
    QFETCH(QString, field);
    QFETCH(QString, expected);
    DaemonOptions o;
    QString error;
    QCOMPARE(o.parse(args, &error), DaemonOptions::ParseResult::Run);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    QString actual;
    if (field == u"inet")
        actual = o.listenHost + u':' + QString::number(o.listenPort);
    else if (field == u"delay")
        actual = QString::number(o.delaySeconds);
    else if (field == u"retry")
        actual = QString::number(o.retryWindowSeconds);
    else if (field == u"maxage")
        actual = QString::number(o.maxAgeDays);
    else if (field == u"awl")
        actual = QString::number(o.autoWhitelistClients);
    else if (field == u"subnet")
        actual = o.lookupBySubnet ? QStringLiteral("true") : QStringLiteral("false");
    else if (field == u"code")
        actual = o.greylistCode;
    else if (field == u"text")
        actual = o.greylistText;
    else if (field == u"sync")
        actual = DaemonOptions::syncName(o.sync);
    else if (field == u"delim")
        actual = o.recipientDelimiter;
    else if (field == u"policies")
        actual = o.policiesFile;
    else if (field == u"domains")
        actual = o.internalDomains ? o.internalDomains->join(u'|') : QStringLiteral("(unset)");
    else if (field == u"networks")
        actual = o.internalNetworks ? o.internalNetworks->join(u'|') : QStringLiteral("(unset)");
    else if (field == u"lifetime")
        actual = QString::number(o.autoAllowLifetimeDays);
    else if (field == u"reject")
        actual = o.rejectText;
    else if (field == u"control")
        actual = o.controlHost + u':' + QString::number(o.controlPort);
    else if (field == u"metrics")
        actual = o.metricsHost + u':' + QString::number(o.metricsPort);
    QCOMPARE(actual, expected);
}

void DaemonOptionsTest::commandLineWinsOverConfigFileWhichWinsOverDefaults()
{
    QTemporaryDir dir;
    const QString path = writeFile(dir, QStringLiteral("greygated.conf"),
                                   "delay = 30\nmax-age = 10\ninet = 127.0.0.1:2000\n"
                                   "lookup-by-host = yes\n");
    DaemonOptions o;
    QString error;
    QCOMPARE(o.parse({QStringLiteral("--delay=90"), QStringLiteral("--config=") + path}, &error),
             DaemonOptions::ParseResult::Run);
    QCOMPARE(o.delaySeconds, 90);          // command line, although --config came after it
    QCOMPARE(o.maxAgeDays, 10);            // file
    QCOMPARE(o.listenPort, quint16(2000)); // file
    QVERIFY(!o.lookupBySubnet);            // file
    QCOMPARE(o.ipv4Prefix, 24);            // default
    QCOMPARE(o.configFile, path);
}

void DaemonOptionsTest::badValuesGiveClearErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentioned");

    QTest::newRow("unknown option") << QStringList{u"--greylist-txt=x"_s} << u"--greylist-txt"_s;
    QTest::newRow("not an option") << QStringList{u"10023"_s} << u"\"10023\""_s;
    QTest::newRow("delay not a number") << QStringList{u"--delay=soon"_s} << u"--delay: \"soon\""_s;
    QTest::newRow("negative delay")
        << QStringList{u"--delay=-5"_s} << u"--delay: -5 is out of range"_s;
    QTest::newRow("port out of range")
        << QStringList{u"--inet=127.0.0.1:70000"_s} << u"--inet: bad port"_s;
    QTest::newRow("port not a number")
        << QStringList{u"--inet=localhost:smtp"_s} << u"--inet: bad port"_s;
    QTest::newRow("empty host") << QStringList{u"--inet=:10023"_s} << u"--inet: empty host"_s;
    QTest::newRow("retry window unit")
        << QStringList{u"--retry-window=3w"_s} << u"--retry-window"_s;
    QTest::newRow("retry window shorter than delay")
        << QStringList{u"--delay=7200"_s, u"--retry-window=1h"_s}
        << u"must be longer than the delay"_s;
    QTest::newRow("greylist code not 4.X.Y")
        << QStringList{u"--greylist-code=5.7.1"_s} << u"not a 4.X.Y enhanced status code"_s;
    QTest::newRow("greylist text with a newline")
        << QStringList{u"--greylist-text=a\nb"_s} << u"one line"_s;
    QTest::newRow("flag with a value")
        << QStringList{u"--lookup-by-host=1"_s} << u"takes no value"_s;
    QTest::newRow("missing value") << QStringList{u"--dbdir"_s} << u"--dbdir needs a value"_s;
    QTest::newRow("sync mode") << QStringList{u"--sync=sometimes"_s}
                               << u"neither process nor full"_s;
    QTest::newRow("log level") << QStringList{u"--log-level=chatty"_s} << u"--log-level"_s;
    QTest::newRow("auto allow lifetime zero")
        << QStringList{u"--auto-allow-lifetime=0"_s} << u"--auto-allow-lifetime: 0"_s;
    QTest::newRow("reject text with a newline")
        << QStringList{u"--reject-text=a\nb"_s} << u"--reject-text"_s;
    QTest::newRow("reject text empty") << QStringList{u"--reject-text="_s} << u"--reject-text"_s;
    QTest::newRow("prefix") << QStringList{u"--ipv4-prefix=33"_s} << u"--ipv4-prefix: 33"_s;
    QTest::newRow("control port out of range")
        << QStringList{u"--control-listen=127.0.0.1:70000"_s} << u"--control-listen: bad port"_s;
    QTest::newRow("control empty host")
        << QStringList{u"--control-listen=:10024"_s} << u"--control-listen: empty host"_s;
    QTest::newRow("metrics port not a number")
        << QStringList{u"--metrics-listen=localhost:http"_s} << u"--metrics-listen: bad port"_s;
    QTest::newRow("missing config file") << QStringList{u"--config=/nonexistent/greygated.conf"_s}
                                         << u"/nonexistent/greygated.conf"_s;
}

void DaemonOptionsTest::badValuesGiveClearErrors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentioned);
    DaemonOptions o;
    QString error;
    QCOMPARE(o.parse(args, &error), DaemonOptions::ParseResult::Error);
    QVERIFY2(error.contains(mentioned), qPrintable(error));
}

void DaemonOptionsTest::configFileErrorsNameFileAndLine_data()
{
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("mentioned");

    QTest::newRow("unknown key") << QByteArray("# x\ndelay = 30\nno_such_key = 1\n") << 3
                                 << u"unknown key \"no_such_key\""_s;
    QTest::newRow("bad value") << QByteArray("\n\ndelay = soon\n") << 3 << u"delay"_s;
    QTest::newRow("not key = value") << QByteArray("just words\n") << 1 << u"key = value"_s;
    QTest::newRow("command-line-only key")
        << QByteArray("config = other.conf\n") << 1 << u"unknown key \"config\""_s;
    QTest::newRow("bad flag value")
        << QByteArray("lookup-by-host = perhaps\n") << 1 << u"not yes/no"_s;
    QTest::newRow("invalid UTF-8") << QByteArray("greylist-text = \xff\xfe\n") << 0 << u"UTF-8"_s;
}

void DaemonOptionsTest::configFileErrorsNameFileAndLine()
{
    QFETCH(QByteArray, contents);
    QFETCH(int, line);
    QFETCH(QString, mentioned);
    QTemporaryDir dir;
    const QString path = writeFile(dir, QStringLiteral("bad.conf"), contents);
    DaemonOptions o;
    QString error;
    QCOMPARE(o.parse({QStringLiteral("--config=") + path}, &error),
             DaemonOptions::ParseResult::Error);
    if (line > 0)
        QVERIFY2(error.contains(path + u':' + QString::number(line) + u':'), qPrintable(error));
    else
        QVERIFY2(error.contains(path), qPrintable(error));
    QVERIFY2(error.contains(mentioned), qPrintable(error));
}

void DaemonOptionsTest::configFileCommentsQuotesAndBlankLines()
{
    ConfigFile file;
    QString error;
    QVERIFY2(file.parse("# comment\n\n   \n"
                        "greylist-text = \"Greylisted # not a comment\"  # a comment\n"
                        "hostname=mx1#kept\r\n"
                        "--delay = 5\n",
                        DaemonOptions::configKeys(), &error),
             qPrintable(error));
    QCOMPARE(file.entries().size(), 3);
    QCOMPARE(file.entries()[0].value, QStringLiteral("Greylisted # not a comment"));
    QCOMPARE(file.entries()[0].line, 4);
    QCOMPARE(file.entries()[1].value, QStringLiteral("mx1#kept"));
    QCOMPARE(file.entries()[2].key, QStringLiteral("delay"));
}

void DaemonOptionsTest::oversizedConfigFileIsRejected()
{
    QTemporaryDir dir;
    const QString path =
        writeFile(dir, QStringLiteral("huge.conf"), QByteArray(ConfigFile::kMaxBytes + 10, '#'));
    ConfigFile file;
    QString error;
    QVERIFY(!file.load(path, {}, &error));
    QVERIFY2(error.contains(u"larger than"), qPrintable(error));
}

void DaemonOptionsTest::helpAndVersionWinOverEverythingElse()
{
    DaemonOptions o;
    QString error;
    QCOMPARE(o.parse({QStringLiteral("--delay=5"), QStringLiteral("--help")}, &error),
             DaemonOptions::ParseResult::ShowHelp);
    QCOMPARE(o.parse({QStringLiteral("--version")}, &error),
             DaemonOptions::ParseResult::ShowVersion);
    const QString help = DaemonOptions::helpText(QStringLiteral("greygated"));
    for (const QString &key : DaemonOptions::configKeys())
        QVERIFY2(help.contains(u"--" + key), qPrintable(key));
}

void DaemonOptionsTest::everyConfigKeyIsInTheShippedConfigFile()
{
    // resources/greygated.conf documents every option with its default (commented out), and
    // what it sets, uncommented, must parse.
    const QString path = QStringLiteral(GREYGATE_SOURCE_DIR "/resources/greygated.conf");
    QFile file(path);
    QVERIFY2(file.open(QIODevice::ReadOnly), qPrintable(path));
    const QByteArray text = file.readAll();
    for (const QString &key : DaemonOptions::configKeys())
        QVERIFY2(text.contains(QByteArray("\n# " + key.toUtf8() + " =")), qPrintable(key));
    QByteArray uncommented;
    for (const QByteArray &line : text.split('\n')) {
        const qsizetype eq = line.indexOf(" =");
        if (line.startsWith("# ") && eq > 2 &&
            DaemonOptions::configKeys().contains(QString::fromUtf8(line.mid(2, eq - 2))))
            uncommented += line.mid(2) + '\n';
    }
    ConfigFile parsed;
    QString error;
    QVERIFY2(parsed.parse(uncommented, DaemonOptions::configKeys(), &error), qPrintable(error));
    DaemonOptions defaults;
    DaemonOptions fromFile;
    for (const ConfigFile::Entry &e : parsed.entries())
        QVERIFY2(fromFile.apply(e.key, e.value, true, &error), qPrintable(error));
    QCOMPARE(fromFile.delaySeconds, defaults.delaySeconds);
    QCOMPARE(fromFile.retryWindowSeconds, defaults.retryWindowSeconds);
    QCOMPARE(fromFile.maxAgeDays, defaults.maxAgeDays);
    QCOMPARE(fromFile.greylistText, defaults.greylistText);
    QCOMPARE(fromFile.listenPort, defaults.listenPort);
    QCOMPARE(fromFile.autoWhitelistClients, defaults.autoWhitelistClients);
    QCOMPARE(fromFile.policiesFile, defaults.policiesFile);
    QCOMPARE(fromFile.internalDomains, defaults.internalDomains);
    QCOMPARE(fromFile.internalNetworks, defaults.internalNetworks);
    QCOMPARE(fromFile.autoAllowLifetimeDays, defaults.autoAllowLifetimeDays);
    QCOMPARE(fromFile.rejectText, defaults.rejectText);
    QCOMPARE(fromFile.policyBusyPollUs, defaults.policyBusyPollUs);
}

QTEST_GUILESS_MAIN(DaemonOptionsTest)
#include "tst_daemon_options.moc"
