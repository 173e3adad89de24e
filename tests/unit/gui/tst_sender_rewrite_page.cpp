// SPDX-License-Identifier: GPL-3.0-or-later
// The console's "Sender rewriting" page against a whole proxy in the test process (the real
// control server, SQLite store and engine), offscreen: the built-in table and the samples'
// keys show; an invalid edit is refused by the proxy and disables Save; a fixed one is saved
// and keys the proxy's next decisions; rows are added, moved, disabled and removed; another
// admin's save in between is reported as a conflict, and Revert loads it.
#include "../control/ControlTestProxy.h"
#include "client/ProxyRegistry.h"
#include "greylist/SenderRewriter.h"
#include "models/SenderRewriteModel.h"
#include "pages/SenderRewritePage.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>

using namespace greygate;
using namespace greygate::test;

namespace {

QString add(ProxyRegistry &registry, const ControlTestProxy &proxy)
{
    ProxyEndpoint e;
    e.name = QStringLiteral("mx1");
    e.url = proxy.url();
    e.token = proxy.token();
    const QString id = registry.add(e);
    QTest::qWaitFor(
        [&] { return registry.connection(id)->state() == ProxyConnection::State::Connected; },
        10'000);
    return id;
}

QStringList column(const SenderRewriteModel &m, int c)
{
    QStringList out;
    for (int r = 0; r < m.rowCount(); ++r)
        out.append(m.index(r, c).data().toString());
    return out;
}

} // namespace

class TstSenderRewritePage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pageShowsTheTableAndWhatSamplesBecome();
    void invalidEditDisablesSaveAndAValidOneKeysTheNextDecisions();
    void rowsAreAddedMovedDisabledAndRemoved();
    void anotherAdminsSaveIsAConflictAndRevertLoadsIt();
};

void TstSenderRewritePage::pageShowsTheTableAndWhatSamplesBecome()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    ProxyRegistry registry;
    const QString id = add(registry, proxy);
    SenderRewritePage page(registry);
    QAbstractItemModelTester tester(page.model(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    page.setScope(id);
    page.resize(1000, 600);
    page.show();
    QTRY_VERIFY(page.model()->loaded());
    QCOMPARE(column(*page.model(), SenderRewriteModel::Id),
             (QStringList{u"srs"_qs, u"batv"_qs, u"plus-tag"_qs, u"verp"_qs}));
    QCOMPARE(page.model()->version(), 0);
    QVERIFY(!page.saveButton()->isEnabled());

    page.samplesEdit()->setPlainText(
        QStringLiteral("SRS0=h=tt=example.org=prvs=12ab=list-9@fwd.example\nplain@example.org"));
    QTRY_COMPARE(page.resultsTable()->rowCount(), 2);
    QTRY_COMPARE(page.resultsTable()->item(0, 1)->text(), u"list-#@example.org"_qs);
    QCOMPARE(page.resultsTable()->item(0, 2)->text(), u"srs, batv, verp"_qs);
    QCOMPARE(page.resultsTable()->item(1, 1)->text(), u"plain@example.org"_qs);
    QVERIFY(page.statusLabel()->text().contains(u"Version 0"));
}

void TstSenderRewritePage::invalidEditDisablesSaveAndAValidOneKeysTheNextDecisions()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    ProxyRegistry registry;
    const QString id = add(registry, proxy);
    SenderRewritePage page(registry);
    page.setScope(id);
    page.show();
    QTRY_VERIFY(page.model()->loaded());
    SenderRewriteModel &m = *page.model();

    const int row = m.addRule(u"regex"_qs);
    QCOMPARE(row, 4);
    QVERIFY(m.setData(m.index(row, SenderRewriteModel::Pattern), u"^bounces-[0-9a-f]{8}-(.+"_qs));
    QVERIFY(m.setData(m.index(row, SenderRewriteModel::Replacement), u"bounces-\\1"_qs));
    QTRY_VERIFY(!m.problem().isEmpty() && !m.isTesting());
    QVERIFY2(m.problem().contains(u"not a valid regular expression"), qPrintable(m.problem()));
    QVERIFY2(m.problem().contains(u"params.rules[4].pattern"), qPrintable(m.problem()));
    QVERIFY(!page.saveButton()->isEnabled());
    QVERIFY(page.statusLabel()->text().contains(u"refuses"));

    QVERIFY(m.setData(m.index(row, SenderRewriteModel::Pattern), u"^bounces-[0-9a-f]{8}-(.+)$"_qs));
    page.samplesEdit()->setPlainText(QStringLiteral("bounces-deadbeef-news@mailer.test"));
    QTRY_VERIFY(m.problem().isEmpty() && !m.isTesting() && m.results().size() == 1);
    QCOMPARE(m.results().first().key, u"bounces-news@mailer.test"_qs);
    QCOMPARE(m.results().first().applied, QStringList{u"regex-1"_qs});
    QTRY_VERIFY(page.saveButton()->isEnabled());
    // Nothing is saved before Save: the proxy still keys as before.
    QCOMPARE(proxy.engine->normaliser().normaliseSender("bounces-deadbeef-news@mailer.test"),
             QByteArray("bounces-deadbeef-news@mailer.test"));

    QTest::mouseClick(page.saveButton(), Qt::LeftButton);
    QTRY_COMPARE(m.version(), 1);
    QVERIFY(!m.isDirty());
    QVERIFY(m.message().contains(u"version 1"));
    QCOMPARE(proxy.engine->normaliser().senderRewriter()->rules().version, 1u);
    QCOMPARE(proxy.engine->normaliser().normaliseSender("bounces-0badf00d-news@mailer.test"),
             QByteArray("bounces-news@mailer.test"));
    // Two tags, one triplet: the second is a retry of the first.
    QVERIFY(proxy.decide("192.0.2.1", "bounces-11111111-news@mailer.test", "a@corp.test")
                .startsWith("DEFER_IF_PERMIT"));
    QCOMPARE(proxy.engine->tripletCount(), 1);
    proxy.decide("192.0.2.1", "bounces-22222222-news@mailer.test", "a@corp.test");
    QCOMPARE(proxy.engine->tripletCount(), 1);
}

