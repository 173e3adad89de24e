// SPDX-License-Identifier: GPL-3.0-or-later
#include "V1Samples.h"
#include "store/Crc32.h"
#include "store/JournalCodec.h"

#include <QRandomGenerator>
#include <QTest>
#include <random>
#include <utility>

using namespace greygate;
using namespace greygate::test;

namespace {

WriteBatch sampleBatch()
{
    WriteBatch b;
    b.upsertTriplets.append({{QByteArrayLiteral("192.0.2.0/24"), QByteArray("a\0b", 3),
                              QByteArrayLiteral("\xff\xfe@x")},
                             {1, 2, 3, 4, TripletStatus::Passed}});
    b.upsertTriplets.append(
        {{QByteArray(), QByteArray(), QByteArray()},
         {-5, std::numeric_limits<qint64>::max(), 0, 0xFFFFFFFFu, TripletStatus::Deferred}});
    b.removeTriplets.append(TripletKey{"c", "", "r"}.joined());
    b.upsertClients.append({QByteArrayLiteral("2001:db8::/64"), 7, 99});
    b.removeClients.append(QByteArray("\0", 1));
    b.rejections.append({100,
                         QByteArrayLiteral("Sender Failed to Retry"),
                         {QByteArrayLiteral("10.0.0.1"), QByteArrayLiteral("s"), {}},
                         3,
                         50});
    b.documents.append({DocumentKind::Group, QByteArrayLiteral("3"), false, 2, 17,
                        QByteArray("{\"members\":[\"a\0\xff\"]}", 19)});
    b.documents.append({DocumentKind::Policy, QByteArray("\0", 1), true, 0, 18, {}});
    b.documents.append({DocumentKind::Internal, QByteArrayLiteral("internal"), false, 0xFFFFFFFFu,
                        std::numeric_limits<quint64>::max(), QByteArray(700, '{')});
    b.audit.append({17, -3, QByteArrayLiteral("admin"), QByteArrayLiteral("group.members.add"),
                    QByteArrayLiteral("group:3"), QByteArray(), QByteArray("{\0}", 3)});
    b.audit.append({std::numeric_limits<quint64>::max(), std::numeric_limits<qint64>::min(),
                    QByteArray(), QByteArray(), QByteArray(), QByteArray("\xff", 1), QByteArray()});
    return b;
}

void compareBatches(const WriteBatch &a, const WriteBatch &b)
{
    QCOMPARE(a.upsertTriplets.size(), b.upsertTriplets.size());
    for (qsizetype i = 0; i < a.upsertTriplets.size(); ++i) {
        QCOMPARE(a.upsertTriplets[i].key, b.upsertTriplets[i].key);
        QVERIFY(a.upsertTriplets[i].state == b.upsertTriplets[i].state);
    }
    QCOMPARE(a.removeTriplets, b.removeTriplets);
    QCOMPARE(a.upsertClients.size(), b.upsertClients.size());
    for (qsizetype i = 0; i < a.upsertClients.size(); ++i) {
        QCOMPARE(a.upsertClients[i].client, b.upsertClients[i].client);
        QCOMPARE(a.upsertClients[i].passes, b.upsertClients[i].passes);
        QCOMPARE(a.upsertClients[i].lastSeen, b.upsertClients[i].lastSeen);
    }
    QCOMPARE(a.removeClients, b.removeClients);
    QCOMPARE(a.rejections.size(), b.rejections.size());
    for (qsizetype i = 0; i < a.rejections.size(); ++i) {
        QCOMPARE(a.rejections[i].time, b.rejections[i].time);
        QCOMPARE(a.rejections[i].reason, b.rejections[i].reason);
        QCOMPARE(a.rejections[i].key, b.rejections[i].key);
        QCOMPARE(a.rejections[i].attempts, b.rejections[i].attempts);
        QCOMPARE(a.rejections[i].firstSeen, b.rejections[i].firstSeen);
    }
    QCOMPARE(a.documents, b.documents);
    QCOMPARE(a.audit, b.audit);
}

} // namespace

class JournalCodecTest : public QObject
{
    Q_OBJECT

private slots:
    void crc32_matches_the_standard_check_value()
    {
        const QByteArray check = QByteArrayLiteral("123456789");
        QCOMPARE(crc32(check.constData(), check.size()), 0xCBF43926u);
        QCOMPARE(crc32Update(crc32(check.constData(), 4), check.constData() + 4, 5), 0xCBF43926u);
        QCOMPARE(crc32(nullptr, 0), 0u);
    }

