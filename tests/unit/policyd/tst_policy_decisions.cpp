// SPDX-License-Identifier: GPL-3.0-or-later
// The policy server's answers once policies decide (docs/policies.md, docs/greygated.md):
// Blocked Senders rejected, Permitted Senders and bypass policies let through without a
// triplet, the default greylisted, Auto Allow learned from outbound requests and honoured
// for the reply until it expires, all of it committed with the decisions' batch to a real
// SqliteStore and read back by a fresh PolicyState.

#include "greylist/GreylistEngine.h"
#include "policy/PolicyJson.h"
#include "policyd/GreylistPolicyHandler.h"
#include "store/SqliteStore.h"

#include <QTemporaryDir>
#include <QTest>

using namespace greygate;

namespace {

constexpr Seconds kDay = 86400;

const QByteArray kDocument = QByteArrayLiteral(R"({
  "policies": [
    {"id": 1, "narrative": "partners", "action": "bypass",
     "from": {"type": "domain", "value": "partner.test"}, "to": {"type": "everyone"}},
    {"id": 2, "narrative": "the boss", "action": "bypass",
     "from": {"type": "address", "value": "boss@big.test"}, "to": {"type": "everyone"}},
    {"id": 3, "narrative": "the backup MX", "action": "bypass",
     "from": {"type": "everyone"}, "to": {"type": "everyone"},
     "sourceRanges": ["203.0.113.0/24", "2001:db8:feed::/48"]},
    {"id": 4, "narrative": "VIP group", "action": "bypass",
     "from": {"type": "group", "value": "VIP"}, "to": {"type": "internal"}}
  ],
  "groups": [
    {"name": "Blocked Senders", "members": ["spam@bad.test", "@worse.test", "192.0.2.66"]},
    {"name": "Permitted Senders", "members": ["friend@pal.test", "@trusted.test"]},
    {"name": "VIP", "members": ["*.vip.test"]}
  ],
  "internal": {"domains": ["example.com"], "networks": ["10.0.0.0/8"]}
})");

PolicyRequest rcpt(const QByteArray &client, const QByteArray &sender, const QByteArray &recipient,
                   const QByteArray &saslUsername = {})
{
    PolicyRequest r;
    r.request = "smtpd_access_policy";
    r.protocolState = "RCPT";
    r.clientAddress = client;
    r.sender = sender;
    r.recipient = recipient;
    r.saslUsername = saslUsername;
    r.present = PolicyRequest::Request | PolicyRequest::ProtocolState |
                PolicyRequest::ClientAddress | PolicyRequest::Sender | PolicyRequest::Recipient |
                PolicyRequest::SaslUsername;
    return r;
}

// A handler over a real store in a temp dir, with the document above imported.
struct Rig
{
    explicit Rig(const QString &dbdir, const QByteArray &document = kDocument)
    {
        SqliteStoreOptions options;
        options.dbdir = dbdir;
        store = std::make_unique<SqliteStore>(options);
        QString error;
        opened = store->open(&error) && engine.load(*store, &error);
        GreylistPolicyOptions handlerOptions;
        handlerOptions.rejectText = "Go away";
        handlerOptions.autoAllowLifetime = 10 * kDay;
        handler = std::make_unique<GreylistPolicyHandler>(engine, *store, clock, handlerOptions);
        opened = opened && handler->policies().load(*store, &error);
        if (opened && !document.isEmpty()) {
            const std::optional<PolicyDocument> doc = PolicyJson::parse(document, &error);
            opened =
                doc && handler
                           ->changePolicies([&](PolicySet &set) {
                               return set.importDocument(*doc, QStringLiteral("test"), clock.now());
                           })
                           .ok();
        }
        if (!opened)
            qWarning("rig: %s", qPrintable(error));
    }
    ~Rig()
    {
        handler.reset();
        store->close();
    }
    QByteArray ask(const PolicyRequest &r)
    {
        const QByteArray answer = handler->decide(r);
        return handler->commit() ? answer : QByteArray("COMMIT FAILED");
    }

    ManualClock clock;
    GreylistEngine engine{GreylistConfig{}, clock};
    std::unique_ptr<SqliteStore> store;
    std::unique_ptr<GreylistPolicyHandler> handler;
    bool opened = false;
};

