// SPDX-License-Identifier: GPL-3.0-or-later
// Smoke tests of issue 11's console pages against a real greygated (offscreen): the Releases
// page makes a release through its dialog, lists it and revokes it, with the audit below; the
// Queue page's "Release for..." takes a triplet out of the queue for a while; the Delay page
// shows an accepted retry in its summary, tables and chart; the Rejections page links to the
// Triage page.

#include "../models/LiveModelsDaemon.h"
#include "charts/TimeSeriesChartView.h"
#include "dialogs/Confirmation.h"
#include "dialogs/ReleaseDialog.h"
#include "models/DelayStatsModel.h"
#include "models/QueueModel.h"
#include "models/ReleaseAuditModel.h"
#include "models/ReleaseListModel.h"
#include "pages/DelayPage.h"
#include "pages/QueuePage.h"
#include "pages/RejectionsPage.h"
#include "pages/ReleasesPage.h"
#include "settings/Settings.h"
#include "widgets/DataTable.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>

using namespace greygate;
using namespace greygate::test;

class ReleasePagesTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup() { Confirmation::setTestAnswer(-1); }
    void releasesPageMakesListsAndRevokesARelease();
    void queuePageReleasesATripletForAWhile();
    void delayPageShowsAnAcceptedRetry();
    void rejectionsPageLinksToTheTriage();

private:
    qint64 activeReleases();

    QTemporaryDir m_dir;
    std::unique_ptr<Settings> m_settings;
    LiveModelsDaemon m_d;
};

void ReleasePagesTest::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_settings = std::make_unique<Settings>(m_dir.filePath(QStringLiteral("console.json")));
    QVERIFY2(m_d.start(1), qPrintable(m_d.error)); // 1 s: the delay page needs an accepted retry
    QVERIFY(m_d.connectRegistry());
}

qint64 ReleasePagesTest::activeReleases()
{
    return m_d.call(QStringLiteral("release.list"))
        .result.toObject()
        .value(u"releases")
        .toArray()
        .size();
}

