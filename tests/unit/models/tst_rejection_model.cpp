// SPDX-License-Identifier: GPL-3.0-or-later
// RejectionModel against a real greygated whose store holds 450 "Sender Failed to Retry"
// rows (written with the store's own API before the daemon starts, since a retry window is
// at least an hour): pages come with fetchMore until the last, oldest first; the server's
// filters (substring, time range) select the rows; a Blocked Sender's attempt made through
// the policy port appears live. Under QAbstractItemModelTester throughout.
#include "AnalysisDaemon.h"
#include "models/RejectionModel.h"
#include "store/SqliteStore.h"

#include <QAbstractItemModelTester>
#include <QDateTime>
#include <QSignalSpy>

using namespace greygate;
using namespace greygate::test;

namespace {

constexpr int kRows = 450;

bool seedRejections(const QString &dbdir, qint64 start, QString *error)
{
    SqliteStoreOptions options;
    options.dbdir = dbdir;
    SqliteStore store(options);
    if (!store.open(error))
        return false;
    WriteBatch batch;
    for (int i = 0; i < kRows; ++i) {
        RejectionEntry r;
        r.time = start + i * 10;
        r.reason = QByteArrayLiteral("Sender Failed to Retry");
        r.key.client = "192.0.2.0/24";
        // Every third sender is from news.test: 150 rows.
        r.key.sender = QByteArray("user") + QByteArray::number(i) +
                       (i % 3 == 0 ? "@news.test" : "@other.test");
        r.key.recipient = "rcpt@corp.test";
        r.attempts = 1 + i % 4;
        r.firstSeen = r.time - 12 * 3600;
        batch.rejections.append(r);
    }
    const bool ok = store.commit(batch, error);
    store.close();
    return ok;
}

} // namespace

class RejectionModelTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void pagesThroughEveryRowOldestFirst();
    void theServerFiltersBySubstringAndTime();
    void aBlockedSendersAttemptAppearsLive();

private:
    AnalysisDaemon m_daemon;
    ProxyRegistry m_registry;
    QString m_id;
    qint64 m_start = 0;
};

void RejectionModelTest::initTestCase()
{
    m_start = QDateTime::currentSecsSinceEpoch() - 2 * 3600;
    QString error;
    QVERIFY2(seedRejections(m_daemon.dbdir(), m_start, &error), qPrintable(error));
    QVERIFY2(m_daemon.start({}, &error), qPrintable(error));
    m_id = addReady(m_registry, m_daemon, QStringLiteral("mx1"));
    QVERIFY(!m_id.isEmpty());
    QVERIFY(blockSender(m_registry, m_id, QStringLiteral("spam@bad.test")));
}

void RejectionModelTest::pagesThroughEveryRowOldestFirst()
{
    RejectionModel model(m_registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    model.setPageSize(100);
    model.setScope(m_id);
    QTRY_VERIFY(model.rowCount() >= 100);
    // (QAbstractItemModelTester asks for more pages by itself too.)
    for (int page = 2; page <= 10 && model.canFetchMore({}); ++page) {
        model.fetchMore({});
        QTRY_VERIFY(!model.isLoading());
    }
    QTRY_COMPARE(model.rowCount(), kRows);
    // Page by page: 4 pages of 100 and one of 50, each one insert.
    QCOMPARE(inserted.count(), 5);
    for (const QList<QVariant> &batch : std::as_const(inserted))
        QVERIFY(batch.at(2).toInt() - batch.at(1).toInt() + 1 <= 100);
    QCOMPARE(model.rowCount(), kRows);
    QVERIFY(!model.canFetchMore({}));
    for (int row = 0; row < kRows; ++row) {
        QCOMPARE(model.index(row, RejectionModel::TimeColumn).data(Qt::UserRole).toLongLong(),
                 m_start + row * 10);
    }
    QCOMPARE(model.index(0, RejectionModel::ReasonColumn).data().toString(),
             QStringLiteral("Sender Failed to Retry"));
    QCOMPARE(model.index(0, RejectionModel::ProxyColumn).data().toString(), QStringLiteral("mx1"));
    QCOMPARE(model.index(0, RejectionModel::SenderColumn).data().toString(),
             QStringLiteral("user0@news.test"));
    QCOMPARE(model.index(3, RejectionModel::AttemptsColumn).data().toLongLong(), 4);
    QCOMPARE(model.index(0, RejectionModel::FirstSeenColumn).data(Qt::UserRole).toLongLong(),
             m_start - 12 * 3600);
}

void RejectionModelTest::theServerFiltersBySubstringAndTime()
{
    RejectionModel model(m_registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setPageSize(1000);
    RejectionModel::Filter filter;
    filter.sender = QStringLiteral("NEWS.test");
    model.setFilter(filter);
    QTRY_COMPARE(model.rowCount(), kRows / 3);
    QTRY_VERIFY(!model.isLoading());
    QVERIFY(!model.canFetchMore({}));
    for (int row = 0; row < model.rowCount(); ++row)
        QVERIFY(model.rowAt(row).sender.endsWith(QStringLiteral("@news.test")));

    // The first hundred rows by time: [start, start + 1000).
    filter = {};
    filter.from = m_start;
    filter.to = m_start + 1000;
    model.setFilter(filter);
    QTRY_COMPARE(model.rowCount(), 100);
    QTRY_VERIFY(!model.isLoading());
    QCOMPARE(model.rowAt(99).time, m_start + 990);

    filter.reason = QStringLiteral("no such reason");
    model.setFilter(filter);
    QTRY_VERIFY(!model.isLoading());
    QCOMPARE(model.rowCount(), 0);
}

void RejectionModelTest::aBlockedSendersAttemptAppearsLive()
{
    RejectionModel model(m_registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    RejectionModel::Filter filter;
    filter.sender = QStringLiteral("bad.test"); // no stored row matches: only the live one
    model.setFilter(filter);
    QTRY_VERIFY(!model.isLoading());
    QCOMPARE(model.rowCount(), 0);
    QTest::qWait(300); // the subscription is answered before the decision is made

    QVERIFY(m_daemon.decide("198.51.100.9", "spam@bad.test", "x@corp.test").startsWith("REJECT"));
    QVERIFY(m_daemon.decide("198.51.100.9", "ok@good.test", "x@corp.test").startsWith("DEFER"));
    QTRY_COMPARE(model.rowCount(), 1);
    const RejectionModel::Row &row = model.rowAt(0);
    QCOMPARE(row.reason, RejectionModel::kBlockedReason);
    QCOMPARE(row.sender, QStringLiteral("spam@bad.test"));
    QCOMPARE(row.recipient, QStringLiteral("x@corp.test"));
    QCOMPARE(row.proxyId, m_id);
    QVERIFY(qAbs(row.time - QDateTime::currentSecsSinceEpoch()) < 60);
}

QTEST_GUILESS_MAIN(RejectionModelTest)
#include "tst_rejection_model.moc"