QList<DocumentRecord> storedDocuments(Store &store)
{
    QString error;
    QList<DocumentRecord> out;
    if (!store.loadDocuments([&](DocumentRecord &&r) { out.append(std::move(r)); }, &error))
        qWarning("stored documents: %s", qPrintable(error));
    std::sort(out.begin(), out.end(), [](const DocumentRecord &a, const DocumentRecord &b) {
        return std::pair(a.kind, a.id) < std::pair(b.kind, b.id);
    });
    return out;
}

QList<DocumentRecord> storedDocuments(const QString &dbdir)
{
    SqliteStoreOptions options;
    options.dbdir = dbdir;
    SqliteStore store(options);
    QString error;
    if (!store.open(&error))
        qWarning("stored documents: %s", qPrintable(error));
    const QList<DocumentRecord> out = storedDocuments(store);
    store.close();
    return out;
}

} // namespace

class PolicyDecisionsTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void answersFollowThePolicies_data();
    void answersFollowThePolicies();
    void aBypassWritesNoTriplet();
    void autoAllowLearnedFromOutboundIsHonouredForTheReply_data();
    void autoAllowLearnedFromOutboundIsHonouredForTheReply();
    void anInternalSenderFromOutsideTeachesNothing();
    void autoAllowExpiresAndItsRemovalIsStored();
    void aBusyPairIsWrittenAtMostOncePerDay();
    void policiesGroupsAndLearnedEntriesSurviveAReopen();
    void aRenamedGroupStillResolvesAfterAReopen();
    void aStaleUpdateIsRefusedAndNothingIsStored();
    void theImportIsAudited();
};

void PolicyDecisionsTest::answersFollowThePolicies_data()
{
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QByteArray>("sender");
    QTest::addColumn<QByteArray>("recipient");
    QTest::addColumn<QByteArray>("answer"); // a prefix of it

    const QByteArray outside = "198.51.100.9";
    const QByteArray rcptTo = "user@example.com";
    const QByteArray reject = "REJECT 5.7.1 Go away";
    const QByteArray greylist = "DEFER_IF_PERMIT Greylisted";
    QTest::newRow("blocked address") << outside << QByteArray("spam@bad.test") << rcptTo << reject;
    QTest::newRow("blocked address, +tag form")
        << outside << QByteArray("spam+news@bad.test") << rcptTo << reject;
    QTest::newRow("blocked address, SRS form")
        << outside << QByteArray("SRS0=HHH=TT=bad.test=spam@forwarder.test") << rcptTo << reject;
    QTest::newRow("blocked domain, any case")
        << outside << QByteArray("<Anyone@WORSE.test>") << rcptTo << reject;
    QTest::newRow("blocked client address")
        << QByteArray("192.0.2.66") << QByteArray("someone@fine.test") << rcptTo << reject;
    QTest::newRow("permitted address")
        << outside << QByteArray("friend@pal.test") << rcptTo << QByteArray("DUNNO");
    QTest::newRow("permitted domain")
        << outside << QByteArray("x@trusted.test") << rcptTo << QByteArray("DUNNO");
    QTest::newRow("bypass policy by domain")
        << outside << QByteArray("a@partner.test") << rcptTo << QByteArray("DUNNO");
    QTest::newRow("bypass policy by domain is exact")
        << outside << QByteArray("a@mx.partner.test") << rcptTo << greylist;
    QTest::newRow("bypass policy by address")
        << outside << QByteArray("boss@big.test") << rcptTo << QByteArray("DUNNO");
    QTest::newRow("bypass policy by address, VERP form")
        << outside << QByteArray("boss+1234@big.test") << rcptTo << QByteArray("DUNNO");
    QTest::newRow("other address of that domain")
        << outside << QByteArray("clerk@big.test") << rcptTo << greylist;
    QTest::newRow("bypass policy by source range v4")
        << QByteArray("203.0.113.200") << QByteArray("x@any.test") << rcptTo << QByteArray("DUNNO");
    QTest::newRow("bypass policy by source range v6")
        << QByteArray("2001:db8:feed::25") << QByteArray("x@any.test") << rcptTo
        << QByteArray("DUNNO");
    QTest::newRow("just outside the source range")
        << QByteArray("203.0.114.1") << QByteArray("x@any.test") << rcptTo << greylist;
    QTest::newRow("group policy to internal")
        << outside << QByteArray("x@mail.vip.test") << rcptTo << QByteArray("DUNNO");
    QTest::newRow("group policy, external recipient")
        << outside << QByteArray("x@mail.vip.test") << QByteArray("u@elsewhere.test") << greylist;
    QTest::newRow("default greylists") << outside << QByteArray("x@any.test") << rcptTo << greylist;
    QTest::newRow("null sender greylists") << outside << QByteArray("") << rcptTo << greylist;
}

