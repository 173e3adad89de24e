// SPDX-License-Identifier: GPL-3.0-or-later
// RecentSet (the instances that got their X-Greylist header): exact least-recently-used
// eviction at its bound, checked against a plain model.

#include "policyd/RecentSet.h"

#include <QRandomGenerator>
#include <QTest>
#include <algorithm>
#include <deque>

using namespace greygate;

class RecentSetTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aKeyIsNewOnceThenKnown();
    void theLeastRecentlyUsedKeyLeavesFirst();
    void matchesAModelUnderRandomUse_data();
    void matchesAModelUnderRandomUse();
};

void RecentSetTest::aKeyIsNewOnceThenKnown()
{
    RecentSet set(10);
    QVERIFY(set.insert("1a2b.0/192.0.2.1"));
    QVERIFY(!set.insert("1a2b.0/192.0.2.1"));
    QVERIFY(set.insert("1a2b.0/192.0.2.2"));
    QCOMPARE(set.size(), 2);
    QVERIFY(set.contains("1a2b.0/192.0.2.1"));
    QVERIFY(!set.contains("other"));
}

void RecentSetTest::theLeastRecentlyUsedKeyLeavesFirst()
{
    RecentSet set(3);
    QVERIFY(set.insert("a"));
    QVERIFY(set.insert("b"));
    QVERIFY(set.insert("c"));
    QVERIFY(!set.insert("a")); // a is now the most recent: b is the oldest
    QVERIFY(set.insert("d"));
    QCOMPARE(set.size(), 3);
    QVERIFY(!set.contains("b"));
    QVERIFY(set.contains("a"));
    QVERIFY(set.contains("c"));
    QVERIFY(set.insert("b")); // forgotten, so new again; c leaves
    QVERIFY(!set.contains("c"));

    RecentSet one(0); // at least one key is kept
    QVERIFY(one.insert("x"));
    QVERIFY(!one.insert("x"));
    QVERIFY(one.insert("y"));
    QVERIFY(!one.contains("x"));
    QCOMPARE(one.size(), 1);
}

void RecentSetTest::matchesAModelUnderRandomUse_data()
{
    QTest::addColumn<int>("capacity");
    QTest::addColumn<int>("keys");
    QTest::newRow("small") << 4 << 8;
    QTest::newRow("mostly hits") << 50 << 60;
    QTest::newRow("mostly misses") << 20 << 500;
}

void RecentSetTest::matchesAModelUnderRandomUse()
{
    QFETCH(int, capacity);
    QFETCH(int, keys);
    RecentSet set(capacity);
    std::deque<QByteArray> model; // most recent first
    QRandomGenerator rng(quint32(capacity * 1000 + keys));
    for (int i = 0; i < 20000; ++i) {
        const QByteArray key = "k" + QByteArray::number(rng.bounded(keys));
        const auto it = std::find(model.begin(), model.end(), key);
        const bool isNew = it == model.end();
        if (!isNew)
            model.erase(it);
        model.push_front(key);
        if (qsizetype(model.size()) > capacity)
            model.pop_back();
        QCOMPARE(set.insert(key), isNew);
        QCOMPARE(set.size(), qsizetype(model.size()));
    }
    for (const QByteArray &key : model)
        QVERIFY(set.contains(key));
}

QTEST_GUILESS_MAIN(RecentSetTest)
#include "tst_recent_set.moc"
