// SPDX-License-Identifier: GPL-3.0-or-later
// The operations pages against a real greygated: the live page shows attempts and filters
// them; the queue page releases and deletes the selected triplets after one confirmation;
// the policies page explains a triplet and keeps a conflicting edit; the groups page imports
// CSV members through the proxy's parser.

#include "../models/LiveModelsDaemon.h"
#include "dialogs/Confirmation.h"
#include "dialogs/PolicyDialog.h"
#include "models/GroupListModel.h"
#include "models/GroupMembersModel.h"
#include "models/LiveAttemptsFilter.h"
#include "models/LiveAttemptsModel.h"
#include "models/QueueModel.h"
#include "pages/GroupsPage.h"
#include "pages/LivePage.h"
#include "pages/PoliciesPage.h"
#include "pages/QueuePage.h"
#include "settings/Settings.h"
#include "widgets/DataTable.h"
#include "widgets/ExplanationView.h"
#include "widgets/Resources.h"

#include <QComboBox>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>

using namespace greygate;
using namespace greygate::test;

class OperationsPagesTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup() { Confirmation::setTestAnswer(-1); }
    void livePageShowsAttemptsAndFilters();
    void queuePageReleasesAndDeletesTheSelection();
    void policiesPageExplainsATriplet();
    void policiesPageKeepsAConflictingEdit();
    void groupsPageImportsCsvMembers();

private:
    LiveModelsDaemon m_daemon;
    QTemporaryDir m_dir;
    std::unique_ptr<Settings> m_settings;
};

void OperationsPagesTest::initTestCase()
{
    initConsoleResources();
    QVERIFY2(m_daemon.start(), qPrintable(m_daemon.error));
    QVERIFY(m_daemon.connectRegistry());
    m_settings = std::make_unique<Settings>(m_dir.filePath(QStringLiteral("console.json")));
}