void PolicyDecisionsTest::answersFollowThePolicies()
{
    QFETCH(QByteArray, client);
    QFETCH(QByteArray, sender);
    QFETCH(QByteArray, recipient);
    QFETCH(QByteArray, answer);
    QTemporaryDir dir;
    Rig rig(dir.path());
    QVERIFY(rig.opened);
    const QByteArray got = rig.ask(rcpt(client, sender, recipient));
    QVERIFY2(got.startsWith(answer), got.constData());
}

void PolicyDecisionsTest::aBypassWritesNoTriplet()
{
    QTemporaryDir dir;
    Rig rig(dir.path());
    QVERIFY(rig.opened);
    QCOMPARE(rig.ask(rcpt("198.51.100.9", "friend@pal.test", "u@example.com")), "DUNNO");
    QCOMPARE(rig.ask(rcpt("198.51.100.9", "spam@bad.test", "u@example.com")),
             "REJECT 5.7.1 Go away");
    QCOMPARE(rig.engine.tripletCount(), 0);
    QCOMPARE(rig.handler->stats().bypassed, 1u);
    QCOMPARE(rig.handler->stats().rejected, 1u);
    // ... while a greylisted one is recorded.
    QVERIFY(rig.ask(rcpt("198.51.100.9", "x@any.test", "u@example.com")).startsWith("DEFER"));
    QCOMPARE(rig.engine.tripletCount(), 1);
}

void PolicyDecisionsTest::autoAllowLearnedFromOutboundIsHonouredForTheReply_data()
{
    QTest::addColumn<QByteArray>("client");
    QTest::addColumn<QByteArray>("sasl");
    QTest::newRow("authenticated submission from anywhere")
        << QByteArray("198.51.100.50") << QByteArray("alice");
    QTest::newRow("internal sender from an internal network")
        << QByteArray("10.1.2.3") << QByteArray();
}

void PolicyDecisionsTest::autoAllowLearnedFromOutboundIsHonouredForTheReply()
{
    QFETCH(QByteArray, client);
    QFETCH(QByteArray, sasl);
    QTemporaryDir dir;
    Rig rig(dir.path());
    QVERIFY(rig.opened);
    const PolicyRequest reply = rcpt("198.51.100.9", "pen@far.test", "alice@example.com");

    // Before: the correspondent is greylisted like anyone.
    QVERIFY(rig.ask(reply).startsWith("DEFER_IF_PERMIT"));
    // Outbound mail is not greylisted, and it teaches the pair.
    QCOMPARE(rig.ask(rcpt(client, "alice@example.com", "Pen@Far.test", sasl)), "DUNNO");
    QCOMPARE(rig.handler->stats().learned, 1u);
    QCOMPARE(rig.handler->policies().set().autoAllow().size(), 1);
    // The reply from the external address to that internal user bypasses greylisting ...
    QCOMPARE(rig.ask(reply), "DUNNO");
    // ... in its VERP form too, but not to another internal user.
    QCOMPARE(rig.ask(rcpt("198.51.100.9", "pen+bounce@far.test", "alice@example.com")), "DUNNO");
    QVERIFY(rig.ask(rcpt("198.51.100.9", "pen@far.test", "bob@example.com")).startsWith("DEFER"));

    // The entry was committed with that decision's batch.
    QCOMPARE(rig.handler->pendingChanges(), 0);
    const QList<DocumentRecord> stored = storedDocuments(*rig.store);
    const auto allow = std::find_if(stored.cbegin(), stored.cend(), [](const DocumentRecord &r) {
        return r.kind == DocumentKind::AutoAllow;
    });
    QVERIFY(allow != stored.cend());
    QCOMPARE(allow->id, QByteArray("autoAllow:pen@far.test alice@example.com"));
}

