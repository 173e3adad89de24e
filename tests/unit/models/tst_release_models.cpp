// SPDX-License-Identifier: GPL-3.0-or-later
// Timed releases in the console's models, against a real greygated: a request checked before
// it is sent, a release made through ReleaseListModel listed with who, why and a countdown on
// a manual clock, one made by another admin arriving by event, a revoke removing the row, the
// audit log listing both newest first, and the release really letting the sender through.
// Also the Live view's shadow marks: an attempt a shadow (log-only) policy would have decided
// otherwise reads "would have bypassed".
// Every model runs under QAbstractItemModelTester.

#include "LiveModelsDaemon.h"
#include "models/LiveAttemptsModel.h"
#include "models/ReleaseAuditModel.h"
#include "models/ReleaseListModel.h"
#include "models/ReleaseRequest.h"

#include <QAbstractItemModelTester>
#include <QJsonArray>
#include <QJsonObject>

using namespace greygate;
using namespace greygate::test;

using Kind = ReleaseRequest::Kind;

class ReleaseModelsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void aRequestSaysWhatIsMissingBeforeItIsSent_data();
    void aRequestSaysWhatIsMissingBeforeItIsSent();
    void aRequestSendsOnlyTheFieldsOfItsKind();
    void aReleaseIsListedWithWhoWhyAndTimeLeft();
    void aReleaseLetsTheSenderThrough();
    void anotherAdminsReleaseArrivesByEvent();
    void revokeRemovesTheRowAndTheAuditListsBothNewestFirst();
    void anIncompleteRequestIsRefusedWithoutACall();
    void anUnknownProxyIsAnErrorNotACrash();
    void liveAttemptsMarkWhatAShadowPolicyWouldHaveDone();

private:
    LiveModelsDaemon m_d;
};

void ReleaseModelsTest::initTestCase()
{
    QVERIFY2(m_d.start(3600), qPrintable(m_d.error));
    QVERIFY(m_d.connectRegistry());
}

void ReleaseModelsTest::aRequestSaysWhatIsMissingBeforeItIsSent_data()
{
    QTest::addColumn<int>("kind");
    QTest::addColumn<QString>("sender");
    QTest::addColumn<QString>("domain");
    QTest::addColumn<QString>("recipient");
    QTest::addColumn<qint64>("seconds");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<QString>("complaint"); // a word of the message; empty: valid
    const auto row = [](const char *name, Kind kind, const char *sender, const char *domain,
                        const char *recipient, qint64 seconds, const char *reason,
                        const char *complaint) {
        QTest::newRow(name) << int(kind) << QString::fromUtf8(sender) << QString::fromUtf8(domain)
                            << QString::fromUtf8(recipient) << seconds << QString::fromUtf8(reason)
                            << QString::fromUtf8(complaint);
    };
    row("sender, complete", Kind::Sender, "a@b.example", "", "", 3600, "ticket 1", "");
    row("sender without @", Kind::Sender, "b.example", "", "", 3600, "ticket 1", "address");
    row("domain, complete", Kind::Domain, "", "b.example", "", 7200, "partner", "");
    row("domain given as an address", Kind::Domain, "", "a@b.example", "", 3600, "x", "domain");
    row("expect from a domain", Kind::Expect, "", "bank.example", "cfo@corp.example", 3600,
        "password reset", "");
    row("expect from nobody", Kind::Expect, "", "", "cfo@corp.example", 3600, "x", "comes from");
    row("expect without recipient", Kind::Expect, "a@b.example", "", "", 3600, "x", "recipient");
    row("no reason", Kind::Sender, "a@b.example", "", "", 3600, "   ", "reason");
    row("too short", Kind::Sender, "a@b.example", "", "", 59, "x", "duration");
    row("too long", Kind::Sender, "a@b.example", "", "", 91 * 86400, "x", "duration");
    row("a line break in the reason", Kind::Sender, "a@b.example", "", "", 3600, "a\nb",
        "line breaks");
}

