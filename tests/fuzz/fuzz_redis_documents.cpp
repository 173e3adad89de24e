// SPDX-License-Identifier: GPL-3.0-or-later
// The policy documents as a proxy reads them back from the shared Redis (HGETALL gg:docs):
// written by other hosts, so untrusted bytes. Each input line is one hash entry, field and
// value split at the first TAB; the entries go through RedisStore::parseDocument and then,
// as RedisPolicySync does on a reload, through a RedisDocumentSnapshot into
// PolicyState::load. Properties: an entry that parses writes back (as RedisStore writes it)
// to the same field and value; a refused load says why and changes nothing; an accepted one
// gives a policy set whose export import accepts.
#include "FuzzCheck.h"
#include "policy/PolicyJson.h"
#include "policyd/PolicyState.h"
#include "store/redis/RedisDocumentSnapshot.h"
#include "store/redis/RedisStore.h"

#include <QString>
#include <cstdint>

using namespace greygate;

namespace {

constexpr int kMaxEntries = 64;

void checkEntry(QByteArrayView field, QByteArrayView value, const DocumentRecord &d)
{
    // Numbers with a sign or leading zeros parse too; compare with the canonical form.
    const QByteArray f = QByteArray::number(int(d.kind)) + ':' + d.id;
    const QByteArray v =
        QByteArray::number(d.version) + ':' + QByteArray::number(d.revision) + ':' + d.json;
    DocumentRecord again;
    FUZZ_CHECK(RedisStore::parseDocument(f, v, &again));
    FUZZ_CHECK(again == d);
    FUZZ_CHECK(field.endsWith(d.id) && value.endsWith(d.json));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024)
        return 0;
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    QList<DocumentRecord> records;
    quint64 revision = 0;
    qsizetype pos = 0;
    for (int n = 0; pos < input.size() && n < kMaxEntries; ++n) {
        qsizetype end = input.indexOf('\n', pos);
        if (end < 0)
            end = input.size();
        const QByteArrayView line = input.sliced(pos, end - pos);
        pos = end + 1;
        const qsizetype tab = line.indexOf('\t');
        if (tab < 0)
            continue;
        DocumentRecord d;
        if (!RedisStore::parseDocument(line.first(tab), line.sliced(tab + 1), &d))
            continue;
        checkEntry(line.first(tab), line.sliced(tab + 1), d);
        revision = std::max(revision, d.revision);
        records.append(std::move(d));
    }

    RedisDocumentSnapshot snapshot(records, revision);
    PolicyState state;
    const QByteArray before = PolicyJson::write(state.set().document(), QJsonDocument::Compact);
    QString error;
    if (!state.load(snapshot, &error)) {
        FUZZ_CHECK(!error.isEmpty());
        FUZZ_CHECK(PolicyJson::write(state.set().document(), QJsonDocument::Compact) == before);
        return 0;
    }
    const QByteArray exported = PolicyJson::write(state.set().document(), QJsonDocument::Compact);
    QString why;
    const auto reparsed = PolicyJson::parse(exported, &why);
    if (!reparsed)
        std::fprintf(stderr, "export refused on import: %s\n", qPrintable(why));
    FUZZ_CHECK(reparsed.has_value());
    return 0;
}