void PolicyDecisionsTest::anInternalSenderFromOutsideTeachesNothing()
{
    QTemporaryDir dir;
    Rig rig(dir.path());
    QVERIFY(rig.opened);
    // Anyone can forge an internal sender: from outside the internal networks and without
    // authentication it is inbound mail, greylisted, and learns nothing.
    QVERIFY(rig.ask(rcpt("198.51.100.50", "alice@example.com", "pen@far.test"))
                .startsWith("DEFER_IF_PERMIT"));
    QCOMPARE(rig.handler->policies().set().autoAllow().size(), 0);
    QVERIFY(rig.ask(rcpt("198.51.100.9", "pen@far.test", "alice@example.com"))
                .startsWith("DEFER_IF_PERMIT"));
}

void PolicyDecisionsTest::autoAllowExpiresAndItsRemovalIsStored()
{
    QTemporaryDir dir;
    Rig rig(dir.path());
    QVERIFY(rig.opened);
    QCOMPARE(rig.ask(rcpt("10.0.0.5", "alice@example.com", "pen@far.test")), "DUNNO");
    const PolicyRequest reply = rcpt("198.51.100.9", "pen@far.test", "alice@example.com");

    rig.clock.advanceSeconds(10 * kDay - 1); // the last second of its lifetime
    QCOMPARE(rig.ask(reply), "DUNNO");
    rig.clock.advanceSeconds(1); // expiresAt is exclusive
    QVERIFY(rig.ask(reply).startsWith("DEFER_IF_PERMIT"));

    QCOMPARE(rig.handler->expireAutoAllowNow(), 1);
    QCOMPARE(rig.handler->policies().set().autoAllow().size(), 0);
    QCOMPARE(rig.handler->pendingChanges(), 0);
    for (const DocumentRecord &r : storedDocuments(*rig.store))
        QVERIFY2(r.kind != DocumentKind::AutoAllow, r.id.constData());
}

void PolicyDecisionsTest::aBusyPairIsWrittenAtMostOncePerDay()
{
    QTemporaryDir dir;
    Rig rig(dir.path());
    QVERIFY(rig.opened);
    const PolicyRequest outbound = rcpt("10.0.0.5", "alice@example.com", "pen@far.test");
    QCOMPARE(rig.ask(outbound), "DUNNO");
    QCOMPARE(rig.handler->stats().learned, 1u);
    rig.clock.advanceHours(23);
    QCOMPARE(rig.ask(outbound), "DUNNO");
    QCOMPARE(rig.handler->stats().learned, 1u); // nothing written: the entry was fresh
    QCOMPARE(rig.handler->stats().outbound, 2u);
    rig.clock.advanceHours(1);
    QCOMPARE(rig.ask(outbound), "DUNNO");
    QCOMPARE(rig.handler->stats().learned, 2u);
    // The refreshed expiry is what the store holds.
    const QList<AutoAllowEntry> entries = rig.handler->policies().set().autoAllow().entries();
    QCOMPARE(entries.size(), 1);
    QCOMPARE(entries.first().expiresAt, rig.clock.now() + 10 * kDay);
    rig.handler.reset();
    rig.store->close();
    QString error;
    QVERIFY2(rig.store->open(&error), qPrintable(error));
    PolicyState restored;
    QVERIFY2(restored.load(*rig.store, &error), qPrintable(error));
    QCOMPARE(restored.set().autoAllow().entries(), entries);
}

void PolicyDecisionsTest::policiesGroupsAndLearnedEntriesSurviveAReopen()
{
    QTemporaryDir dir;
    PolicyDocument before;
    quint64 revision = 0;
    {
        Rig rig(dir.path());
        QVERIFY(rig.opened);
        QCOMPARE(rig.ask(rcpt("10.0.0.5", "alice@example.com", "pen@far.test")), "DUNNO");
        before = rig.handler->policies().set().document();
        revision = rig.handler->policies().set().revision();
    }
    Rig again(dir.path(), QByteArray()); // nothing imported: only what the store holds
    QVERIFY(again.opened);
    QCOMPARE(again.handler->policies().set().document(), before);
    QCOMPARE(again.handler->policies().set().revision(), revision);
    QCOMPARE(again.handler->policies().currentIndex().policyCount(), 4);
    QCOMPARE(again.ask(rcpt("198.51.100.9", "spam@bad.test", "u@example.com")),
             "REJECT 5.7.1 Go away");
    QCOMPARE(again.ask(rcpt("198.51.100.9", "pen@far.test", "alice@example.com")), "DUNNO");
    QCOMPARE(again.ask(rcpt("198.51.100.9", "x@mail.vip.test", "u@example.com")), "DUNNO");
}