    void crc32_of_long_inputs_matches_zlib()
    {
        QFETCH(int, length);
        QFETCH(quint32, expected);
        // Bytes (i * 131 + 7) mod 256; the expected values are zlib.crc32's (Python).
        QByteArray data(length, Qt::Uninitialized);
        for (int i = 0; i < length; ++i)
            data[i] = char((i * 131 + 7) & 0xff);
        QCOMPARE(crc32(data.constData(), data.size()), expected);
        QCOMPARE(crc32UpdatePortable(0, data.constData(), data.size()), expected);
    }
    void crc32_of_long_inputs_matches_zlib_data()
    {
        QTest::addColumn<int>("length");
        QTest::addColumn<quint32>("expected");
        const std::pair<int, quint32> rows[] = {
            {63, 0x337301c0u},  {64, 0x38e4dbb5u},   {65, 0x6c311b46u},   {79, 0x118a99cbu},
            {80, 0x89cdcb09u},  {127, 0x8276c596u},  {128, 0xcc816b20u},  {129, 0x9a7c58adu},
            {200, 0x2a0c0115u}, {1000, 0x1ed57bb9u}, {4103, 0xcf90c5f2u}, {65549, 0xfa1aee39u},
        };
        for (const auto &[length, expected] : rows)
            QTest::addRow("%d bytes", length) << length << expected;
    }

    void crc32_fast_path_equals_the_tables_at_every_length_alignment_and_split()
    {
        // The carry-less multiply path folds 64 and 16 bytes at a time and leaves the tail to
        // the tables: every length around those steps, unaligned starts, and a checksum
        // continued across a split must give the table path's value.
        std::mt19937 random(20261126);
        QByteArray buffer(2200, Qt::Uninitialized);
        for (char &c : buffer)
            c = char(random());
        for (int length = 0; length <= 1100; ++length) {
            const int offset = int(random() % 16);
            const char *data = buffer.constData() + offset;
            const quint32 portable = crc32UpdatePortable(0, data, length);
            QCOMPARE(crc32(data, length), portable);
            const int split = length == 0 ? 0 : int(random() % quint32(length + 1));
            QCOMPARE(crc32Update(crc32(data, split), data + split, length - split), portable);
            const quint32 seed = random();
            QCOMPARE(crc32Update(seed, data, length), crc32UpdatePortable(seed, data, length));
        }
        const QByteArray ones(64, char(0xff)), zeros(256, '\0');
        QCOMPARE(crc32(ones.constData(), ones.size()), 0x0f6187bau);
        QCOMPARE(crc32(zeros.constData(), zeros.size()), 0x0d968558u);
    }

    void sealed_record_verifies_and_decodes_to_the_same_batch()
    {
        const WriteBatch batch = sampleBatch();
        QByteArray record = JournalCodec::encode(batch);
        JournalCodec::seal(record, 42);
        const JournalCodec::Header h = JournalCodec::parseHeader(record.constData());
        QCOMPARE(h.magic, JournalCodec::kMagic);
        QCOMPARE(h.sequence, 42u);
        QCOMPARE(qsizetype(h.length), record.size() - JournalCodec::kHeaderSize);
        const char *payload = record.constData() + JournalCodec::kHeaderSize;
        QVERIFY(JournalCodec::verify(h, payload));
        const std::optional<WriteBatch> decoded = JournalCodec::decode(payload, h.length);
        QVERIFY(decoded);
        compareBatches(*decoded, batch);
    }

    void empty_batch_round_trips()
    {
        QByteArray record = JournalCodec::encode(WriteBatch{});
        JournalCodec::seal(record, 1);
        const std::optional<WriteBatch> decoded =
            JournalCodec::decode(record.constData() + JournalCodec::kHeaderSize,
                                 record.size() - JournalCodec::kHeaderSize);
        QVERIFY(decoded);
        QVERIFY(decoded->isEmpty());
    }

    void every_single_bit_flip_fails_the_crc()
    {
        QByteArray record = JournalCodec::encode(sampleBatch());
        JournalCodec::seal(record, 7);
        // Flip each bit of length, sequence and payload (the magic and CRC are checked
        // directly): the CRC must notice every one.
        for (qsizetype byte = 4; byte < record.size(); ++byte) {
            if (byte >= 16 && byte < 20)
                continue;
            for (int bit = 0; bit < 8; ++bit) {
                QByteArray copy = record;
                copy[byte] = char(copy[byte] ^ (1 << bit));
                const JournalCodec::Header h = JournalCodec::parseHeader(copy.constData());
                if (qsizetype(h.length) != copy.size() - JournalCodec::kHeaderSize)
                    continue; // a flipped length is caught by the reader's bounds check
                QVERIFY2(!JournalCodec::verify(h, copy.constData() + JournalCodec::kHeaderSize),
                         qPrintable(QStringLiteral("byte %1 bit %2").arg(byte).arg(bit)));
            }
        }
    }

    void every_truncated_payload_is_refused()
    {
        const QByteArray record = JournalCodec::encode(sampleBatch());
        const QByteArray payload = record.mid(JournalCodec::kHeaderSize);
        for (qsizetype n = 0; n < payload.size(); ++n)
            QVERIFY2(!JournalCodec::decode(payload.constData(), n), qPrintable(QString::number(n)));
        QVERIFY(JournalCodec::decode(payload.constData(), payload.size()));
        // Trailing bytes are refused too: a record is exactly one batch.
        const QByteArray longer = payload + QByteArrayLiteral("x");
        QVERIFY(!JournalCodec::decode(longer.constData(), longer.size()));
    }

