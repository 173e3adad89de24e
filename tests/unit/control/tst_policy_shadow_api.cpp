// SPDX-License-Identifier: GPL-3.0-or-later
// Shadow policies, policy.replay and the policy versions through the control API of a whole
// proxy in the test process (real SQLite store, engine, handler, recorder, event log): a
// shadow policy records without acting; a replay's diff is what enforcing the candidate
// then does on the same traffic; a rollback restores the exact previous table.

#include "ControlTestProxy.h"

#include <QJsonArray>

using namespace greygate;
using namespace greygate::test;

namespace {

QJsonObject policyJson(const QString &narrative, const QString &action, const QString &domain,
                       const QString &mode = QString())
{
    QJsonObject o{
        {QStringLiteral("narrative"), narrative},
        {QStringLiteral("action"), action},
        {QStringLiteral("from"), QJsonObject{{QStringLiteral("type"), QStringLiteral("domain")},
                                             {QStringLiteral("value"), domain}}},
        {QStringLiteral("to"), QJsonObject{{QStringLiteral("type"), QStringLiteral("everyone")}}}};
    if (!mode.isEmpty())
        o.insert(QStringLiteral("mode"), mode);
    return o;
}

QString verdictOf(const QByteArray &answer)
{
    if (answer.startsWith("DEFER_IF_PERMIT"))
        return QStringLiteral("greylist");
    if (answer.startsWith("REJECT"))
        return QStringLiteral("block");
    if (answer.startsWith("DUNNO") || answer.startsWith("PREPEND"))
        return QStringLiteral("bypass");
    return QString::fromUtf8(answer);
}

// Policies as the table holds them, without the bookkeeping a rollback renews.
QJsonArray contentOf(QJsonArray policies)
{
    for (qsizetype i = 0; i < policies.size(); ++i) {
        QJsonObject o = policies[i].toObject();
        o.remove(QStringLiteral("version"));
        o.remove(QStringLiteral("updatedBy"));
        policies[i] = o;
    }
    return policies;
}

} // namespace

class TstPolicyShadowApi : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aShadowPolicyRecordsWithoutActing();
    void replayDiffMatchesWhatEnforcingTheCandidateThenDoes();
    void replayRefusesABadCandidateAndNamesTheField();
    void rollbackRestoresTheExactPreviousTable();
};

void TstPolicyShadowApi::aShadowPolicyRecordsWithoutActing()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    const QJsonObject created = client.result(
        QStringLiteral("policy.create"),
        {{QStringLiteral("policy"),
          policyJson(QStringLiteral("trial: let partners through"), QStringLiteral("bypass"),
                     QStringLiteral("partner.test"), QStringLiteral("shadow"))}});
    const qint64 id = created.value(QStringLiteral("id")).toInteger();
    QVERIFY(id > 0);

    // Not acted upon: the partner is greylisted as before...
    QVERIFY(proxy.decide("192.0.2.1", "a@partner.test", "alice@example.com")
                .startsWith("DEFER_IF_PERMIT"));
    QVERIFY(proxy.decide("192.0.2.2", "b@other.test", "alice@example.com")
                .startsWith("DEFER_IF_PERMIT"));
    // ...but recorded: the attempt carries the would-be effect and the policy.
    std::vector<const Event *> seen;
    QVERIFY(proxy.events.since(0, 100, &seen));
    QList<const Event *> attempts;
    for (const Event *e : seen) {
        if (e->type == EventType::Attempt)
            attempts.append(e);
    }
    QCOMPARE(attempts.size(), 2);
    QCOMPARE(attempts[0]->outcome, AttemptOutcome::Deferred);
    QCOMPARE(attempts[0]->shadow, ShadowEffect::Bypass);
    QCOMPARE(attempts[0]->shadowPolicy, id);
    QCOMPARE(attempts[1]->shadow, ShadowEffect::None);

    const QJsonObject list = client.result(QStringLiteral("policy.list"));
    const QJsonObject counts =
        list.value(QStringLiteral("shadow")).toObject().value(QString::number(id)).toObject();
    QCOMPARE(counts.value(QStringLiteral("lastHour"))
                 .toObject()
                 .value(QStringLiteral("bypass"))
                 .toInteger(),
             1);
    QCOMPARE(list.value(QStringLiteral("policies"))
                 .toArray()[0]
                 .toObject()
                 .value(QStringLiteral("mode"))
                 .toString(),
             QStringLiteral("shadow"));

    // Enforced, the same policy acts.
    QJsonObject enforced =
        client.result(QStringLiteral("policy.get"), {{QStringLiteral("id"), id}});
    enforced.remove(QStringLiteral("mode"));
    QVERIFY(client.result(QStringLiteral("policy.update"), {{QStringLiteral("policy"), enforced}})
                .contains(QStringLiteral("version")));
    QCOMPARE(verdictOf(proxy.decide("192.0.2.3", "c@partner.test", "alice@example.com")),
             QStringLiteral("bypass"));
}

