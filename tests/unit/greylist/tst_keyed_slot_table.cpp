// SPDX-License-Identifier: GPL-3.0-or-later
#include "greylist/KeyedSlotTable.h"

#include <QHash>
#include <QTest>

using namespace greygate;

class TstKeyedSlotTable : public QObject
{
    Q_OBJECT

private slots:
    void finds_what_was_inserted_and_nothing_else();
    void slots_stay_put_and_are_reused_after_removal();
    void matches_a_qhash_through_heavy_insert_and_remove_churn_data();
    void matches_a_qhash_through_heavy_insert_and_remove_churn();
};

void TstKeyedSlotTable::finds_what_was_inserted_and_nothing_else()
{
    KeyedSlotTable<quint32> table;
    QCOMPARE(table.find("a"), table.npos);
    const quint32 a = table.insert("a", 1);
    const quint32 empty = table.insert("", 2);
    const quint32 b = table.insert(QByteArray(1000, 'b'), 3);
    QCOMPARE(table.size(), 3u);
    QCOMPARE(table.find("a"), a);
    QCOMPARE(table.find(""), empty);
    QCOMPARE(table.find(QByteArray(1000, 'b')), b);
    QCOMPARE(table.find(QByteArray(999, 'b')), table.npos);
    QCOMPARE(table.key(b), QByteArrayView(QByteArray(1000, 'b')));
    QCOMPARE(table.value(empty), 2u);
    QVERIFY(table.memoryBytes() > 1000);
}

void TstKeyedSlotTable::slots_stay_put_and_are_reused_after_removal()
{
    KeyedSlotTable<quint32> table;
    QList<quint32> slotsByKey;
    for (int i = 0; i < 100; ++i)
        slotsByKey.append(table.insert(QByteArray::number(i), quint32(i)));
    for (int i = 0; i < 100; ++i)
        QCOMPARE(table.find(QByteArray::number(i)), slotsByKey[i]); // growth kept them
    table.remove(slotsByKey[42]);
    QVERIFY(!table.isLive(slotsByKey[42]));
    QCOMPARE(table.find("42"), table.npos);
    QCOMPARE(table.insert("new", 7), slotsByKey[42]);
    QCOMPARE(table.value(slotsByKey[42]), 7u);
    QCOMPARE(table.size(), 100u);
}

void TstKeyedSlotTable::matches_a_qhash_through_heavy_insert_and_remove_churn_data()
{
    QTest::addColumn<int>("keySpace");
    QTest::addColumn<int>("operations");
    QTest::newRow("dense small table") << 50 << 20000;
    QTest::newRow("medium") << 5000 << 60000;
    QTest::newRow("mostly inserts") << 200000 << 60000;
}

// Linear probing with backward-shift deletion is easy to get subtly wrong (an entry moved
// before its home becomes unreachable): compare every step with QHash.
void TstKeyedSlotTable::matches_a_qhash_through_heavy_insert_and_remove_churn()
{
    QFETCH(int, keySpace);
    QFETCH(int, operations);
    KeyedSlotTable<quint32> table;
    QHash<QByteArray, quint32> model; // key -> value
    QHash<QByteArray, quint32> slotOf;
    quint32 rng = 2024;
    const auto next = [&rng](quint32 bound) {
        rng = rng * 1664525u + 1013904223u;
        return (rng >> 8) % bound;
    };
    for (int op = 0; op < operations; ++op) {
        const QByteArray k = "key-" + QByteArray::number(next(quint32(keySpace)));
        // Every other operation goes through the hashed overloads (one hash for the find
        // and the insert), which must agree with the plain ones.
        const bool hashed = op % 2 == 0;
        const quint32 hash = table.hashOf(k);
        table.prefetch(hash);
        const quint32 found = hashed ? table.find(k, hash) : table.find(k);
        QCOMPARE(found != table.npos, model.contains(k));
        if (found == table.npos) {
            const quint32 slot =
                hashed ? table.insert(k, quint32(op), hash) : table.insert(k, quint32(op));
            model.insert(k, quint32(op));
            slotOf.insert(k, slot);
        } else if (next(3) == 0) {
            QCOMPARE(found, slotOf.value(k));
            QCOMPARE(table.value(found), model.value(k));
            table.value(found) = quint32(op);
            model.insert(k, quint32(op));
        } else {
            table.remove(found);
            model.remove(k);
            slotOf.remove(k);
        }
        QCOMPARE(table.size(), quint32(model.size()));
    }
    for (auto it = model.cbegin(); it != model.cend(); ++it) {
        const quint32 slot = table.find(it.key());
        QCOMPARE(slot, slotOf.value(it.key()));
        QCOMPARE(table.value(slot), it.value());
        QCOMPARE(table.key(slot), QByteArrayView(it.key()));
    }
}

QTEST_GUILESS_MAIN(TstKeyedSlotTable)
#include "tst_keyed_slot_table.moc"