    void random_payloads_never_crash_the_decoder()
    {
        QRandomGenerator random(20260501);
        const QByteArray valid = JournalCodec::encode(sampleBatch()).mid(JournalCodec::kHeaderSize);
        for (int round = 0; round < 3000; ++round) {
            QByteArray junk = valid;
            if (round % 2 == 0) {
                junk.resize(random.bounded(1, 300));
                for (char &c : junk)
                    c = char(random.bounded(256));
                junk[0] = char(1 + round % 4); // past the version check, into the counts
            } else {
                for (int k = 0; k < 4; ++k)
                    junk[random.bounded(int(junk.size()))] = char(random.bounded(256));
            }
            JournalCodec::decode(junk.constData(), junk.size()); // must return, whatever it says
        }
    }

    void unknown_format_version_is_refused_data()
    {
        QTest::addColumn<int>("version");
        QTest::newRow("0") << 0;
        QTest::newRow("3") << 3;
        QTest::newRow("255") << 255;
    }
    void unknown_format_version_is_refused()
    {
        QFETCH(int, version);
        QByteArray payload = JournalCodec::encode(sampleBatch()).mid(JournalCodec::kHeaderSize);
        QCOMPARE(payload[0], char(2)); // what this build writes
        payload[0] = char(version);
        QVERIFY(!JournalCodec::decode(payload.constData(), payload.size()));
    }

    void a_document_of_unknown_kind_or_with_a_bad_removed_flag_is_refused_data()
    {
        QTest::addColumn<int>("offset"); // into the first document, from its kind byte
        QTest::addColumn<int>("value");
        QTest::newRow("kind 0") << 0 << 0;
        QTest::newRow("kind 6") << 0 << 6; // 5 is the sender rewriting table
        QTest::newRow("kind 255") << 0 << 255;
        QTest::newRow("removed 2") << 1 + 4 + 1 << 2;
    }
    void a_document_of_unknown_kind_or_with_a_bad_removed_flag_is_refused()
    {
        QFETCH(int, offset);
        QFETCH(int, value);
        WriteBatch batch;
        batch.documents.append({DocumentKind::Policy, "7", false, 1, 1, "{}"});
        QByteArray payload = JournalCodec::encode(batch).mid(JournalCodec::kHeaderSize);
        const int kindAt = 1 + 5 * 4 + 4; // version, five empty lists, the document count
        QCOMPARE(payload[kindAt], char(DocumentKind::Policy));
        QVERIFY(JournalCodec::decode(payload.constData(), payload.size()));
        payload[kindAt + offset] = char(value);
        QVERIFY(!JournalCodec::decode(payload.constData(), payload.size()));
    }

    // Journals written before policies were stored (format 1) are read as batches without
    // documents or audit entries: the committed sample was written by that code.
    void version_1_records_written_by_the_old_code_still_decode()
    {
        const QByteArray journal = readV1Sample("v1_journal.bin");
        QVERIFY(!journal.isEmpty());
        qsizetype pos = 0;
        quint64 sequence = 4;
        for (; pos < journal.size(); ++sequence) {
            QVERIFY(journal.size() - pos >= JournalCodec::kHeaderSize);
            const JournalCodec::Header h = JournalCodec::parseHeader(journal.constData() + pos);
            QCOMPARE(h.magic, JournalCodec::kMagic);
            QCOMPARE(h.sequence, sequence);
            const char *payload = journal.constData() + pos + JournalCodec::kHeaderSize;
            QVERIFY(JournalCodec::verify(h, payload));
            QCOMPARE(payload[0], char(1));
            const std::optional<WriteBatch> batch = JournalCodec::decode(payload, h.length);
            QVERIFY(batch);
            compareBatches(*batch, v1SampleBatch(qint64(sequence)));
            QVERIFY(batch->documents.isEmpty() && batch->audit.isEmpty());
            // Re-encoded it is a version-2 record of the same batch.
            const QByteArray again = JournalCodec::encode(*batch).mid(JournalCodec::kHeaderSize);
            QCOMPARE(again[0], char(2));
            const std::optional<WriteBatch> decoded =
                JournalCodec::decode(again.constData(), again.size());
            QVERIFY(decoded);
            compareBatches(*decoded, *batch);
            pos += JournalCodec::kHeaderSize + h.length;
        }
        QCOMPARE(sequence, 7u);
    }

    void a_version_1_payload_with_version_2_lists_appended_is_refused()
    {
        // Version 1 ends after the rejections: the two extra counts are trailing bytes.
        QByteArray payload = JournalCodec::encode(sampleBatch()).mid(JournalCodec::kHeaderSize);
        payload[0] = 1;
        QVERIFY(!JournalCodec::decode(payload.constData(), payload.size()));
    }
};

QTEST_GUILESS_MAIN(JournalCodecTest)
#include "tst_journalcodec.moc"