void TstPolicyShadowApi::replayDiffMatchesWhatEnforcingTheCandidateThenDoes()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    QVERIFY(client
                .result(QStringLiteral("policy.create"),
                        {{QStringLiteral("policy"),
                          policyJson(QStringLiteral("old partner"), QStringLiteral("bypass"),
                                     QStringLiteral("old.test"))}})
                .contains(QStringLiteral("id")));

    struct Mail
    {
        QByteArray client, sender, recipient;
    };
    QList<Mail> traffic;
    for (int i = 0; i < 6; ++i)
        traffic.append({"192.0.2." + QByteArray::number(10 + i),
                        "u" + QByteArray::number(i) + "@new.test", "alice@example.com"});
    for (int i = 0; i < 3; ++i)
        traffic.append(
            {"198.51.100.7", "x" + QByteArray::number(i) + "@old.test", "bob@example.com"});
    traffic.append({"203.0.113.9", "spam@spam.test", "alice@example.com"});
    traffic.append({"203.0.113.10", "n@neutral.test", "alice@example.com"});
    QHash<int, QString> before;
    for (qsizetype i = 0; i < traffic.size(); ++i) {
        before.insert(int(i), verdictOf(proxy.decide(traffic[i].client, traffic[i].sender,
                                                     traffic[i].recipient)));
        proxy.clock.advanceSeconds(1);
    }

    // The candidate: new.test bypasses, old.test no longer does, spam.test is blocked.
    const QJsonObject candidate{
        {QStringLiteral("policies"),
         QJsonArray{policyJson(QStringLiteral("new partner"), QStringLiteral("bypass"),
                               QStringLiteral("new.test"))}},
        {QStringLiteral("groups"),
         QJsonArray{
             QJsonObject{{QStringLiteral("name"), QStringLiteral("Blocked Senders")},
                         {QStringLiteral("kind"), QStringLiteral("blocked")},
                         {QStringLiteral("members"), QJsonArray{QStringLiteral("@spam.test")}}}}}};
    const QJsonObject replay =
        client.result(QStringLiteral("policy.replay"),
                      {{QStringLiteral("candidate"), candidate}, {QStringLiteral("hours"), 1}});
    QCOMPARE(replay.value(QStringLiteral("replayed")).toInteger(), traffic.size());
    QCOMPARE(replay.value(QStringLiteral("nowBypass")).toInteger(), 6);
    QCOMPARE(replay.value(QStringLiteral("nowGreylist")).toInteger(), 3);
    QCOMPARE(replay.value(QStringLiteral("nowBlock")).toInteger(), 1);
    QHash<QString, qint64> predicted; // "domain now" -> count
    for (const QJsonValue &g : replay.value(QStringLiteral("groups")).toArray()) {
        const QJsonObject o = g.toObject();
        predicted.insert(o.value(QStringLiteral("domain")).toString() + u' ' +
                             o.value(QStringLiteral("now")).toString(),
                         o.value(QStringLiteral("count")).toInteger());
    }

    // Enforce the candidate, then the same traffic again: what changed is what was predicted.
    QVERIFY(
        client.result(QStringLiteral("policy.import"), {{QStringLiteral("document"), candidate}})
            .contains(QStringLiteral("revision")));
    QHash<QString, qint64> happened;
    for (qsizetype i = 0; i < traffic.size(); ++i) {
        const QString now =
            verdictOf(proxy.decide(traffic[i].client, traffic[i].sender, traffic[i].recipient));
        if (now != before.value(int(i)))
            ++happened[QString::fromUtf8(
                           traffic[i].sender.mid(traffic[i].sender.indexOf('@') + 1)) +
                       u' ' + now];
    }
    QCOMPARE(happened, predicted);
    QCOMPARE(happened.size(), 3);
}

void TstPolicyShadowApi::replayRefusesABadCandidateAndNamesTheField()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    const QJsonObject bad = client.call(
        QStringLiteral("policy.replay"),
        {{QStringLiteral("candidate"),
          QJsonObject{{QStringLiteral("policies"),
                       QJsonArray{policyJson(QStringLiteral("x"), QStringLiteral("sometimes"),
                                             QStringLiteral("a.test"))}}}}});
    QCOMPARE(TestClient::errorCode(bad), QStringLiteral("bad_request"));
    QVERIFY(bad.value(QStringLiteral("error"))
                .toObject()
                .value(QStringLiteral("message"))
                .toString()
                .contains(QStringLiteral("action")));
    QCOMPARE(TestClient::errorCode(client.call(
                 QStringLiteral("policy.replay"),
                 {{QStringLiteral("candidate"), QJsonObject{}}, {QStringLiteral("hours"), 1000}})),
             QStringLiteral("bad_request"));
    // The server goes on serving.
    QVERIFY(client.result(QStringLiteral("policy.list")).contains(QStringLiteral("policies")));
}