void ReleaseModelsTest::aRequestSaysWhatIsMissingBeforeItIsSent()
{
    QFETCH(int, kind);
    QFETCH(QString, sender);
    QFETCH(QString, domain);
    QFETCH(QString, recipient);
    QFETCH(qint64, seconds);
    QFETCH(QString, reason);
    QFETCH(QString, complaint);
    ReleaseRequest r;
    r.kind = Kind(kind);
    r.sender = sender;
    r.domain = domain;
    r.recipient = recipient;
    r.seconds = seconds;
    r.reason = reason;
    const QString message = r.validate();
    if (complaint.isEmpty())
        QVERIFY2(message.isEmpty(), qPrintable(message));
    else
        QVERIFY2(message.contains(complaint), qPrintable(message));
}

void ReleaseModelsTest::aRequestSendsOnlyTheFieldsOfItsKind()
{
    ReleaseRequest r;
    r.kind = Kind::Domain;
    r.sender = QStringLiteral("left@over.example"); // typed before the kind was changed
    r.domain = QStringLiteral(" b.example ");
    r.seconds = 600;
    r.reason = QStringLiteral(" partner outage ");
    const QJsonObject p = r.toParams();
    QCOMPARE(p.value(u"kind").toString(), QStringLiteral("domain"));
    QCOMPARE(p.value(u"domain").toString(), QStringLiteral("b.example"));
    QCOMPARE(p.value(u"for").toInteger(), 600);
    QCOMPARE(p.value(u"reason").toString(), QStringLiteral("partner outage"));
    QVERIFY(!p.contains(u"sender"));
    QVERIFY(!p.contains(u"recipient"));
}

