// SPDX-License-Identifier: GPL-3.0-or-later
// BreakdownModel: against a real greygated, it asks `stats.breakdown` and either shows the
// proxy's answer or, from a proxy that does not offer the method yet, says it is not
// supported instead of showing an empty table. The answers of several proxies merge by
// policy name or domain, sorted by the figure shown, the top N kept, and a refetch changes
// rows in place (insert/remove at the end), never a reset. Malformed answers are refused.
#include "AnalysisDaemon.h"
#include "models/BreakdownModel.h"

#include <QAbstractItemModelTester>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>

using namespace greygate;
using namespace greygate::test;

namespace {

QJsonObject parse(const char *json)
{
    return QJsonDocument::fromJson(QByteArray(json)).object();
}

// The shape docs/api.md gives `stats.breakdown`.
const char *const kMx1 = R"({"from":0,"to":3600,
  "policies":[{"policy":"policy:1","name":"Partners skip greylisting","attempts":7,"deferred":0,"passed":0,
               "bypassed":7,"blocked":0},
              {"name":"","attempts":20,"deferred":15,"passed":5,"bypassed":0,"blocked":0}],
  "deferredSenderDomains":[{"domain":"bulk.test","deferred":9},{"domain":"news.test","deferred":4},
                   {"domain":"","deferred":2}]})";
const char *const kMx2 = R"({"from":0,"to":3600,
  "policies":[{"policy":"policy:3","name":"Partners skip greylisting","attempts":3,"deferred":0,"passed":0,
               "bypassed":3,"blocked":0}],
  "deferredSenderDomains":[{"domain":"news.test","deferred":8},{"domain":"tiny.test","deferred":1}]})";

} // namespace

class BreakdownModelTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void asksTheProxyAndSaysWhenItCannotAnswer();
    void mergesProxiesByNameSortedByTheFigureShown();
    void keepsTheTopDomainsAndChangesRowsInPlace();
    void refusesMalformedAnswers_data();
    void refusesMalformedAnswers();

private:
    AnalysisDaemon m_daemon;
    ProxyRegistry m_registry;
    QString m_id;
};

void BreakdownModelTest::initTestCase()
{
    QString error;
    QVERIFY2(m_daemon.start({}, &error), qPrintable(error));
    m_id = addReady(m_registry, m_daemon, QStringLiteral("mx1"));
    QVERIFY(!m_id.isEmpty());
    QVERIFY(m_daemon.decide("192.0.2.1", "a@bulk.test", "x@corp.test").startsWith("DEFER"));
}

void BreakdownModelTest::asksTheProxyAndSaysWhenItCannotAnswer()
{
    BreakdownModel model(m_registry, BreakdownModel::Kind::SenderDomains);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy refreshed(&model, &BreakdownModel::refreshed);
    QSignalSpy errors(&model, &BreakdownModel::errorOccurred);
    model.setScope(m_id);
    QTRY_VERIFY(refreshed.count() + errors.count() >= 2);

    QString error;
    const QJsonValue direct = callWait(
        m_registry, m_id, QStringLiteral("stats.breakdown"),
        QJsonObject{{QStringLiteral("from"), 0}, {QStringLiteral("to"), qint64(4'000'000'000)}},
        &error);
    if (direct.isUndefined()) {
        // This greygated predates stats.breakdown: the model says so.
        QVERIFY2(!model.isSupported(), qPrintable(model.lastError()));
        QCOMPARE(model.rowCount(), 0);
    } else {
        QVERIFY(model.isSupported());
        QTRY_COMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0, 0).data().toString(), QStringLiteral("bulk.test"));
        QCOMPARE(model.index(0, 1).data().toLongLong(), 1);
    }
}

void BreakdownModelTest::mergesProxiesByNameSortedByTheFigureShown()
{
    ProxyRegistry none; // no proxy: only the answers given below
    BreakdownModel model(none, BreakdownModel::Kind::Policies);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.columnCount(), 6);
    QVERIFY(model.applyResult(QStringLiteral("mx1"), parse(kMx1)));
    QVERIFY(model.applyResult(QStringLiteral("mx2"), parse(kMx2)));
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(0, BreakdownModel::NameColumn).data().toString(),
             QStringLiteral("Default (no policy)"));
    QCOMPARE(model.index(0, BreakdownModel::AttemptsColumn).data().toLongLong(), 20);
    QCOMPARE(model.index(0, BreakdownModel::DeferredColumn).data().toLongLong(), 15);
    QCOMPARE(model.index(1, BreakdownModel::NameColumn).data().toString(),
             QStringLiteral("Partners skip greylisting"));
    QCOMPARE(model.index(1, BreakdownModel::AttemptsColumn).data().toLongLong(), 10);
    QCOMPARE(model.index(1, BreakdownModel::BypassedColumn).data(Qt::UserRole).toLongLong(), 10);
}

void BreakdownModelTest::keepsTheTopDomainsAndChangesRowsInPlace()
{
    ProxyRegistry none;
    BreakdownModel model(none, BreakdownModel::Kind::SenderDomains);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setLimit(3);
    QVERIFY(model.applyResult(QStringLiteral("mx1"), parse(kMx1)));
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.columnCount(), 2);

    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QVERIFY(model.applyResult(QStringLiteral("mx2"), parse(kMx2)));
    // news.test 4 + 8 = 12 now leads bulk.test 9, then the null sender's 2; tiny.test (1) is
    // beyond the top 3.
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(0, 0).data().toString(), QStringLiteral("news.test"));
    QCOMPARE(model.index(0, 1).data().toLongLong(), 12);
    QCOMPARE(model.index(1, 0).data().toString(), QStringLiteral("bulk.test"));
    QCOMPARE(model.index(2, 0).data().toString(), QStringLiteral("(null sender)"));
    QCOMPARE(resets.count(), 0);
    QCOMPARE(changed.count(), 1);

    QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
    QVERIFY(model.applyResult(QStringLiteral("mx1"), parse(R"({"deferredSenderDomains":[]})")));
    QCOMPARE(model.rowCount(), 2); // mx2's two domains
    QCOMPARE(removed.count(), 1);
    QCOMPARE(resets.count(), 0);
}

void BreakdownModelTest::refusesMalformedAnswers_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::newRow("no list") << QByteArray(R"({"from":0})");
    QTest::newRow("list is a string") << QByteArray(R"({"deferredSenderDomains":"x"})");
    QTest::newRow("negative count")
        << QByteArray(R"({"deferredSenderDomains":[{"domain":"a","deferred":-1}]})");
    QTest::newRow("count is text")
        << QByteArray(R"({"deferredSenderDomains":[{"domain":"a","deferred":"9"}]})");
    QByteArray huge = "{\"deferredSenderDomains\":[";
    for (int i = 0; i < 1001; ++i)
        huge += (i ? "," : "") + QByteArray("{\"domain\":\"d\",\"deferred\":1}");
    QTest::newRow("too many rows") << (huge + "]}");
}

void BreakdownModelTest::refusesMalformedAnswers()
{
    QFETCH(QByteArray, json);
    ProxyRegistry none;
    BreakdownModel model(none, BreakdownModel::Kind::SenderDomains);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(model.applyResult(QStringLiteral("mx1"), parse(kMx1)));
    QString error;
    QVERIFY(!model.applyResult(QStringLiteral("mx1"), parse(json.constData()), &error));
    QVERIFY(error.startsWith(QStringLiteral("stats.breakdown: ")));
    QCOMPARE(model.rowCount(), 3); // the last good answer stays
}

QTEST_GUILESS_MAIN(BreakdownModelTest)
#include "tst_breakdown_model.moc"
