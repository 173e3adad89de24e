// SPDX-License-Identifier: GPL-3.0-or-later
// PolicyDialog: every field of the policy model round-trips; mistakes are shown on their
// field as they are typed and keep Save off; the proxy's own validation error lands on its
// field; a conflict keeps the admin's edits and moves them onto the new version.

#include "dialogs/PolicyDialog.h"
#include "dialogs/PolicyFieldValidator.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTimeEdit>
#include <QDialogButtonBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

using namespace greygate;

namespace {

QJsonObject fullPolicy()
{
    return QJsonDocument::fromJson(R"({
        "id": 3, "version": 4, "narrative": "VIP both ways", "action": "greylist",
        "from": {"basedOn": "both", "type": "group", "value": "VIP"},
        "to": {"type": "domain", "value": "example.com", "includeSubdomains": true},
        "enabled": false, "start": "2027-01-01T00:00:00Z", "end": "2027-02-01T00:00:00Z",
        "override": true, "bidirectional": true,
        "sourceRanges": ["192.0.2.0/24", "2001:db8::/32"],
        "updatedAt": "2026-12-01T10:00:00Z", "updatedBy": "ann"})")
        .object();
}

QPushButton *saveButton(PolicyDialog &d)
{
    return d.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Save);
}

} // namespace

class PolicyDialogTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyFieldRoundTrips_data();
    void everyFieldRoundTrips();
    void newPolicyHasNoIdAndTheDefaults();
    void mistakesAreShownOnTheirFieldAsTyped_data();
    void mistakesAreShownOnTheirFieldAsTyped();
    void cidrValidation_data();
    void cidrValidation();
    void serverErrorIsShownOnItsField_data();
    void serverErrorIsShownOnItsField();
    void saveEmitsThePolicyWithItsVersionAndStaysOpen();
    void conflictKeepsTheEditsAndReappliesOnTheNewVersion();
    void conflictCanTakeTheirVersionInstead();
};

void PolicyDialogTest::everyFieldRoundTrips_data()
{
    QTest::addColumn<QJsonObject>("policy");
    QTest::newRow("every field") << fullPolicy();
    QJsonObject p = fullPolicy();
    p.insert(QStringLiteral("from"),
             QJsonObject{{QStringLiteral("basedOn"), QStringLiteral("header")},
                         {QStringLiteral("type"), QStringLiteral("address")},
                         {QStringLiteral("value"), QStringLiteral("boss@partner.test")}});
    p.insert(QStringLiteral("to"),
             QJsonObject{{QStringLiteral("type"), QStringLiteral("internal")}});
    p.insert(QStringLiteral("action"), QStringLiteral("bypass"));
    p.remove(QStringLiteral("start"));
    p.insert(QStringLiteral("sourceRanges"), QJsonArray());
    QTest::newRow("address from, internal to, bypass, no start") << p;
    p.insert(QStringLiteral("from"),
             QJsonObject{{QStringLiteral("basedOn"), QStringLiteral("envelope")},
                         {QStringLiteral("type"), QStringLiteral("domain")},
                         {QStringLiteral("value"), QStringLiteral("partner.test")},
                         {QStringLiteral("includeSubdomains"), false}});
    p.insert(QStringLiteral("to"),
             QJsonObject{{QStringLiteral("type"), QStringLiteral("external")}});
    p.remove(QStringLiteral("end"));
    QTest::newRow("domain from, external to, perpetual") << p;
    p.insert(QStringLiteral("from"),
             QJsonObject{{QStringLiteral("basedOn"), QStringLiteral("envelope")},
                         {QStringLiteral("type"), QStringLiteral("everyone")}});
    p.insert(QStringLiteral("to"), QJsonObject{{QStringLiteral("type"), QStringLiteral("group")},
                                               {QStringLiteral("value"), QStringLiteral("VIP")}});
    QTest::newRow("everyone from, group to") << p;
}

void PolicyDialogTest::everyFieldRoundTrips()
{
    QFETCH(QJsonObject, policy);
    PolicyDialog d;
    d.setGroupNames({QStringLiteral("VIP"), QStringLiteral("Permitted Senders")});
    d.setPolicy(policy);
    QCOMPARE(d.policy(), policy);
    QVERIFY2(d.validationErrors().isEmpty(),
             qPrintable(QStringList(d.validationErrors().values()).join(u'\n')));
    QVERIFY(saveButton(d)->isEnabled());
}