void OperationsPagesTest::livePageShowsAttemptsAndFilters()
{
    QSignalSpy subscribed(m_daemon.connection(), &ProxyConnection::subscribed);
    LivePage page(m_daemon.registry, *m_settings);
    page.show();
    QTRY_VERIFY_WITH_TIMEOUT(subscribed.count() > 0, 10'000); // events from now on reach it
    QVERIFY(m_daemon.rcpt("192.0.2.50", "a@live.example", "x@corp.example").startsWith("DEFER"));
    QVERIFY(m_daemon.rcpt("192.0.2.51", "b@other.example", "y@corp.example").startsWith("DEFER"));
    QTRY_VERIFY_WITH_TIMEOUT(page.model()->rowCount() >= 2, 10'000);
    page.findChild<QLineEdit *>(QStringLiteral("filter"))->setText(QStringLiteral("live.example"));
    QTRY_COMPARE(page.filter()->rowCount(), 1);
    auto *outcome = page.findChild<QComboBox *>(QStringLiteral("outcome"));
    outcome->setCurrentIndex(outcome->findData(QStringLiteral("blocked")));
    QTRY_COMPARE(page.filter()->rowCount(), 0);
}

void OperationsPagesTest::queuePageReleasesAndDeletesTheSelection()
{
    for (int i = 0; i < 3; ++i)
        QVERIFY(m_daemon
                    .rcpt("198.51.100.9",
                          QByteArray("s") + QByteArray::number(i) + "@queue.example",
                          "r@corp.example")
                    .startsWith("DEFER"));
    QueuePage page(m_daemon.registry, *m_settings);
    page.show();
    page.findChild<QLineEdit *>(QStringLiteral("domain"))->setText(QStringLiteral("queue.example"));
    QTRY_COMPARE_WITH_TIMEOUT(page.model()->rowCount(), 3, 10'000);
    page.table()->selectAll();
    Confirmation::setTestAnswer(0);
    page.releaseSelected(); // the admin said no: nothing happens
    QTest::qWait(300);
    QCOMPARE(m_daemon
                 .call(QStringLiteral("queue.list"),
                       {{QStringLiteral("state"), QStringLiteral("passed")},
                        {QStringLiteral("domain"), QStringLiteral("queue.example")}})
                 .result.toObject()
                 .value(u"total")
                 .toInteger(),
             0);
    Confirmation::setTestAnswer(1);
    page.table()->clearSelection();
    page.table()->selectRow(0);
    page.table()->selectionModel()->select(page.table()->model()->index(1, 0),
                                           QItemSelectionModel::Select | QItemSelectionModel::Rows);
    page.releaseSelected();
    QTRY_COMPARE_WITH_TIMEOUT(
        m_daemon
            .call(QStringLiteral("queue.list"),
                  {{QStringLiteral("state"), QStringLiteral("passed")},
                   {QStringLiteral("domain"), QStringLiteral("queue.example")}})
            .result.toObject()
            .value(u"total")
            .toInteger(),
        2, 10'000);
    page.table()->selectAll();
    page.deleteSelected();
    QTRY_COMPARE_WITH_TIMEOUT(
        m_daemon
            .call(QStringLiteral("queue.list"),
                  {{QStringLiteral("domain"), QStringLiteral("queue.example")}})
            .result.toObject()
            .value(u"total")
            .toInteger(),
        0, 10'000);
}

void OperationsPagesTest::policiesPageExplainsATriplet()
{
    PoliciesPage page(m_daemon.registry, *m_settings);
    page.explain(QStringLiteral("192.0.2.9"), QStringLiteral("a@b.example"),
                 QStringLiteral("c@corp.example"));
    QTRY_VERIFY_WITH_TIMEOUT(
        page.explanation()->toPlainText().contains(QLatin1String("no policy applies")), 10'000);
    page.explain(QString(), QString(), QString());
    QVERIFY(page.explanation()->toPlainText().contains(QLatin1String("at least")));
}

void OperationsPagesTest::policiesPageKeepsAConflictingEdit()
{
    const QJsonObject policy{
        {QStringLiteral("narrative"), QStringLiteral("conflict test")},
        {QStringLiteral("action"), QStringLiteral("bypass")},
        {QStringLiteral("from"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("domain")},
                     {QStringLiteral("value"), QStringLiteral("c.example")}}},
        {QStringLiteral("to"), QJsonObject{{QStringLiteral("type"), QStringLiteral("everyone")}}}};
    const auto created =
        m_daemon.call(QStringLiteral("policy.create"), {{QStringLiteral("policy"), policy}});
    QVERIFY2(created.ok, qPrintable(created.error.message));
    const qint64 id = created.result.toObject().value(u"id").toInteger();
    const QJsonObject read =
        m_daemon.call(QStringLiteral("policy.get"), {{QStringLiteral("id"), id}}).result.toObject();
    PoliciesPage page(m_daemon.registry, *m_settings);
    PolicyDialog *dialog = page.openDialog(read);
    dialog->show();
    dialog->findChild<QLineEdit *>(QStringLiteral("narrative"))->setText(QStringLiteral("my edit"));
    // Someone else changes it meanwhile.
    QJsonObject theirs = read;
    theirs.insert(QStringLiteral("narrative"), QStringLiteral("their edit"));
    QVERIFY(
        m_daemon.call(QStringLiteral("policy.update"), {{QStringLiteral("policy"), theirs}}).ok);
    page.submit(dialog, dialog->policy());
    QTRY_VERIFY_WITH_TIMEOUT(dialog->conflictShown(), 10'000);
    QCOMPARE(dialog->policy().value(u"narrative").toString(), QStringLiteral("my edit"));
    dialog->reapplyOnLatest();
    page.submit(dialog, dialog->policy());
    QTRY_COMPARE_WITH_TIMEOUT(
        m_daemon.call(QStringLiteral("policy.get"), {{QStringLiteral("id"), id}})
            .result.toObject()
            .value(u"narrative")
            .toString(),
        QStringLiteral("my edit"), 10'000);
}

void OperationsPagesTest::groupsPageImportsCsvMembers()
{
    QVERIFY(m_daemon
                .call(QStringLiteral("group.create"),
                      {{QStringLiteral("group"),
                        QJsonObject{{QStringLiteral("name"), QStringLiteral("Imported")}}}})
                .ok);
    GroupsPage page(m_daemon.registry, *m_settings);
    page.show();
    QTRY_VERIFY_WITH_TIMEOUT(page.groups()->rowCount() >= 1, 10'000);
    // Choose the "Imported" group.
    for (int r = 0; r < page.groupTable()->model()->rowCount(); ++r) {
        if (page.groupTable()->model()->index(r, GroupListModel::Name).data().toString() ==
            u"Imported")
            page.groupTable()->selectRow(r);
    }
    QTRY_VERIFY_WITH_TIMEOUT(
        page.members()->version() >= 0 && page.members()->groupName() == u"Imported", 10'000);
    page.importCsv("member\n# partners\nboss@partner.test\n@vip.test\n\"198.51.100.0/24\"\n",
                   false);
    QTRY_COMPARE_WITH_TIMEOUT(page.members()->rowCount(), 3, 10'000);
    // A bad line refuses the whole file, named by its line.
    page.importCsv("member\nok@fine.test\nnot a member\n", false);
    QTRY_VERIFY_WITH_TIMEOUT(page.findChild<QLabel *>(QStringLiteral("message"))
                                 ->text()
                                 .contains(QLatin1String("line 3")),
                             10'000);
    QCOMPARE(page.members()->rowCount(), 3);
}

QTEST_MAIN(OperationsPagesTest)
#include "tst_operations_pages.moc"
