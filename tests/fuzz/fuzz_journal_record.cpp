// SPDX-License-Identifier: GPL-3.0-or-later
// The store's journal decoder on hostile bytes (a damaged disk, a torn write). Property: it
// never crashes, and whatever it accepts encodes back to a payload it decodes the same way.
#include "FuzzCheck.h"
#include "store/JournalCodec.h"

#include <cstdint>

using namespace greygate;

namespace {

QByteArray fingerprint(const WriteBatch &b)
{
    QByteArray out;
    for (const auto &t : b.upsertTriplets)
        out += t.key.joined() + '/' + QByteArray::number(t.state.firstSeen) + '/' +
               QByteArray::number(t.state.lastSeen) + '/' + QByteArray::number(t.state.attempts) +
               ';';
    for (const auto &k : b.removeTriplets)
        out += "-" + k + ';';
    for (const auto &c : b.upsertClients)
        out += c.client + '/' + QByteArray::number(c.passes) + ';';
    for (const auto &k : b.removeClients)
        out += "~" + k + ';';
    for (const auto &r : b.rejections)
        out += r.reason + '/' + r.key.joined() + ';';
    // Length-prefixed from here on: documents and audit entries are arbitrary bytes.
    const auto field = [&out](const QByteArray &bytes) {
        out += QByteArray::number(bytes.size()) + ':' + bytes;
    };
    for (const auto &d : b.documents) {
        out += "D" + QByteArray::number(int(d.kind)) + (d.removed ? "r" : "u") +
               QByteArray::number(d.version) + '/' + QByteArray::number(d.revision) + '/';
        field(d.id);
        field(d.json);
    }
    for (const auto &a : b.audit) {
        out += "A" + QByteArray::number(a.revision) + '/' + QByteArray::number(a.time) + '/';
        field(a.who);
        field(a.what);
        field(a.objectId);
        field(a.beforeJson);
        field(a.afterJson);
    }
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const auto *bytes = reinterpret_cast<const char *>(data);
    if (size >= size_t(JournalCodec::kHeaderSize)) {
        const auto header = JournalCodec::parseHeader(bytes);
        const qsizetype rest = qsizetype(size) - JournalCodec::kHeaderSize;
        if (header.length <= quint64(rest))
            (void)JournalCodec::verify(header, bytes + JournalCodec::kHeaderSize);
    }
    const auto batch = JournalCodec::decode(bytes, qsizetype(size));
    if (!batch)
        return 0;
    QByteArray record = JournalCodec::encode(*batch);
    JournalCodec::seal(record, 7);
    const auto header = JournalCodec::parseHeader(record.constData());
    FUZZ_CHECK(header.length == quint64(record.size() - JournalCodec::kHeaderSize));
    FUZZ_CHECK(JournalCodec::verify(header, record.constData() + JournalCodec::kHeaderSize));
    const auto again = JournalCodec::decode(record.constData() + JournalCodec::kHeaderSize,
                                            record.size() - JournalCodec::kHeaderSize);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(fingerprint(*again) == fingerprint(*batch));
    return 0;
}