void PolicyDialogTest::newPolicyHasNoIdAndTheDefaults()
{
    PolicyDialog d;
    QVERIFY(d.isNew());
    const QJsonObject p = d.policy();
    QVERIFY(!p.contains(u"id"));
    QVERIFY(!p.contains(u"version"));
    QCOMPARE(p.value(u"action").toString(), QStringLiteral("greylist"));
    QCOMPARE(p.value(u"enabled").toBool(), true);
    QCOMPARE(p.value(u"from").toObject().value(u"type").toString(), QStringLiteral("everyone"));
    QCOMPARE(p.value(u"from").toObject().value(u"basedOn").toString(), QStringLiteral("envelope"));
    QVERIFY(!p.contains(u"start"));
    QVERIFY(!p.contains(u"end"));
}

void PolicyDialogTest::mistakesAreShownOnTheirFieldAsTyped_data()
{
    QTest::addColumn<QString>("widget");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("says");
    QTest::newRow("bad CIDR") << QStringLiteral("sourceRanges") << QStringLiteral("10.0.0.1/8")
                              << QStringLiteral("sourceRanges") << QStringLiteral("host bits set");
    QTest::newRow("second range bad")
        << QStringLiteral("sourceRanges") << QStringLiteral("192.0.2.0/24\n10.0.0.300/8")
        << QStringLiteral("sourceRanges") << QStringLiteral("line 2");
    QTest::newRow("empty domain") << QStringLiteral("from.value") << QString()
                                  << QStringLiteral("from.value") << QStringLiteral("empty");
    QTest::newRow("domain with a space")
        << QStringLiteral("from.value") << QStringLiteral("partner .test")
        << QStringLiteral("from.value") << QStringLiteral("not a domain");
    QTest::newRow("narrative too long") << QStringLiteral("narrative") << QString(1001, u'x')
                                        << QStringLiteral("narrative") << QStringLiteral("1,000");
}

void PolicyDialogTest::mistakesAreShownOnTheirFieldAsTyped()
{
    QFETCH(QString, widget);
    QFETCH(QString, text);
    QFETCH(QString, field);
    QFETCH(QString, says);
    PolicyDialog d;
    auto *fromType = d.findChild<QComboBox *>(QStringLiteral("from.type"));
    fromType->setCurrentIndex(fromType->findData(QStringLiteral("domain")));
    d.findChild<QComboBox *>(QStringLiteral("from.value"))->setEditText(QStringLiteral("ok.test"));
    QVERIFY(d.validationErrors().isEmpty());
    QVERIFY(saveButton(d)->isEnabled());
    if (auto *plain = d.findChild<QPlainTextEdit *>(widget))
        plain->setPlainText(text);
    else if (auto *line = d.findChild<QLineEdit *>(widget))
        line->setText(text);
    else if (auto *combo = d.findChild<QComboBox *>(widget))
        combo->setEditText(text);
    else
        QFAIL("no such widget");
    QVERIFY2(d.fieldError(field).contains(says), qPrintable(d.fieldError(field)));
    QVERIFY(!saveButton(d)->isEnabled());
    QSignalSpy submitted(&d, &PolicyDialog::submitRequested);
    d.accept();
    QCOMPARE(submitted.count(), 0);
}

void PolicyDialogTest::cidrValidation_data()
{
    QTest::addColumn<QString>("cidr");
    QTest::addColumn<bool>("valid");
    QTest::newRow("ipv4 net") << QStringLiteral("192.0.2.0/24") << true;
    QTest::newRow("ipv4 host") << QStringLiteral("192.0.2.7") << true;
    QTest::newRow("ipv6 net") << QStringLiteral("2001:db8::/32") << true;
    QTest::newRow("host bits") << QStringLiteral("10.0.0.1/8") << false;
    QTest::newRow("octal-looking") << QStringLiteral("010.0.0.0/8") << false;
    QTest::newRow("prefix too long") << QStringLiteral("10.0.0.0/33") << false;
    QTest::newRow("prefix leading zero") << QStringLiteral("10.0.0.0/08") << false;
    QTest::newRow("bad octet") << QStringLiteral("10.0.0.300/8") << false;
    QTest::newRow("zone") << QStringLiteral("fe80::1%eth0") << false;
    QTest::newRow("space") << QStringLiteral(" 10.0.0.0/8") << false;
    QTest::newRow("ipv6 host bits") << QStringLiteral("2001:db8::1/32") << false;
}