void ReleasePagesTest::releasesPageMakesListsAndRevokesARelease()
{
    ReleasesPage page(m_d.registry, *m_settings);
    page.resize(1000, 700);
    page.show();
    page.newRelease();
    ReleaseDialog *dialog = page.openDialog();
    QVERIFY(dialog);
    auto *ok = dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
    QVERIFY(!ok->isEnabled()); // nothing entered yet
    dialog->fromEdit()->setText(QStringLiteral("ceo@supplier.example"));
    dialog->unitBox()->setCurrentIndex(2); // days
    dialog->amountBox()->setValue(3);
    QVERIFY(!ok->isEnabled()); // no reason yet
    QVERIFY(dialog->findChild<QLabel *>(QStringLiteral("error"))->text().contains(u"reason"));
    dialog->reasonEdit()->setText(QStringLiteral("quarterly contract"));
    QVERIFY(ok->isEnabled());
    ok->click();
    QTRY_COMPARE_WITH_TIMEOUT(page.model()->rowCount(), 1, 10'000);
    const ReleaseRow row = page.model()->rows().first();
    QCOMPARE(row.sender, QStringLiteral("ceo@supplier.example"));
    QCOMPARE(row.until - row.createdAt, 3 * 86400);
    QTRY_VERIFY_WITH_TIMEOUT(page.auditModel()->rowCount() >= 1, 10'000);
    QCOMPARE(page.auditModel()->rows().first().what, QStringLiteral("release.create"));

    auto *revoke = page.findChild<QPushButton *>(QStringLiteral("revoke"));
    QVERIFY(!revoke->isEnabled());
    page.table()->selectRow(0);
    QVERIFY(revoke->isEnabled());
    Confirmation::setTestAnswer(1);
    revoke->click();
    QTRY_COMPARE_WITH_TIMEOUT(page.model()->rowCount(), 0, 10'000);
    QCOMPARE(activeReleases(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(page.auditModel()->rows().first().what,
                              QStringLiteral("release.revoke"), 10'000);
}

void ReleasePagesTest::queuePageReleasesATripletForAWhile()
{
    const QByteArray answer = m_d.rcpt("192.0.2.77", "invoice@vendor.example", "ap@corp.example");
    QVERIFY2(answer.startsWith("DEFER_IF_PERMIT"), answer.constData());
    QueuePage page(m_d.registry, *m_settings);
    page.resize(1200, 700);
    page.show();
    page.findChild<QLineEdit *>(QStringLiteral("domain"))
        ->setText(QStringLiteral("vendor.example"));
    QTRY_COMPARE_WITH_TIMEOUT(page.model()->rowCount(), 1, 10'000);
    page.table()->selectRow(0);
    auto *button = page.findChild<QPushButton *>(QStringLiteral("releaseFor"));
    QVERIFY(button && button->isEnabled());
    button->click();
    auto *dialog = page.findChild<ReleaseDialog *>();
    QVERIFY(dialog);
    QCOMPARE(dialog->fromEdit()->text(), QStringLiteral("invoice@vendor.example"));
    QCOMPARE(dialog->toEdit()->text(), QStringLiteral("ap@corp.example"));
    QCOMPARE(dialog->request().kind, ReleaseRequest::Kind::Triplet);
    QCOMPARE(dialog->request().client, page.model()->entry(0).client);
    dialog->reasonEdit()->setText(QStringLiteral("invoice due today"));
    dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
    // The triplet left the queue (its retry is let through by the release) and the release
    // is listed, as the triplet.
    QTRY_COMPARE_WITH_TIMEOUT(page.model()->rowCount(), 0, 10'000);
    const QJsonArray releases =
        m_d.call(QStringLiteral("release.list")).result.toObject().value(u"releases").toArray();
    QCOMPARE(releases.size(), 1);
    QCOMPARE(releases.first().toObject().value(u"kind").toString(), QStringLiteral("triplet"));
    QCOMPARE(releases.first().toObject().value(u"reason").toString(),
             QStringLiteral("invoice due today"));
    QVERIFY(page.findChild<QLabel *>(QStringLiteral("message"))->text().contains(u"audit"));
    QVERIFY(m_d.call(QStringLiteral("release.revoke"),
                     {{QStringLiteral("id"), releases.first().toObject().value(u"id")}})
                .ok);
}

void ReleasePagesTest::delayPageShowsAnAcceptedRetry()
{
    QVERIFY(m_d.rcpt("192.0.2.90", "digest@slow.example", "ops@corp.example").startsWith("DEFER"));
    QVERIFY(QTest::qWaitFor(
        [&] {
            return !m_d.rcpt("192.0.2.90", "digest@slow.example", "ops@corp.example")
                        .startsWith("DEFER");
        },
        10'000));
    DelayPage page(m_d.registry, *m_settings);
    page.resize(1000, 700);
    page.show();
    // The daemon counts delays from its event log about once a second: refresh until shown.
    QVERIFY(QTest::qWaitFor(
        [&] {
            page.refresh();
            QTest::qWait(300);
            return page.model()->total().count >= 1;
        },
        15'000));
    QVERIFY2(page.summary()->text().contains(u"p95"), qPrintable(page.summary()->text()));
    QTRY_VERIFY(page.domainTable()->model()->rowCount() >= 1);
    bool found = false;
    for (const DelayBreakdownRow &r : page.model()->domains()->rows())
        found = found || r.name == u"slow.example";
    QVERIFY(found);
    QCOMPARE(page.chart()->seriesCount(), 3);
    QVERIFY(!page.chart()->points(DelaySeriesModel::Max).isEmpty());
    // Another range asks again: a week by day is 7 or 8 points.
    QSignalSpy loaded(page.model(), &DelayStatsModel::loaded);
    page.rangeBox()->setCurrentIndex(3);
    QVERIFY(loaded.wait(10'000));
    QVERIFY(page.model()->series()->rowCount() >= 7 && page.model()->series()->rowCount() <= 8);
    page.tabs()->setCurrentIndex(1);
    QVERIFY(page.policyTable()->isVisible());
}

void ReleasePagesTest::rejectionsPageLinksToTheTriage()
{
    RejectionsPage page(m_d.registry);
    QSignalSpy open(&page, &Page::openPageRequested);
    auto *button = page.findChild<QPushButton *>(QStringLiteral("openTriage"));
    QVERIFY(button);
    button->click();
    QCOMPARE(open.size(), 1);
    QCOMPARE(open.first().at(0).toString(), QStringLiteral("triage"));
}

QTEST_MAIN(ReleasePagesTest)
#include "tst_release_pages.moc"
