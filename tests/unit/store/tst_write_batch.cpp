// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/WriteBatch.h"

#include <QTest>

using namespace greygate;

namespace {

TripletRecord record(int i)
{
    TripletRecord r;
    r.key = {QByteArray::number(i), QByteArrayLiteral("s@example.org"),
             QByteArrayLiteral("r@example.org")};
    r.state.firstSeen = i;
    return r;
}

} // namespace

// The decision thread's batch after a commit (GreylistPolicyHandler) and the store's spare
// batches (SqliteStore): emptied in place, so the next batch appends without allocating.
class TestWriteBatch : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void clearingAnUnsharedBatchKeepsItsRoom()
    {
        WriteBatch b;
        for (int i = 0; i < 10; ++i)
            b.upsertTriplets.append(record(i));
        b.removeTriplets.append(QByteArrayLiteral("a\x1f"
                                                  "b\x1f"
                                                  "c"));
        const TripletRecord *room = b.upsertTriplets.constData();
        const qsizetype capacity = b.upsertTriplets.capacity();
        b.clearKeepingCapacity();
        QVERIFY(b.isEmpty());
        QCOMPARE(b.upsertTriplets.capacity(), capacity);
        b.upsertTriplets.append(record(42));
        QCOMPARE(b.upsertTriplets.constData(), room); // the same memory, no new list
        QCOMPARE(b.upsertTriplets.first().state.firstSeen, 42);
    }

    void clearingASharedBatchLeavesTheOtherCopyWhole()
    {
        WriteBatch b;
        for (int i = 0; i < 5; ++i)
            b.upsertTriplets.append(record(i));
        const WriteBatch held = b; // what a store that shares the lists keeps
        b.clearKeepingCapacity();
        QVERIFY(b.isEmpty());
        QCOMPARE(held.upsertTriplets.size(), 5);
        QCOMPARE(held.upsertTriplets.at(4).state.firstSeen, 4);
        b.upsertTriplets.append(record(9));
        QCOMPARE(held.upsertTriplets.size(), 5);
    }

    void listsGrownPastTheBoundAreLetGo()
    {
        WriteBatch b;
        for (int i = 0; i < 100; ++i)
            b.upsertTriplets.append(record(i));
        b.clearKeepingCapacity(32);
        QVERIFY(b.isEmpty());
        QCOMPARE(b.upsertTriplets.capacity(), 0);
    }

    void emptyingAnEmptyBatchAllocatesNothing()
    {
        WriteBatch b;
        b.clearKeepingCapacity();
        QCOMPARE(b.upsertTriplets.capacity(), 0);
        QCOMPARE(b.removeTriplets.capacity(), 0);
        QCOMPARE(b.audit.capacity(), 0);
    }

    void aCopyOfTheRecordsLeavesTheSourceUnshared()
    {
        WriteBatch source;
        for (int i = 0; i < 3; ++i)
            source.upsertTriplets.append(record(i));
        source.upsertClients.append(ClientRecord{QByteArrayLiteral("192.0.2"), 2, 7});
        source.removeClients.append(QByteArrayLiteral("198.51.100"));
        WriteBatch copy;
        copy.upsertTriplets.append(record(99)); // a spare's leftovers are replaced
        copy.upsertTriplets.clear();
        copy.copyRecordsFrom(source);
        QVERIFY(source.upsertTriplets.isDetached());
        QVERIFY(source.upsertClients.isDetached());
        QCOMPARE(copy.size(), source.size());
        QCOMPARE(copy.upsertTriplets.at(2).key.client, QByteArrayLiteral("2"));
        QCOMPARE(copy.upsertClients.at(0).passes, 2u);
        QCOMPARE(copy.removeClients.at(0), QByteArrayLiteral("198.51.100"));
        source.clearKeepingCapacity();
        QCOMPARE(copy.upsertTriplets.size(), 3); // the copy is its own
    }
};

QTEST_GUILESS_MAIN(TestWriteBatch)
#include "tst_write_batch.moc"
