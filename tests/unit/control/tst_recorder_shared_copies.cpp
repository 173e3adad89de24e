// SPDX-License-Identifier: GPL-3.0-or-later
// DecisionRecorder keeps a new client's address and name in one allocation: two byte arrays
// that share it must behave as two independent byte arrays in every way a reader or a
// writer can see.
#include "control/DecisionRecorder.h"

#include <QTest>
#include <cstring>

using namespace greygate;

class RecorderSharedCopiesTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void bothPartsReadAsTheirOwnNulTerminatedBytes_data()
    {
        QTest::addColumn<QByteArray>("a");
        QTest::addColumn<QByteArray>("b");
        QTest::newRow("address and name") << QByteArray("192.0.2.7") << QByteArray("mx1.example");
        QTest::newRow("ipv6 and long name") << QByteArray("2001:db8::25") << QByteArray(300, 'n');
        QTest::newRow("empty first") << QByteArray() << QByteArray("name");
        QTest::newRow("empty second") << QByteArray("192.0.2.7") << QByteArray();
    }
    void bothPartsReadAsTheirOwnNulTerminatedBytes()
    {
        QFETCH(QByteArray, a);
        QFETCH(QByteArray, b);
        QByteArray first;
        QByteArray second;
        DecisionRecorder::copyTogether(a, b, &first, &second);
        QCOMPARE(first, a);
        QCOMPARE(second, b);
        QCOMPARE(first.size(), a.size());
        QCOMPARE(second.size(), b.size());
        QCOMPARE(first.constData()[first.size()], '\0');
        QCOMPARE(second.constData()[second.size()], '\0');
        QCOMPARE(qstrlen(first.constData()), uint(a.size()));
        QVERIFY(first.constData() != a.constData()); // copies, not the caller's bytes
        QCOMPARE(first.toLower(), a.toLower());
        QCOMPARE(QByteArray(second).toUpper(), b.toUpper());
    }

    void writingToOneLeavesTheOtherAsItWas()
    {
        QByteArray first;
        QByteArray second;
        DecisionRecorder::copyTogether("192.0.2.7", "mx1.example", &first, &second);
        first.append("-and-much-more-text-than-there-was-room-for");
        first[0] = 'X';
        QCOMPARE(second, QByteArray("mx1.example"));
        second.prepend("pre.");
        second.append(".post");
        QCOMPARE(second, QByteArray("pre.mx1.example.post"));
        QCOMPARE(first, QByteArray("X92.0.2.7-and-much-more-text-than-there-was-room-for"));
    }

    void eitherOutlivesTheOtherAndStaysWritable()
    {
        QByteArray survivor;
        {
            QByteArray gone;
            DecisionRecorder::copyTogether("198.51.100.9", "relay.example", &survivor, &gone);
        }
        QCOMPARE(survivor, QByteArray("198.51.100.9"));
        survivor.append(QByteArray(100, 'z')); // alone now: grows in place or anew, intact
        QCOMPARE(survivor.left(12), QByteArray("198.51.100.9"));
        QCOMPARE(survivor.size(), 112);

        QByteArray name;
        {
            QByteArray gone;
            DecisionRecorder::copyTogether("198.51.100.9", "relay.example", &gone, &name);
        }
        name.prepend("smtp.");
        name.append('!');
        QCOMPARE(name, QByteArray("smtp.relay.example!"));
        QCOMPARE(name.constData()[name.size()], '\0');
    }

    void copiesOfThePartsAreOrdinarySharedByteArrays()
    {
        QByteArray first;
        QByteArray second;
        DecisionRecorder::copyTogether("203.0.113.5", "a.example", &first, &second);
        QByteArray copy = second;
        copy.replace("a.", "b.");
        QCOMPARE(second, QByteArray("a.example"));
        QCOMPARE(copy, QByteArray("b.example"));
        first.clear();
        QCOMPARE(second, QByteArray("a.example"));
        QCOMPARE(qHash(second), qHash(QByteArray("a.example")));
    }
};

QTEST_GUILESS_MAIN(RecorderSharedCopiesTest)
#include "tst_recorder_shared_copies.moc"