void ReleaseModelsTest::aReleaseIsListedWithWhoWhyAndTimeLeft()
{
    ReleaseListModel model(m_d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setProxyId(m_d.proxyId);
    QSignalSpy done(&model, &ReleaseListModel::changeDone);
    ReleaseRequest r;
    r.kind = Kind::Sender;
    r.sender = QStringLiteral("urgent@listed.example");
    r.seconds = 2 * 3600;
    r.reason = QStringLiteral("contract signature, ticket 4711");
    model.create(r);
    QVERIFY(done.wait(10'000));
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, 10'000);
    const ReleaseRow &row = model.rows().first();
    QCOMPARE(model.index(0, ReleaseListModel::Kind).data().toString(),
             ReleaseListModel::kindLabel(QStringLiteral("sender")));
    QCOMPARE(model.index(0, ReleaseListModel::Subject).data().toString(),
             QStringLiteral("urgent@listed.example"));
    QCOMPARE(model.index(0, ReleaseListModel::Reason).data().toString(), r.reason);
    QVERIFY2(row.who.startsWith(u"admin@"), qPrintable(row.who));
    QCOMPARE(row.until - row.createdAt, 2 * 3600);

    // The countdown follows the clock, and only its column is signalled.
    qint64 now = row.createdAt + 600;
    model.setClock([&now] { return now; });
    QCOMPARE(model.index(0, ReleaseListModel::Remaining).data(Qt::UserRole).toLongLong(), 6600);
    QCOMPARE(model.index(0, ReleaseListModel::Remaining).data().toString(),
             ReleaseListModel::formatRemaining(6600));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    now += 3600;
    model.tick();
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.first().at(0).toModelIndex().column(), int(ReleaseListModel::Remaining));
    QCOMPARE(changed.first().at(1).toModelIndex().column(), int(ReleaseListModel::Remaining));
    QCOMPARE(model.index(0, ReleaseListModel::Remaining).data(Qt::UserRole).toLongLong(), 3000);
    now = row.until;
    QCOMPARE(model.index(0, ReleaseListModel::Remaining).data().toString(),
             ReleaseListModel::formatRemaining(0));
    QVERIFY(m_d.call(QStringLiteral("release.revoke"), {{QStringLiteral("id"), row.id}}).ok);
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 0, 10'000);
}

void ReleaseModelsTest::aReleaseLetsTheSenderThrough()
{
    const QByteArray before = m_d.rcpt("203.0.113.5", "reset@bank.example", "cfo@corp.example");
    QVERIFY2(before.startsWith("DEFER_IF_PERMIT"), before.constData());
    ReleaseListModel model(m_d.registry);
    model.setProxyId(m_d.proxyId);
    QSignalSpy done(&model, &ReleaseListModel::changeDone);
    ReleaseRequest r;
    r.kind = Kind::Expect;
    r.domain = QStringLiteral("bank.example");
    r.recipient = QStringLiteral("cfo@corp.example");
    r.seconds = 3600;
    r.reason = QStringLiteral("password reset");
    model.create(r);
    QVERIFY(done.wait(10'000));
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, 10'000);
    QCOMPARE(model.index(0, ReleaseListModel::Subject).data().toString(),
             QStringLiteral("bank.example \u2192 cfo@corp.example"));
    const QByteArray after = m_d.rcpt("198.51.100.9", "other@bank.example", "cfo@corp.example");
    QVERIFY2(!after.startsWith("DEFER"), after.constData());
    // Expected for that recipient only.
    const QByteArray elsewhere = m_d.rcpt("198.51.100.9", "other@bank.example", "bob@corp.example");
    QVERIFY2(elsewhere.startsWith("DEFER_IF_PERMIT"), elsewhere.constData());
    model.revoke(0);
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 0, 10'000);
}

void ReleaseModelsTest::anotherAdminsReleaseArrivesByEvent()
{
    ReleaseListModel model(m_d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setProxyId(m_d.proxyId);
    QSignalSpy loaded(&model, &ReleaseListModel::loaded);
    QVERIFY(loaded.wait(10'000));
    QCOMPARE(model.rowCount(), 0);
    const ProxyConnection::Reply made =
        m_d.call(QStringLiteral("release.create"),
                 {{QStringLiteral("kind"), QStringLiteral("domain")},
                  {QStringLiteral("domain"), QStringLiteral("partner.example")},
                  {QStringLiteral("for"), 1800},
                  {QStringLiteral("reason"), QStringLiteral("their MTA cannot retry today")}});
    QVERIFY2(made.ok, qPrintable(made.error.message));
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, 10'000);
    QCOMPARE(model.rows().first().domain, QStringLiteral("partner.example"));
    QCOMPARE(model.index(0, ReleaseListModel::Kind).data().toString(),
             ReleaseListModel::kindLabel(QStringLiteral("domain")));
    QVERIFY(m_d.call(QStringLiteral("release.revoke"),
                     {{QStringLiteral("id"), model.rows().first().id}})
                .ok);
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 0, 10'000);
}

void ReleaseModelsTest::revokeRemovesTheRowAndTheAuditListsBothNewestFirst()
{
    ReleaseListModel model(m_d.registry);
    ReleaseAuditModel audit(m_d.registry);
    QAbstractItemModelTester t1(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester t2(&audit, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setProxyId(m_d.proxyId);
    audit.setProxyId(m_d.proxyId);
    QSignalSpy auditLoaded(&audit, &ReleaseAuditModel::loaded);
    QVERIFY(auditLoaded.wait(10'000));
    const int before = audit.rowCount();
    QSignalSpy done(&model, &ReleaseListModel::changeDone);
    ReleaseRequest r;
    r.kind = Kind::Sender;
    r.sender = QStringLiteral("audited@revoke.example");
    r.seconds = 900;
    r.reason = QStringLiteral("to be revoked");
    model.create(r);
    QVERIFY(done.wait(10'000));
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 1, 10'000);
    model.revoke(0);
    QVERIFY(done.wait(10'000));
    QCOMPARE(model.rowCount(), 0);
    QVERIFY2(done.last().at(0).toString().contains(u"revoked"),
             qPrintable(done.last().at(0).toString()));
    QTRY_COMPARE_WITH_TIMEOUT(audit.rowCount(), before + 2, 10'000);
    // Newest first: the revoke on top of the creation, with who, why and what.
    QCOMPARE(audit.rows().at(0).what, QStringLiteral("release.revoke"));
    QCOMPARE(audit.rows().at(1).what, QStringLiteral("release.create"));
    QCOMPARE(audit.index(0, ReleaseAuditModel::Action).data().toString(),
             ReleaseAuditModel::actionLabel(QStringLiteral("release.revoke")));
    QCOMPARE(audit.rows().at(1).reason, QStringLiteral("to be revoked"));
    QCOMPARE(audit.rows().at(1).kind, QStringLiteral("sender"));
    QVERIFY2(audit.rows().at(1).subject.contains(u"audited@revoke.example"),
             qPrintable(audit.rows().at(1).subject));
    QVERIFY(audit.rows().at(0).who.startsWith(u"admin@"));
    QVERIFY(!audit.index(1, ReleaseAuditModel::Until).data().toString().isEmpty());
}

void ReleaseModelsTest::anIncompleteRequestIsRefusedWithoutACall()
{
    ReleaseListModel model(m_d.registry);
    model.setProxyId(m_d.proxyId);
    QSignalSpy failed(&model, &ReleaseListModel::changeFailed);
    ReleaseRequest r;
    r.kind = Kind::Sender;
    r.sender = QStringLiteral("a@b.example");
    model.create(r);            // no reason
    QCOMPARE(failed.size(), 1); // at once: nothing was sent
    QVERIFY(failed.first().at(0).toString().contains(u"reason"));
    const ProxyConnection::Reply list = m_d.call(QStringLiteral("release.list"));
    QVERIFY(list.ok);
    QCOMPARE(list.result.toObject().value(u"releases").toArray().size(), 0);
}

void ReleaseModelsTest::anUnknownProxyIsAnErrorNotACrash()
{
    ReleaseListModel model(m_d.registry);
    ReleaseAuditModel audit(m_d.registry);
    QSignalSpy failed(&model, &ReleaseListModel::loadFailed);
    QSignalSpy auditFailed(&audit, &ReleaseAuditModel::loadFailed);
    model.setProxyId(QStringLiteral("no-such-proxy"));
    audit.setProxyId(QStringLiteral("no-such-proxy"));
    QVERIFY(failed.wait(5000));
    QTRY_COMPARE_WITH_TIMEOUT(auditFailed.size(), 1, 5000);
    QVERIFY(failed.first().at(0).toString().contains(u"Proxies page"));
    QCOMPARE(model.rowCount(), 0);
}

void ReleaseModelsTest::liveAttemptsMarkWhatAShadowPolicyWouldHaveDone()
{
    const QJsonObject policy{
        {QStringLiteral("narrative"), QStringLiteral("Trial: let the newsletter through")},
        {QStringLiteral("action"), QStringLiteral("bypass")},
        {QStringLiteral("mode"), QStringLiteral("shadow")},
        {QStringLiteral("from"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("domain")},
                     {QStringLiteral("value"), QStringLiteral("shadow-news.example")}}},
        {QStringLiteral("to"), QJsonObject{{QStringLiteral("type"), QStringLiteral("everyone")}}}};
    const ProxyConnection::Reply made =
        m_d.call(QStringLiteral("policy.create"), {{QStringLiteral("policy"), policy}});
    QVERIFY2(made.ok, qPrintable(made.error.message));
    LiveAttemptsModel model(m_d.registry);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QTest::qWait(200); // the model subscribes to the proxy's events: from now on
    // The shadow policy does not act: still deferred, but marked.
    const QByteArray a = m_d.rcpt("192.0.2.61", "issue@shadow-news.example", "x@corp.example");
    QVERIFY2(a.startsWith("DEFER_IF_PERMIT"), a.constData());
    const QByteArray b = m_d.rcpt("192.0.2.61", "other@plain.example", "x@corp.example");
    QVERIFY2(b.startsWith("DEFER_IF_PERMIT"), b.constData());
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 2, 10'000);
    for (int row = 0; row < 2; ++row) {
        const bool shadowed = model.row(row).sender == u"issue@shadow-news.example";
        const QString outcome = model.index(row, LiveAttemptsModel::Outcome).data().toString();
        QCOMPARE(model.index(row, LiveAttemptsModel::Outcome)
                     .data(LiveAttemptsModel::ShadowRole)
                     .toString(),
                 shadowed ? QStringLiteral("bypass") : QString());
        QCOMPARE(outcome.contains(u"would have bypassed"), shadowed);
        QCOMPARE(model.rowJson(row).value(u"shadow").toString(),
                 shadowed ? QStringLiteral("bypass") : QString());
    }
    QVERIFY(m_d.call(QStringLiteral("policy.delete"),
                     {{QStringLiteral("id"), made.result.toObject().value(u"id")},
                      {QStringLiteral("version"), made.result.toObject().value(u"version")}})
                .ok);
}

QTEST_GUILESS_MAIN(ReleaseModelsTest)
#include "tst_release_models.moc"
