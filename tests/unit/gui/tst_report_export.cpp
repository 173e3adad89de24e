// SPDX-License-Identifier: GPL-3.0-or-later
// Reports from a real greygated (decisions made through its policy port, 450 rejection rows
// in its store): ReportsPage builds the report asynchronously with progress, and exports it
// as CSV (parsed back: the totals and the rejection rows are right), HTML (the tables and the
// embedded charts are there, hostile text escaped) and PDF (a real PDF with several pages).
// Cancel stops a build; a report of proxies that cannot answer fails with a clear message.
#include "../models/AnalysisDaemon.h"
#include "pages/ReportsPage.h"
#include "report/CsvReportWriter.h"
#include "report/ReportBuilder.h"
#include "store/SqliteStore.h"

#include <QDateTime>
#include <QFile>
#include <QProgressBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;
using namespace greygate::test;

namespace {

constexpr int kRejections = 450;
// The Blocked Senders' attempt the test makes is in the rejection log too ("Blocked Sender").
constexpr int kBlockedRows = 1;

bool seedRejections(const QString &dbdir, qint64 start, QString *error)
{
    SqliteStoreOptions options;
    options.dbdir = dbdir;
    SqliteStore store(options);
    if (!store.open(error))
        return false;
    WriteBatch batch;
    for (int i = 0; i < kRejections; ++i) {
        RejectionEntry r;
        r.time = start + i * 5;
        r.reason = QByteArrayLiteral("Sender Failed to Retry");
        r.key.client = "192.0.2.0/24";
        // A sender a spreadsheet would run, and one a browser would: both must stay text.
        r.key.sender = i == 0   ? QByteArrayLiteral("=cmd|' /C calc'!A0@x.test")
                       : i == 1 ? QByteArrayLiteral("<script>alert(1)</script>@x.test")
                                : "user" + QByteArray::number(i) + "@bulk.test";
        r.key.recipient = "rcpt@corp.test";
        r.attempts = 1;
        r.firstSeen = r.time - 12 * 3600;
        batch.rejections.append(r);
    }
    const bool ok = store.commit(batch, error);
    store.close();
    return ok;
}

// RFC 4180 fields of a whole CSV text (quoted fields, doubled quotes, CRLF).
QList<QStringList> parseCsv(const QString &text)
{
    QList<QStringList> rows;
    QStringList row;
    QString field;
    bool quoted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (quoted) {
            if (c == u'"' && i + 1 < text.size() && text.at(i + 1) == u'"') {
                field += u'"';
                ++i;
            } else if (c == u'"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == u'"') {
            quoted = true;
        } else if (c == u',') {
            row.append(field);
            field.clear();
        } else if (c == u'\r') {
            continue;
        } else if (c == u'\n') {
            row.append(field);
            rows.append(row);
            row.clear();
            field.clear();
        } else {
            field += c;
        }
    }
    return rows;
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class ReportExportTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void buildsTheReportWithProgress();
    void exportsCsvThatParsesWithTheRightTotals();
    void exportsHtmlWithTheTablesAndCharts();
    void exportsAPdfWithPages();
    void cancelStopsABuild();
    void failsClearlyWhenNoProxyAnswers();

private:
    AnalysisDaemon m_daemon;
    ProxyRegistry m_registry;
    QString m_id;
    qint64 m_start = 0;
    QTemporaryDir m_out;
    std::unique_ptr<ReportsPage> m_page;
};

void ReportExportTest::initTestCase()
{
    m_start = QDateTime::currentSecsSinceEpoch() - 3 * 3600;
    QString error;
    QVERIFY2(seedRejections(m_daemon.dbdir(), m_start, &error), qPrintable(error));
    QVERIFY2(m_daemon.start({QStringLiteral("--delay=1")}, &error), qPrintable(error));
    m_id = addReady(m_registry, m_daemon, QStringLiteral("mx1"));
    QVERIFY(!m_id.isEmpty());
    QVERIFY(blockSender(m_registry, m_id, QStringLiteral("spam@bad.test")));
    QVERIFY(m_daemon.decide("192.0.2.1", "a@one.test", "x@corp.test").startsWith("DEFER"));
    QVERIFY(m_daemon.decide("192.0.2.2", "b@two.test", "x@corp.test").startsWith("DEFER"));
    QVERIFY(m_daemon.decide("198.51.100.9", "spam@bad.test", "x@corp.test").startsWith("REJECT"));
    QTest::qWait(1500);
    QVERIFY(m_daemon.decide("192.0.2.1", "a@one.test", "x@corp.test").startsWith("PREPEND"));
    m_page = std::make_unique<ReportsPage>(m_registry);
    m_page->resize(1000, 700);
}

void ReportExportTest::buildsTheReportWithProgress()
{
    QSignalSpy ready(m_page.get(), &ReportsPage::reportReady);
    auto *progress = m_page->findChild<QProgressBar *>();
    QVERIFY(progress);
    QList<int> seen;
    connect(progress, &QProgressBar::valueChanged, this, [&seen](int v) { seen.append(v); });
    m_page->build(m_start - 60, QDateTime::currentSecsSinceEpoch() + 60);
    QVERIFY(m_page->isBusy());
    QVERIFY(ready.wait(60'000));
    QVERIFY(!m_page->isBusy());
    QVERIFY(m_page->hasReport());
    QCOMPARE(progress->value(), 100);
    QVERIFY(seen.size() >= 3); // fetch, charts, preview
    QVERIFY(std::is_sorted(seen.begin(), seen.end()));

    const ReportData &data = m_page->report();
    QCOMPARE(data.proxies.size(), 1);
    QVERIFY2(data.proxies.at(0).error.isEmpty(), qPrintable(data.proxies.at(0).error));
    QCOMPARE(data.total().attempts, quint64(4));
    QCOMPARE(data.total().deferred, quint64(2));
    QCOMPARE(data.total().passed, quint64(1));
    QCOMPARE(data.total().blocked, quint64(1));
    QCOMPARE(data.rejectionCount(), kRejections + kBlockedRows);
    QCOMPARE(data.stepMinutes, qint64(60));
    QCOMPARE(m_page->charts().size(), 2);
    for (const ReportChart &chart : m_page->charts())
        QVERIFY(!chart.image.isNull() && chart.image.width() > 500);
}

void ReportExportTest::exportsCsvThatParsesWithTheRightTotals()
{
    QVERIFY(m_page->hasReport());
    const QString path = m_out.filePath(QStringLiteral("report.csv"));
    QSignalSpy done(m_page.get(), &ReportsPage::exportFinished);
    m_page->exportTo(ReportsPage::Format::Csv, path);
    QVERIFY(done.wait(30'000));
    QVERIFY2(done.at(0).at(0).toBool(), qPrintable(done.at(0).at(2).toString()));

    const QList<QStringList> rows = parseCsv(QString::fromUtf8(readAll(path)));
    QVERIFY(rows.size() > 2);
    const QStringList header = rows.at(0);
    QCOMPARE(header.at(0), QStringLiteral("section"));
    for (const QStringList &row : rows)
        QCOMPARE(row.size(), header.size());
    const qsizetype attempts = header.indexOf(QStringLiteral("attempts"));
    const qsizetype deferred = header.indexOf(QStringLiteral("deferred"));
    const qsizetype blocked = header.indexOf(QStringLiteral("blocked"));
    const qsizetype sender = header.indexOf(QStringLiteral("sender"));
    int rejections = 0;
    quint64 bucketAttempts = 0;
    bool sawAll = false;
    for (const QStringList &row : rows) {
        if (row.at(0) == u"total" && row.at(1) == u"All proxies") {
            sawAll = true;
            QCOMPARE(row.at(attempts), QStringLiteral("4"));
            QCOMPARE(row.at(deferred), QStringLiteral("2"));
            QCOMPARE(row.at(blocked), QStringLiteral("1"));
        } else if (row.at(0) == u"bucket") {
            bucketAttempts += row.at(attempts).toULongLong();
        } else if (row.at(0) == u"rejection") {
            ++rejections;
        }
    }
    QVERIFY(sawAll);
    QCOMPARE(bucketAttempts, quint64(4));
    QCOMPARE(rejections, kRejections + kBlockedRows);
    // The formula a sender address carried is text, not a formula.
    bool guarded = false;
    for (const QStringList &row : rows)
        guarded = guarded || row.at(sender).startsWith(QStringLiteral("'=cmd"));
    QVERIFY(guarded);
}

void ReportExportTest::exportsHtmlWithTheTablesAndCharts()
{
    const QString path = m_out.filePath(QStringLiteral("report.html"));
    QSignalSpy done(m_page.get(), &ReportsPage::exportFinished);
    m_page->exportTo(ReportsPage::Format::Html, path);
    QVERIFY(done.wait(30'000));
    QVERIFY2(done.at(0).at(0).toBool(), qPrintable(done.at(0).at(2).toString()));
    const QString html = QString::fromUtf8(readAll(path));
    QVERIFY(html.startsWith(QStringLiteral("<!DOCTYPE html>")));
    QCOMPARE(html.count(QStringLiteral("<table")), 3); // summary, over time, rejections
    QCOMPARE(html.count(QStringLiteral("<img src=\"data:image/png;base64,")), 2);
    QVERIFY(html.contains(QStringLiteral("user449@bulk.test")));
    QVERIFY(!html.contains(QStringLiteral("<script>")));
    QVERIFY(html.contains(QStringLiteral("&lt;script&gt;")));
    QCOMPARE(html.count(QStringLiteral("Sender Failed to Retry")), kRejections);
}

void ReportExportTest::exportsAPdfWithPages()
{
    const QString path = m_out.filePath(QStringLiteral("report.pdf"));
    QSignalSpy done(m_page.get(), &ReportsPage::exportFinished);
    m_page->exportTo(ReportsPage::Format::Pdf, path);
    QVERIFY(done.wait(60'000));
    QVERIFY2(done.at(0).at(0).toBool(), qPrintable(done.at(0).at(2).toString()));
    const QByteArray pdf = readAll(path);
    QVERIFY(pdf.startsWith("%PDF-"));
    QVERIFY(pdf.trimmed().endsWith("%%EOF"));
    // Page objects, not the page tree ("/Type /Pages"); 450 rejection rows take many pages.
    const QRegularExpression page(QStringLiteral("/Type\\s*/Page(?![a-zA-Z])"));
    const qsizetype pages = QString::fromLatin1(pdf).count(page);
    QVERIFY2(pages >= 5, qPrintable(QString::number(pages)));
    QVERIFY(pdf.contains("/Subtype /Image")); // the charts
    QVERIFY(!QFile::exists(path + QStringLiteral(".part")));
}

void ReportExportTest::cancelStopsABuild()
{
    ReportBuilder builder(m_registry);
    QSignalSpy finished(&builder, &ReportBuilder::finished);
    QSignalSpy cancelled(&builder, &ReportBuilder::cancelled);
    builder.start(m_start, QDateTime::currentSecsSinceEpoch(), {m_id});
    QVERIFY(builder.isRunning());
    builder.cancel();
    QCOMPARE(cancelled.count(), 1);
    QVERIFY(!builder.isRunning());
    QTest::qWait(1000); // the answers arrive, and are dropped
    QCOMPARE(finished.count(), 0);

    // And it can start again.
    builder.start(m_start, QDateTime::currentSecsSinceEpoch(), {m_id});
    QVERIFY(finished.wait(30'000));
    QCOMPARE(finished.at(0).at(0).value<ReportData>().rejectionCount(), kRejections + kBlockedRows);
}

void ReportExportTest::failsClearlyWhenNoProxyAnswers()
{
    ProxyRegistry registry;
    ProxyEndpoint nowhere;
    nowhere.name = QStringLiteral("gone");
    nowhere.url = QUrl(QStringLiteral("ws://127.0.0.1:") + QString::number(freeTcpPort()));
    nowhere.token = "x";
    const QString id = registry.add(nowhere);
    ReportBuilder builder(registry);
    QSignalSpy failed(&builder, &ReportBuilder::failed);
    builder.start(m_start, QDateTime::currentSecsSinceEpoch(), {id});
    QVERIFY(failed.wait(10'000));
    const QString message = failed.at(0).at(0).toString();
    QVERIFY2(message.contains(QStringLiteral("gone: not connected")), qPrintable(message));
    QVERIFY(message.contains(QStringLiteral("Proxies page")));
}

QTEST_MAIN(ReportExportTest)
#include "tst_report_export.moc"