void TstSenderRewritePage::rowsAreAddedMovedDisabledAndRemoved()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    ProxyRegistry registry;
    const QString id = add(registry, proxy);
    SenderRewriteModel m(registry);
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.setProxyId(id);
    QTRY_VERIFY(m.loaded());
    m.setSamples({u"a+b-12@example.org"_qs});

    m.moveRule(3, -1); // verp before plus-tag
    QCOMPARE(column(m, SenderRewriteModel::Id),
             (QStringList{u"srs"_qs, u"batv"_qs, u"verp"_qs, u"plus-tag"_qs}));
    m.moveRule(0, 1);
    QCOMPARE(column(m, SenderRewriteModel::Id),
             (QStringList{u"batv"_qs, u"srs"_qs, u"verp"_qs, u"plus-tag"_qs}));
    QVERIFY(m.setData(m.index(3, SenderRewriteModel::Enabled), Qt::Unchecked, Qt::CheckStateRole));
    QTRY_VERIFY(!m.isTesting() && m.results().size() == 1 &&
                m.results().first().key == u"a+b-#@example.org");
    QVERIFY(m.isDirty());
    m.removeRule(2);
    QCOMPARE(m.rowCount(), 3);
    QTRY_VERIFY(!m.isTesting() && m.results().first().key == u"a+b-12@example.org");
    QCOMPARE(m.results().first().applied, QStringList());
    // Only the pattern-like columns of the kinds that have them are editable.
    QVERIFY(!(m.flags(m.index(0, SenderRewriteModel::Pattern)) & Qt::ItemIsEditable));
    m.revert();
    QTRY_COMPARE(m.rowCount(), 4);
    QTRY_VERIFY(!m.isDirty());
}

void TstSenderRewritePage::anotherAdminsSaveIsAConflictAndRevertLoadsIt()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    ProxyRegistry mine, theirs;
    SenderRewriteModel me(mine), other(theirs);
    me.setProxyId(add(mine, proxy));
    other.setProxyId(add(theirs, proxy));
    QTRY_VERIFY(me.loaded() && other.loaded());

    me.removeRule(3);
    other.addRule(u"plusTag"_qs);
    QVERIFY(other.setData(other.index(4, SenderRewriteModel::Pattern), u"-"_qs));
    QTRY_VERIFY(other.canSave());
    other.save();
    QTRY_COMPARE(other.version(), 1);

    QTRY_VERIFY(me.canSave());
    me.save();
    QTRY_VERIFY(me.message().contains(u"another admin"));
    QCOMPARE(me.version(), 0);
    QCOMPARE(proxy.engine->normaliser().senderRewriter()->rules().rules.size(), 5);
    me.revert();
    QTRY_COMPARE(me.version(), 1);
    QCOMPARE(me.rowCount(), 5);
}

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    TstSenderRewritePage test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_sender_rewrite_page.moc"