void PolicyDecisionsTest::aRenamedGroupStillResolvesAfterAReopen()
{
    QTemporaryDir dir;
    {
        Rig rig(dir.path());
        QVERIFY(rig.opened);
        const ChangeOutcome renamed = rig.handler->changePolicies([&](PolicySet &set) {
            SenderGroup vip = *set.group(3);
            vip.name = QStringLiteral("Very Important");
            return set.updateGroup(vip, QStringLiteral("ann"), rig.clock.now());
        });
        QVERIFY2(renamed.ok(), qPrintable(renamed.error));
    }
    Rig again(dir.path(), QByteArray());
    QVERIFY(again.opened);
    const Policy *p = again.handler->policies().set().policy(4);
    QVERIFY(p);
    QCOMPARE(again.handler->policies().set().group(p->from.groupId)->name, u"Very Important");
    QCOMPARE(again.ask(rcpt("198.51.100.9", "x@mail.vip.test", "u@example.com")), "DUNNO");
}

void PolicyDecisionsTest::aStaleUpdateIsRefusedAndNothingIsStored()
{
    QTemporaryDir dir;
    QList<DocumentRecord> before;
    {
        Rig rig(dir.path());
        QVERIFY(rig.opened);
        Policy edited = *rig.handler->policies().set().policy(1);
        edited.narrative = QStringLiteral("first edit");
        QVERIFY(rig.handler
                    ->changePolicies([&](PolicySet &set) {
                        return set.updatePolicy(edited, QStringLiteral("ann"), rig.clock.now());
                    })
                    .ok());
        before = storedDocuments(*rig.store);
        QVERIFY(!before.isEmpty());
        QString error;
        const qsizetype audited = rig.store->audit(AuditQuery{0, 0, {}, 0, 1000}, &error).size();

        // Bob edits the same policy from the version he loaded before Ann's change.
        edited.narrative = QStringLiteral("second edit, stale");
        const ChangeOutcome stale = rig.handler->changePolicies([&](PolicySet &set) {
            return set.updatePolicy(edited, QStringLiteral("bob"), rig.clock.now());
        });
        QCOMPARE(stale.code, ChangeError::StaleVersion);
        QVERIFY2(stale.error.contains(u"stale version: policy 1 is at version 2"),
                 qPrintable(stale.error));
        QCOMPARE(rig.handler->pendingChanges(), 0);
        QCOMPARE(rig.handler->policies().set().policy(1)->narrative, u"first edit");
        QCOMPARE(rig.store->audit(AuditQuery{0, 0, {}, 0, 1000}, &error).size(), audited);
    }
    QCOMPARE(storedDocuments(dir.path()), before);
    Rig again(dir.path(), QByteArray());
    QVERIFY(again.opened);
    QCOMPARE(again.handler->policies().set().policy(1)->narrative, u"first edit");
    QCOMPARE(again.handler->policies().set().policy(1)->version, 2u);
}

void PolicyDecisionsTest::theImportIsAudited()
{
    QTemporaryDir dir;
    Rig rig(dir.path());
    QVERIFY(rig.opened);
    QString error;
    const QList<AuditRecord> audit = rig.store->audit(AuditQuery{0, 0, {}, 0, 1000}, &error);
    QVERIFY2(error.isEmpty(), qPrintable(error));
    // 3 groups, 4 policies and the internal configuration.
    QCOMPARE(audit.size(), 8);
    for (const AuditRecord &a : audit) {
        QCOMPARE(a.who, QByteArray("test"));
        QVERIFY2(a.what.endsWith(".import"), a.what.constData());
        QVERIFY(!a.afterJson.isEmpty());
    }
    // Importing the same document again changes nothing and audits nothing.
    const std::optional<PolicyDocument> doc = PolicyJson::parse(kDocument, &error);
    QVERIFY(doc);
    const ChangeOutcome again = rig.handler->changePolicies([&](PolicySet &set) {
        return set.importDocument(*doc, QStringLiteral("test"), rig.clock.now());
    });
    QVERIFY(again.ok());
    QCOMPARE(again.changes.size(), 0);
    QCOMPARE(rig.store->audit(AuditQuery{0, 0, {}, 0, 1000}, &error).size(), 8);
}

QTEST_GUILESS_MAIN(PolicyDecisionsTest)
#include "tst_policy_decisions.moc"
