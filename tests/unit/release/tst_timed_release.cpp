// SPDX-License-Identifier: GPL-3.0-or-later
#include "policy/PolicySet.h"
#include "policy/TimedRelease.h"

#include <QTest>

using namespace greygate;

namespace {

PolicyOutcome outcomeAt(const PolicySet &set, Seconds now, QByteArrayView client,
                        QByteArrayView sender, QByteArrayView recipient)
{
    PolicyQuery q;
    q.clientAddress = client;
    q.sender = sender;
    q.recipient = recipient;
    q.now = now;
    return set.buildIndex()->evaluate(q).outcome;
}

TimedRelease release(TimedRelease::Kind kind, Seconds until)
{
    TimedRelease r;
    r.kind = kind;
    r.client = QStringLiteral("192.0.2.0/24");
    r.sender = QStringLiteral("Invoices@Partner.test");
    r.recipient = QStringLiteral("alice@corp.test");
    r.domain = QStringLiteral("partner.test");
    r.reason = QStringLiteral("urgent invoice, ticket 4711");
    r.until = until;
    return r;
}

} // namespace

class TimedReleaseTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void releaseBypassesUntilItsEndAndNotAfter_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<QByteArray>("client");
        QTest::addColumn<QByteArray>("sender");
        QTest::addColumn<QByteArray>("recipient");
        QTest::addColumn<bool>("released");
        const auto k = [](TimedRelease::Kind kind) {
            return int(kind);
        };
        QTest::newRow("triplet") << k(TimedRelease::Kind::Triplet) << QByteArray("192.0.2.9")
                                 << QByteArray("invoices@partner.test")
                                 << QByteArray("alice@corp.test") << true;
        QTest::newRow("triplet, another network")
            << k(TimedRelease::Kind::Triplet) << QByteArray("198.51.100.9")
            << QByteArray("invoices@partner.test") << QByteArray("alice@corp.test") << false;
        QTest::newRow("triplet, another recipient")
            << k(TimedRelease::Kind::Triplet) << QByteArray("192.0.2.9")
            << QByteArray("invoices@partner.test") << QByteArray("bob@corp.test") << false;
        QTest::newRow("sender, any recipient")
            << k(TimedRelease::Kind::Sender) << QByteArray("203.0.113.1")
            << QByteArray("invoices@partner.test") << QByteArray("bob@corp.test") << true;
        QTest::newRow("sender, another sender")
            << k(TimedRelease::Kind::Sender) << QByteArray("203.0.113.1")
            << QByteArray("sales@partner.test") << QByteArray("bob@corp.test") << false;
        QTest::newRow("domain") << k(TimedRelease::Kind::Domain) << QByteArray("203.0.113.1")
                                << QByteArray("sales@partner.test") << QByteArray("bob@corp.test")
                                << true;
        QTest::newRow("expect, to the recipient named")
            << k(TimedRelease::Kind::Expect) << QByteArray("203.0.113.1")
            << QByteArray("invoices@partner.test") << QByteArray("alice@corp.test") << true;
        QTest::newRow("expect, to someone else")
            << k(TimedRelease::Kind::Expect) << QByteArray("203.0.113.1")
            << QByteArray("invoices@partner.test") << QByteArray("bob@corp.test") << false;
    }
    void releaseBypassesUntilItsEndAndNotAfter()
    {
        QFETCH(int, kind);
        QFETCH(QByteArray, client);
        QFETCH(QByteArray, sender);
        QFETCH(QByteArray, recipient);
        QFETCH(bool, released);
        ManualClock clock;
        const Seconds start = clock.now();
        PolicySet set;
        TimedRelease r = release(TimedRelease::Kind(kind), start + 2 * 3600);
        if (r.kind == TimedRelease::Kind::Expect)
            r.domain.clear();
        const ChangeOutcome made = TimedRelease::create(set, r, QStringLiteral("ann"), start);
        QVERIFY2(made.ok(), qPrintable(made.error));
        const PolicyOutcome during = released ? PolicyOutcome::Bypass : PolicyOutcome::Greylist;
        QCOMPARE(outcomeAt(set, start, client, sender, recipient), during);
        clock.advanceSeconds(2 * 3600 - 1); // the last second of the release
        QCOMPARE(outcomeAt(set, clock.now(), client, sender, recipient), during);
        clock.advanceSeconds(1); // its end: greylisted again, before any sweep ran
        QCOMPARE(outcomeAt(set, clock.now(), client, sender, recipient), PolicyOutcome::Greylist);
    }

    void everyActionIsAuditedWithWhoWhyAndUntil()
    {
        ManualClock clock;
        PolicySet set;
        const Seconds until = clock.now() + 3600;
        const ChangeOutcome made =
            TimedRelease::create(set, release(TimedRelease::Kind::Sender, until),
                                 QStringLiteral("admin@::1"), clock.now());
        QVERIFY(made.ok());
        QCOMPARE(made.changes.size(), 1);
        const AuditEntry &a = *made.changes[0].audit;
        QCOMPARE(a.what, QStringLiteral("release.create"));
        QCOMPARE(a.who, QStringLiteral("admin@::1"));
        QCOMPARE(a.time, clock.now());
        QCOMPARE(a.after.value(QStringLiteral("narrative")).toString(),
                 QStringLiteral("release sender: urgent invoice, ticket 4711"));
        QVERIFY(a.after.contains(QStringLiteral("end")));

        const QList<TimedRelease> active = TimedRelease::list(set, clock.now(), true);
        QCOMPARE(active.size(), 1);
        QCOMPARE(active[0].kind, TimedRelease::Kind::Sender);
        QCOMPARE(active[0].sender, QStringLiteral("invoices@partner.test"));
        QCOMPARE(active[0].reason, QStringLiteral("urgent invoice, ticket 4711"));
        QCOMPARE(active[0].until, until);
        QCOMPARE(active[0].who, QStringLiteral("admin@::1"));

        const ChangeOutcome revoked =
            TimedRelease::revoke(set, made.id, QStringLiteral("bob"), clock.now() + 5);
        QVERIFY(revoked.ok());
        QCOMPARE(revoked.changes[0].audit->what, QStringLiteral("release.revoke"));
        QCOMPARE(revoked.changes[0].audit->who, QStringLiteral("bob"));
        QVERIFY(TimedRelease::list(set, clock.now(), false).isEmpty());
    }

    void expiryRemovesOnlyReleasesWhoseEndHasCome()
    {
        ManualClock clock;
        PolicySet set;
        const Seconds t0 = clock.now();
        QVERIFY(TimedRelease::create(set, release(TimedRelease::Kind::Sender, t0 + 3600),
                                     QStringLiteral("ann"), t0)
                    .ok());
        QVERIFY(TimedRelease::create(set, release(TimedRelease::Kind::Domain, t0 + 7200),
                                     QStringLiteral("ann"), t0)
                    .ok());
        Policy plain;
        plain.narrative = QStringLiteral("release sender: looks like one but never ends");
        plain.action = PolicyAction::Bypass;
        plain.from = Specifier{SpecifierType::Domain, QStringLiteral("other.test"), false, 0};
        QVERIFY(set.createPolicy(plain, QStringLiteral("ann"), t0).ok());

        clock.advanceSeconds(3599);
        QVERIFY(TimedRelease::expire(set, clock.now()).changes.isEmpty());
        clock.advanceSeconds(1);
        const ChangeOutcome first = TimedRelease::expire(set, clock.now());
        QCOMPARE(first.changes.size(), 1);
        QCOMPARE(first.changes[0].audit->what, QStringLiteral("release.expire"));
        QCOMPARE(first.changes[0].audit->who, TimedRelease::kSystem);
        QVERIFY(first.changes[0].removed);
        QCOMPARE(TimedRelease::list(set, clock.now(), false).size(), 1);
        clock.advanceHours(1);
        QCOMPARE(TimedRelease::expire(set, clock.now()).changes.size(), 1);
        QCOMPARE(set.document().policies.size(), 1); // the plain policy stays
    }

    void malformedReleasesAreRefusedNamingTheField_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("message");
        QTest::newRow("no reason") << "reason"
                                   << "  "
                                   << "params.reason";
        QTest::newRow("reason with a newline") << "reason"
                                               << "a\nb"
                                               << "params.reason";
        QTest::newRow("bad sender") << "sender"
                                    << "not an address"
                                    << "params.sender";
        QTest::newRow("bad client") << "client"
                                    << "10.0.0.1/8"
                                    << "params.client";
        QTest::newRow("in the past") << "until"
                                     << "-1"
                                     << "params.until";
        QTest::newRow("too long") << "until"
                                  << "8000000"
                                  << "params.until";
    }
    void malformedReleasesAreRefusedNamingTheField()
    {
        QFETCH(QString, field);
        QFETCH(QString, value);
        QFETCH(QString, message);
        const Seconds now = 1'800'000'000;
        TimedRelease r = release(TimedRelease::Kind::Triplet, now + 60);
        if (field == u"reason")
            r.reason = value;
        else if (field == u"sender")
            r.sender = value;
        else if (field == u"client")
            r.client = value;
        else
            r.until = now + value.toLongLong();
        PolicySet set;
        const ChangeOutcome out = TimedRelease::create(set, r, QStringLiteral("ann"), now);
        QCOMPARE(out.code, ChangeError::Invalid);
        QVERIFY2(out.error.startsWith(message), qPrintable(out.error));
        QVERIFY(set.document().policies.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TimedReleaseTest)
#include "tst_timed_release.moc"
