// SPDX-License-Identifier: GPL-3.0-or-later
// The bounded table of each sender's last pass (DaemonWatch::lastPass, the triage's
// "retried from another network"): found again, replaced by a later pass, bounded in size
// with the recent senders kept and the oldest forgotten.
#include "alerts/PassTable.h"

#include <QTest>

using namespace greygate;

class TstPassTable : public QObject
{
    Q_OBJECT

private slots:
    void a_pass_is_found_by_its_sender_only();
    void a_later_pass_replaces_the_senders_earlier_one();
    void a_million_senders_keep_the_bound_and_the_recent_ones();
};

namespace {

QByteArray senderNo(int i)
{
    return "user" + QByteArray::number(i) + "@example" + QByteArray::number(i % 97) + ".test";
}

} // namespace

void TstPassTable::a_pass_is_found_by_its_sender_only()
{
    PassTable table(1000);
    QVERIFY(!table.find("a@example.test")); // empty, not even made yet
    table.insert("a@example.test", "192.0.2.0/24", 100);
    const std::optional<PassTable::Pass> pass = table.find("a@example.test");
    QVERIFY(pass);
    QCOMPARE(pass->client, QByteArray("192.0.2.0/24"));
    QCOMPARE(pass->time, Seconds(100));
    QVERIFY(!table.find("b@example.test"));
    QVERIFY(!table.find("a@example.tes"));
    QVERIFY(!table.find(""));
}

void TstPassTable::a_later_pass_replaces_the_senders_earlier_one()
{
    PassTable table(64);
    // More passes of one sender than the table has slots: one slot, the latest pass.
    for (int i = 0; i < 500; ++i)
        table.insert("a@example.test", "198.51.100." + QByteArray::number(i % 250), 1000 + i);
    for (int i = 0; i < 20; ++i)
        table.insert(senderNo(i), "203.0.113.0/24", 2000 + i);
    QCOMPARE(table.find("a@example.test")->client, QByteArray("198.51.100.249"));
    QCOMPARE(table.find("a@example.test")->time, Seconds(1499));
    for (int i = 0; i < 20; ++i)
        QVERIFY2(table.find(senderNo(i)), senderNo(i).constData());
}

void TstPassTable::a_million_senders_keep_the_bound_and_the_recent_ones()
{
    constexpr int kCapacity = 20'000;
    constexpr int kSenders = 1'000'000;
    PassTable table(kCapacity);
    QVERIFY(table.slotCount() >= kCapacity);
    QVERIFY(table.slotCount() < 2 * kCapacity);
    const QByteArray client("192.0.2.0/24");
    for (int i = 0; i < kSenders; ++i)
        table.insert(senderNo(i), client, i);
    // The newest few hundred are always there (a bucket of 8 would need 8 newer senders).
    for (int i = kSenders - 500; i < kSenders; ++i) {
        const std::optional<PassTable::Pass> pass = table.find(senderNo(i));
        QVERIFY2(pass && pass->time == i, senderNo(i).constData());
    }
    // The newest half of the bound nearly all (a bucket overflowing early is rare), and
    // everything held is at most as many as the slots.
    int recent = 0;
    for (int i = kSenders - kCapacity / 2; i < kSenders; ++i)
        recent += table.find(senderNo(i)) ? 1 : 0;
    QVERIFY2(recent >= kCapacity / 2 * 99 / 100, QByteArray::number(recent).constData());
    int held = 0;
    for (int i = 0; i < kSenders; ++i)
        held += table.find(senderNo(i)) ? 1 : 0;
    QVERIFY(held <= table.slotCount());
    QVERIFY(held >= kCapacity / 2);
    QVERIFY(!table.find(senderNo(0)));
}

QTEST_GUILESS_MAIN(TstPassTable)
#include "tst_pass_table.moc"
