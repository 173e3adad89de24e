// SPDX-License-Identifier: GPL-3.0-or-later
// Policy documents, the audit log and retention in SqliteStore: what goes in comes back,
// whole, across reopens; the last change to a document wins; the audit log pages and
// filters like the rejection log; pruneBefore() bounds both logs.
#include "store/SqliteStore.h"

#include <QHash>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

using namespace greygate;

namespace {

constexpr int kWaitMs = 30'000;

SqliteStoreOptions optionsFor(const QTemporaryDir &dir)
{
    SqliteStoreOptions o;
    o.dbdir = dir.path() + QStringLiteral("/db");
    return o;
}

QByteArray documentKey(DocumentKind kind, const QByteArray &id)
{
    return QByteArray(1, char(kind)) + id;
}

// Every live document by documentKey(); empty with a warning when loading fails.
QHash<QByteArray, DocumentRecord> loadDocuments(Store &store)
{
    QHash<QByteArray, DocumentRecord> out;
    QString error;
    bool twice = false;
    const bool ok = store.loadDocuments(
        [&](DocumentRecord &&d) {
            const QByteArray key = documentKey(d.kind, d.id);
            twice = twice || out.contains(key);
            out.insert(key, std::move(d));
        },
        &error);
    if (!ok || twice) {
        qWarning("loadDocuments failed: %s", twice ? "a document came twice" : qPrintable(error));
        return {};
    }
    return out;
}

// A sender group of 10,000 members, about 300 KB of JSON.
QByteArray largeGroupJson()
{
    QByteArray json = QByteArrayLiteral("{\"id\":3,\"name\":\"partners\",\"members\":[");
    for (int i = 0; i < 10'000; ++i) {
        if (i > 0)
            json += ',';
        json += "{\"address\":\"user" + QByteArray::number(i).rightJustified(5, '0') +
                "@partner.example\"}";
    }
    return json + "]}";
}

WriteBatch documentBatch(const DocumentRecord &d)
{
    WriteBatch b;
    b.documents.append(d);
    return b;
}

QList<Seconds> auditTimes(const QList<AuditRecord> &entries)
{
    QList<Seconds> times;
    for (const AuditRecord &a : entries)
        times.append(a.time);
    return times;
}

QList<AuditRecord> allAudit(Store &store, AuditQuery query = {})
{
    query.from = std::numeric_limits<Seconds>::min();
    query.limit = 10'000;
    QString error;
    const QList<AuditRecord> out = store.audit(query, &error);
    if (!error.isEmpty())
        qWarning("audit failed: %s", qPrintable(error));
    return out;
}

QList<Seconds> allRejectionTimes(Store &store)
{
    QList<Seconds> times;
    QString error;
    for (int offset = 0; offset < 1'000'000; offset += 10'000) {
        const QList<RejectionEntry> page =
            store.rejections({std::numeric_limits<Seconds>::min(), 0, offset, 10'000}, &error);
        for (const RejectionEntry &r : page)
            times.append(r.time);
        if (page.size() < 10'000)
            break;
    }
    return times;
}

} // namespace

class SqliteStoreDocumentsTest : public QObject
{
    Q_OBJECT

private slots:
    void a_document_round_trips_whole_through_a_reopen_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<QByteArray>("id");
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<quint32>("version");
        QTest::addColumn<quint64>("revision");

        QTest::newRow("policy") << 1 << QByteArrayLiteral("7")
                                << QByteArrayLiteral("{\"id\":7,\"name\":\"default\"}") << 3u
                                << quint64(12);
        QTest::newRow("group of 10,000 members")
            << 2 << QByteArrayLiteral("3") << largeGroupJson() << 1u << quint64(1);
        QTest::newRow("auto allow, odd bytes")
            << 3 << QByteArray("ext\0\xff \xc3\x28", 8) << QByteArray("{\"a\":\"\0\x01\xfe\"}", 11)
            << 0u << quint64(0);
        QTest::newRow("internal, empty id and json")
            << 4 << QByteArray() << QByteArray() << 0xFFFFFFFFu
            << quint64(std::numeric_limits<qint64>::max());
    }
    void a_document_round_trips_whole_through_a_reopen()
    {
        QFETCH(int, kind);
        QFETCH(QByteArray, id);
        QFETCH(QByteArray, json);
        QFETCH(quint32, version);
        QFETCH(quint64, revision);
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.applyIntervalMs = 60'000; // loadDocuments() must not wait for the applier
        const DocumentRecord document{DocumentKind(kind), id, false, version, revision, json};
        const QByteArray key = documentKey(document.kind, id);
        QString error;
        {
            SqliteStore store(options);
            QVERIFY2(store.open(&error), qPrintable(error));
            QVERIFY2(store.commit(documentBatch(document), &error), qPrintable(error));
            const QHash<QByteArray, DocumentRecord> live = loadDocuments(store);
            QCOMPARE(live.size(), 1);
            QCOMPARE(live.value(key), document);
        }
        SqliteStore store(options);
        QVERIFY2(store.open(&error), qPrintable(error));
        const QHash<QByteArray, DocumentRecord> loaded = loadDocuments(store);
        QCOMPARE(loaded.size(), 1);
        QCOMPARE(loaded.value(key), document);
        quint64 highest = 0;
        QVERIFY2(store.documentRevision(&highest, &error), qPrintable(error));
        QCOMPARE(highest, revision);
        QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
    }

    void a_removal_deletes_the_document_and_only_it()
    {
        QTemporaryDir dir;
        const SqliteStoreOptions options = optionsFor(dir);
        QString error;
        {
            SqliteStore store(options);
            QVERIFY2(store.open(&error), qPrintable(error));
            WriteBatch add;
            add.documents.append({DocumentKind::Policy, "1", false, 1, 1, "{\"p\":1}"});
            add.documents.append({DocumentKind::Policy, "2", false, 1, 2, "{\"p\":2}"});
            add.documents.append({DocumentKind::Group, "1", false, 1, 3, "{\"g\":1}"});
            QVERIFY2(store.commit(add, &error), qPrintable(error));
            WriteBatch remove;
            // The json of a removal is not stored, whatever it says.
            remove.documents.append({DocumentKind::Policy, "1", true, 2, 4, "{\"p\":1}"});
            remove.documents.append({DocumentKind::AutoAllow, "never there", true, 0, 5, {}});
            QVERIFY2(store.commit(remove, &error), qPrintable(error));
            const QHash<QByteArray, DocumentRecord> live = loadDocuments(store);
            QCOMPARE(live.size(), 2);
            QVERIFY(live.contains(documentKey(DocumentKind::Policy, "2")));
            QVERIFY(live.contains(documentKey(DocumentKind::Group, "1"))); // same id, other kind
        }
        SqliteStore store(options);
        QVERIFY2(store.open(&error), qPrintable(error));
        const QHash<QByteArray, DocumentRecord> live = loadDocuments(store);
        QCOMPARE(live.size(), 2);
        QCOMPARE(live.value(documentKey(DocumentKind::Policy, "2")).json, "{\"p\":2}");
        quint64 highest = 0;
        QVERIFY2(store.documentRevision(&highest, &error), qPrintable(error));
        QCOMPARE(highest, 5u); // the removals count
    }

    void the_last_change_to_each_document_wins_as_in_a_model_data()
    {
        QTest::addColumn<int>("applyIntervalMs");
        QTest::newRow("applied one by one") << 0;
        QTest::newRow("merged in large transactions") << 60'000;
    }
    void the_last_change_to_each_document_wins_as_in_a_model()
    {
        QFETCH(int, applyIntervalMs);
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.applyIntervalMs = applyIntervalMs;
        QRandomGenerator random(777);
        QHash<QByteArray, DocumentRecord> model;
        quint64 revision = 0;
        QString error;
        {
            SqliteStore store(options);
            QVERIFY2(store.open(&error), qPrintable(error));
            for (int b = 0; b < 300; ++b) {
                WriteBatch batch;
                for (int i = 0; i < 5; ++i) { // often the same document twice in one batch
                    DocumentRecord d;
                    d.kind = DocumentKind(random.bounded(1, 5));
                    d.id = QByteArray::number(random.bounded(8));
                    d.revision = ++revision;
                    d.removed = random.bounded(4) == 0;
                    if (!d.removed) {
                        d.version = quint32(random.bounded(100));
                        d.json = QByteArray(random.bounded(2000), char('a' + b % 26));
                        model.insert(documentKey(d.kind, d.id), d);
                    } else {
                        model.remove(documentKey(d.kind, d.id));
                    }
                    batch.documents.append(d);
                }
                QVERIFY2(store.commit(batch, &error), qPrintable(error));
                if (b % 100 == 50)
                    QCOMPARE(loadDocuments(store), model); // read-your-writes mid-way
            }
            QCOMPARE(loadDocuments(store), model);
        }
        SqliteStore store(options);
        QVERIFY2(store.open(&error), qPrintable(error));
        QCOMPARE(loadDocuments(store), model);
        quint64 highest = 0;
        QVERIFY2(store.documentRevision(&highest, &error), qPrintable(error));
        QCOMPARE(highest, revision);
        QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
    }

    void the_document_revision_never_goes_back()
    {
        QTemporaryDir dir;
        SqliteStore store(optionsFor(dir));
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        quint64 highest = 99;
        QVERIFY2(store.documentRevision(&highest, &error), qPrintable(error));
        QCOMPARE(highest, 0u);
        QVERIFY(
            store.commit(documentBatch({DocumentKind::Policy, "1", false, 1, 40, "{}"}), &error));
        QVERIFY(
            store.commit(documentBatch({DocumentKind::Policy, "2", false, 1, 30, "{}"}), &error));
        QVERIFY2(store.documentRevision(&highest, &error), qPrintable(error));
        QCOMPARE(highest, 40u);
        WriteBatch onlyTriplets; // batches without documents leave it alone
        onlyTriplets.upsertClients.append({"c", 1, 1});
        QVERIFY(store.commit(onlyTriplets, &error));
        QVERIFY2(store.documentRevision(&highest, &error), qPrintable(error));
        QCOMPARE(highest, 40u);
    }

    void a_document_of_unknown_kind_is_refused_and_nothing_committed()
    {
        QTemporaryDir dir;
        SqliteStore store(optionsFor(dir));
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        WriteBatch bad;
        bad.upsertClients.append({"c", 1, 1});
        bad.documents.append({DocumentKind::Policy, "1", false, 1, 1, "{}"});
        bad.documents.append({DocumentKind(9), "1", false, 1, 1, "{}"});
        QVERIFY(!store.commit(bad, &error));
        QVERIFY2(error.contains(u"unknown kind"), qPrintable(error));
        QVERIFY(loadDocuments(store).isEmpty());
        QCOMPARE(store.stats().committedSequence, 0u);
    }

    void audit_pages_by_time_and_filters_by_object()
    {
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.applyIntervalMs = 60'000; // the applier would wait: queries must not
        SqliteStore store(options);
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        // 300 entries at times 1000..1299, committed out of order, 10 per batch; then two
        // more at time 1100, which must come after the first one there (commit order).
        QList<int> times;
        for (int t = 1000; t < 1300; ++t)
            times.append(t);
        std::shuffle(times.begin(), times.end(), *QRandomGenerator::global());
        const auto entry = [](Seconds t, const QByteArray &what) {
            return AuditRecord{quint64(t),
                               t,
                               QByteArray("admin\0\xff", 7),
                               what,
                               "policy:" + QByteArray::number(t % 3),
                               "{\"before\":" + QByteArray::number(t) + '}',
                               QByteArray("{\"after\":\"\0\"}", 13)};
        };
        for (int i = 0; i < times.size(); i += 10) {
            WriteBatch batch;
            for (int k = i; k < i + 10; ++k)
                batch.audit.append(entry(times[k], "policy.update"));
            QVERIFY(store.commit(batch, &error));
        }
        WriteBatch later;
        later.audit.append(entry(1100, "policy.second"));
        later.audit.append(entry(1100, "policy.third"));
        QVERIFY(store.commit(later, &error));

        QList<AuditRecord> seen;
        for (int page = 0; page < 20; ++page) {
            AuditQuery query;
            query.from = 1010;
            query.to = 1250;
            query.offset = page * 40;
            query.limit = 40;
            const QList<AuditRecord> rows = store.audit(query, &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            QVERIFY(rows.size() <= 40);
            seen += rows;
            if (rows.size() < 40)
                break;
        }
        QCOMPARE(seen.size(), 242); // [1010, 1250) and the two extra ones
        for (qsizetype i = 0; i < seen.size(); ++i) {
            const Seconds t = 1010 + i - (i > 91 ? 2 : i > 90 ? 1 : 0);
            QCOMPARE(seen[i].time, t);
        }
        QCOMPARE(seen[90], entry(1100, "policy.update")); // whole, odd bytes included
        QCOMPARE(seen[91].what, "policy.second");
        QCOMPARE(seen[92].what, "policy.third");

        AuditQuery oneObject;
        oneObject.from = 1000;
        oneObject.objectId = "policy:1";
        oneObject.limit = 1000;
        const QList<AuditRecord> ofOne = store.audit(oneObject, &error);
        QCOMPARE(ofOne.size(), 100); // 1100 % 3 == 2: the extra ones are not policy:1
        for (qsizetype i = 1; i < ofOne.size(); ++i)
            QVERIFY(ofOne[i - 1].time < ofOne[i].time);
        for (const AuditRecord &a : ofOne)
            QCOMPARE(a.objectId, "policy:1");
        oneObject.objectId = "policy:2";
        oneObject.from = 1100;
        oneObject.to = 1101;
        QCOMPARE(store.audit(oneObject, &error).size(), 3);
        oneObject.objectId = "group:1";
        QVERIFY(store.audit(oneObject, &error).isEmpty());

        AuditQuery none;
        none.limit = 0;
        QVERIFY(store.audit(none, &error).isEmpty());
        none.from = 2000;
        none.limit = 10;
        QVERIFY(store.audit(none, &error).isEmpty());
        store.close();
        SqliteStore reopened(options);
        QVERIFY2(reopened.open(&error), qPrintable(error));
        QCOMPARE(allAudit(reopened).size(), 302);
    }

    void prune_drops_old_log_entries_including_those_not_yet_applied()
    {
        QTemporaryDir dir;
        SqliteStoreOptions options = optionsFor(dir);
        options.applyIntervalMs = 60'000; // the entries are still queued when prune is asked
        SqliteStore store(options);
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        for (int t = 100; t < 200; t += 10) {
            WriteBatch batch;
            for (int k = t; k < t + 10; ++k) {
                batch.rejections.append({k, "Sender Failed to Retry", {"c", "s", "r"}, 1, k});
                batch.audit.append({quint64(k), k, "admin", "policy.update", "policy:1", {}, {}});
            }
            batch.documents.append(
                {DocumentKind::Policy, QByteArray::number(t), false, 1, quint64(t), "{}"});
            QVERIFY(store.commit(batch, &error));
        }
        QVERIFY2(store.pruneBefore(150, 120, &error), qPrintable(error));
        // commit() goes on while the prune waits for the applier.
        WriteBatch after;
        after.rejections.append({500, "committed after the prune", {"c", "s", "r"}, 1, 500});
        QVERIFY2(store.commit(after, &error), qPrintable(error));
        QVERIFY2(store.flush(kWaitMs, &error), qPrintable(error));

        QList<Seconds> expected;
        for (int t = 150; t < 200; ++t)
            expected.append(t);
        expected.append(500);
        QCOMPARE(allRejectionTimes(store), expected);
        const QList<Seconds> audit = auditTimes(allAudit(store));
        QCOMPARE(audit.size(), 80);
        QCOMPARE(audit.first(), 120);
        QCOMPARE(audit.last(), 199);
        QCOMPARE(loadDocuments(store).size(), 10); // documents are not logs

        QVERIFY2(store.pruneBefore(0, 190, &error), qPrintable(error)); // 0: keep rejections
        QVERIFY2(store.flush(kWaitMs, &error), qPrintable(error));
        QCOMPARE(allRejectionTimes(store).size(), 51);
        QCOMPARE(auditTimes(allAudit(store)).first(), 190);
        QVERIFY2(store.pruneBefore(0, 0, &error), qPrintable(error)); // nothing to do
        QVERIFY2(store.flush(kWaitMs, &error), qPrintable(error));
        QCOMPARE(allRejectionTimes(store).size(), 51);
        QVERIFY2(store.checkIntegrity(&error), qPrintable(error));
        store.close();
        QVERIFY(!store.pruneBefore(1, 1, &error));
        QVERIFY(error.contains(u"not open"));
    }

    void a_large_prune_takes_several_rounds_and_leaves_the_newest()
    {
        QTemporaryDir dir;
        SqliteStore store(optionsFor(dir));
        QString error;
        QVERIFY2(store.open(&error), qPrintable(error));
        // More rows than one retention transaction deletes, in both logs.
        constexpr int kRows = 12'345;
        for (int i = 0; i < kRows; i += 1'000) {
            WriteBatch batch;
            for (int k = i; k < qMin(kRows, i + 1'000); ++k) {
                batch.rejections.append({k, "r", {"c", "s", "r"}, 1, k});
                batch.audit.append({quint64(k), k, "who", "what", "policy:1", {}, {}});
            }
            QVERIFY(store.commit(batch, &error));
        }
        QVERIFY2(store.pruneBefore(kRows - 10, kRows - 20, &error), qPrintable(error));
        QVERIFY2(store.pruneBefore(kRows - 15, kRows - 5, &error), qPrintable(error));
        QVERIFY2(store.flush(kWaitMs, &error), qPrintable(error));
        const QList<Seconds> rejections = allRejectionTimes(store);
        QCOMPARE(rejections.size(), 10); // both requests hold, merged or not
        QCOMPARE(rejections.first(), kRows - 10);
        const QList<Seconds> audit = auditTimes(allAudit(store));
        QCOMPARE(audit.size(), 5);
        QCOMPARE(audit.first(), kRows - 5);
    }
};

QTEST_GUILESS_MAIN(SqliteStoreDocumentsTest)
#include "tst_sqlitestore_documents.moc"