void PolicyDialogTest::cidrValidation()
{
    QFETCH(QString, cidr);
    QFETCH(bool, valid);
    QCOMPARE(PolicyFieldValidator::cidrError(cidr).isEmpty(), valid);
}

void PolicyDialogTest::serverErrorIsShownOnItsField_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("field");
    QTest::newRow("range") << QStringLiteral("params.policy.sourceRanges[0]")
                           << QStringLiteral("sourceRanges");
    QTest::newRow("group") << QStringLiteral("params.policy.from.value")
                           << QStringLiteral("from.value");
    QTest::newRow("to") << QStringLiteral("params.policy.to.type") << QStringLiteral("to.value");
    QTest::newRow("end") << QStringLiteral("params.policy.end") << QStringLiteral("validity");
    QTest::newRow("other") << QStringLiteral("params.policy") << QStringLiteral("general");
}

void PolicyDialogTest::serverErrorIsShownOnItsField()
{
    QFETCH(QString, path);
    QFETCH(QString, field);
    QCOMPARE(PolicyDialog::fieldForPath(path), field);
    PolicyDialog d;
    d.show();
    d.showServerError(
        protocol::ProtocolError::badRequest(path, QStringLiteral("unknown group \"VIP\"")));
    QVERIFY2(d.fieldError(field).contains(QLatin1String("unknown group")),
             qPrintable(d.fieldError(field)));
}

void PolicyDialogTest::saveEmitsThePolicyWithItsVersionAndStaysOpen()
{
    PolicyDialog d;
    d.setGroupNames({QStringLiteral("VIP")});
    d.setPolicy(fullPolicy());
    d.show();
    QSignalSpy submitted(&d, &PolicyDialog::submitRequested);
    d.findChild<QLineEdit *>(QStringLiteral("narrative"))->setText(QStringLiteral("edited"));
    saveButton(d)->click();
    QCOMPARE(submitted.count(), 1);
    const QJsonObject sent = submitted.first().first().toJsonObject();
    QCOMPARE(sent.value(u"version").toInteger(), 4);
    QCOMPARE(sent.value(u"narrative").toString(), QStringLiteral("edited"));
    QVERIFY(d.isVisible()); // waits for the proxy's answer
    d.submitSucceeded();
    QVERIFY(!d.isVisible());
    QCOMPARE(d.result(), int(QDialog::Accepted));
}

void PolicyDialogTest::conflictKeepsTheEditsAndReappliesOnTheNewVersion()
{
    PolicyDialog d;
    d.setGroupNames({QStringLiteral("VIP")});
    d.setPolicy(fullPolicy());
    d.show();
    d.findChild<QLineEdit *>(QStringLiteral("narrative"))->setText(QStringLiteral("mine"));
    QJsonObject theirs = fullPolicy();
    theirs.insert(QStringLiteral("version"), 5);
    theirs.insert(QStringLiteral("action"), QStringLiteral("bypass"));
    theirs.insert(QStringLiteral("updatedBy"), QStringLiteral("bob"));
    d.showConflict(theirs);
    QVERIFY(d.conflictShown());
    QVERIFY(!saveButton(d)->isEnabled());
    QCOMPARE(d.policy().value(u"narrative").toString(), QStringLiteral("mine")); // not lost
    d.findChild<QPushButton *>(QStringLiteral("reapply"))->click();
    QVERIFY(!d.conflictShown());
    QCOMPARE(d.version(), 5);
    const QJsonObject p = d.policy();
    QCOMPARE(p.value(u"version").toInteger(), 5);
    QCOMPARE(p.value(u"narrative").toString(), QStringLiteral("mine"));
    QCOMPARE(p.value(u"action").toString(), QStringLiteral("greylist")); // the admin's choice
    QVERIFY(saveButton(d)->isEnabled());
}

void PolicyDialogTest::conflictCanTakeTheirVersionInstead()
{
    PolicyDialog d;
    d.setGroupNames({QStringLiteral("VIP")});
    d.setPolicy(fullPolicy());
    d.findChild<QLineEdit *>(QStringLiteral("narrative"))->setText(QStringLiteral("mine"));
    QJsonObject theirs = fullPolicy();
    theirs.insert(QStringLiteral("version"), 5);
    theirs.insert(QStringLiteral("narrative"), QStringLiteral("theirs"));
    d.showConflict(theirs);
    d.findChild<QPushButton *>(QStringLiteral("takeTheirs"))->click();
    QCOMPARE(d.policy(), theirs);
}

QTEST_MAIN(PolicyDialogTest)
#include "tst_policy_dialog.moc"