void TstPolicyShadowApi::rollbackRestoresTheExactPreviousTable()
{
    ControlTestProxy proxy;
    QVERIFY2(proxy.start(), qPrintable(proxy.startError));
    TestClient client;
    QVERIFY(client.login(proxy.url(), proxy.token()));
    const auto create = [&](const QString &name, const QString &action, const QString &domain) {
        proxy.clock.advanceSeconds(5);
        return client
            .result(QStringLiteral("policy.create"),
                    {{QStringLiteral("policy"), policyJson(name, action, domain)}})
            .value(QStringLiteral("id"))
            .toInteger();
    };
    const qint64 a =
        create(QStringLiteral("a"), QStringLiteral("bypass"), QStringLiteral("a.test"));
    const qint64 b =
        create(QStringLiteral("b"), QStringLiteral("greylist"), QStringLiteral("b.test"));
    QVERIFY(a > 0 && b > 0);
    const QJsonObject saved = client.result(QStringLiteral("policy.list"));
    const qint64 version = client.result(QStringLiteral("policy.versions"))
                               .value(QStringLiteral("versions"))
                               .toArray()[0]
                               .toObject()
                               .value(QStringLiteral("version"))
                               .toInteger();
    QCOMPARE(version, saved.value(QStringLiteral("revision")).toInteger());

    // Then: a edited, b deleted, c created.
    proxy.clock.advanceSeconds(5);
    QJsonObject edited = client.result(QStringLiteral("policy.get"), {{QStringLiteral("id"), a}});
    edited.insert(QStringLiteral("action"), QStringLiteral("greylist"));
    QVERIFY(client.result(QStringLiteral("policy.update"), {{QStringLiteral("policy"), edited}})
                .contains(QStringLiteral("version")));
    proxy.clock.advanceSeconds(5);
    QVERIFY(client
                .result(QStringLiteral("policy.delete"),
                        {{QStringLiteral("id"), b}, {QStringLiteral("version"), 1}})
                .contains(QStringLiteral("version")));
    create(QStringLiteral("c"), QStringLiteral("bypass"), QStringLiteral("c.test"));

    const QJsonObject versions = client.result(QStringLiteral("policy.versions"));
    QCOMPARE(versions.value(QStringLiteral("total")).toInteger(), 5);
    const QJsonObject diff =
        client.result(QStringLiteral("policy.version.diff"), {{QStringLiteral("from"), version}});
    // c took the id b left free (the next id after the largest): by id, 2 changed.
    QCOMPARE(diff.value(QStringLiteral("added")).toArray().size(), 0);
    QCOMPARE(diff.value(QStringLiteral("removed")).toArray().size(), 0);
    const QJsonArray changed = diff.value(QStringLiteral("changed")).toArray();
    QCOMPARE(changed.size(), 2);
    QCOMPARE(changed[0].toObject().value(QStringLiteral("id")).toInteger(), a);
    QCOMPARE(changed[0].toObject().value(QStringLiteral("fields")),
             QJsonValue(QJsonArray{QStringLiteral("action")}));

    proxy.clock.advanceSeconds(60);
    const QJsonObject rolledBack =
        client.result(QStringLiteral("policy.rollback"), {{QStringLiteral("version"), version}});
    QCOMPARE(rolledBack.value(QStringLiteral("restored")).toInteger(), version);
    QCOMPARE(rolledBack.value(QStringLiteral("changes")).toInteger(), 2);
    const QJsonObject now = client.result(QStringLiteral("policy.list"));
    QCOMPARE(contentOf(now.value(QStringLiteral("policies")).toArray()),
             contentOf(saved.value(QStringLiteral("policies")).toArray()));
    QCOMPARE(now.value(QStringLiteral("precedence")), saved.value(QStringLiteral("precedence")));
    // The rollback is a version of its own, audited; nothing differs from the version now.
    const QJsonObject latest = client.result(QStringLiteral("policy.versions"))
                                   .value(QStringLiteral("versions"))
                                   .toArray()[0]
                                   .toObject();
    QCOMPARE(latest.value(QStringLiteral("what")).toString(), QStringLiteral("policy.rollback"));
    QCOMPARE(latest.value(QStringLiteral("policies")).toArray().size(), 2);
    const QJsonObject none =
        client.result(QStringLiteral("policy.version.diff"), {{QStringLiteral("from"), version}});
    QVERIFY(none.value(QStringLiteral("added")).toArray().isEmpty());
    QVERIFY(none.value(QStringLiteral("removed")).toArray().isEmpty());
    QVERIFY(none.value(QStringLiteral("changed")).toArray().isEmpty());
    // A version the log does not have is refused with what to do.
    const QJsonObject missing =
        client.call(QStringLiteral("policy.rollback"), {{QStringLiteral("version"), 99999}});
    QCOMPARE(TestClient::errorCode(missing), QStringLiteral("not_found"));
}

QTEST_GUILESS_MAIN(TstPolicyShadowApi)
#include "tst_policy_shadow_api.moc"
