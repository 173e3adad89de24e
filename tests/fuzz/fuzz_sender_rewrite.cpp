// SPDX-License-Identifier: GPL-3.0-or-later
// A sender rewriting table as rewriting.set receives it (JSON, up to the first empty line),
// then sender addresses, one per line, as a hostile client sends them. Properties: a table
// that is read writes back as the same table; a compiled one turns every acceptable address
// into a lower-case key within the bound, with a local part and no control byte, and does so
// again identically (no state kept between addresses).
#include "FuzzCheck.h"
#include "greylist/SenderRewriter.h"
#include "greylist/TripletNormaliser.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <cstdint>

using namespace greygate;

namespace {

constexpr qsizetype kMaxBytes = TripletNormaliser::kMaxFieldBytes;
constexpr int kMaxAddresses = 16;

bool keyLike(const QByteArray &key)
{
    // The local part may hold '@'s of its own; it must not be empty.
    if (key.isEmpty() || key.size() > kMaxBytes || key.lastIndexOf('@') == 0)
        return false;
    for (char c : key)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || (c >= 'A' && c <= 'Z'))
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    const qsizetype split = input.indexOf("\n\n");
    if (split < 0)
        return 0;
    const QJsonDocument doc = QJsonDocument::fromJson(input.first(split));
    if (!doc.isObject())
        return 0;
    QString error;
    const std::optional<SenderRewriteRules> rules =
        SenderRewriteRules::fromJson(doc.object(), &error);
    if (!rules) {
        FUZZ_CHECK(!error.isEmpty());
        return 0;
    }
    const std::optional<SenderRewriteRules> back =
        SenderRewriteRules::fromJson(rules->toJson(), &error);
    FUZZ_CHECK(back.has_value() && *back == *rules);
    const std::shared_ptr<const SenderRewriter> rewriter = SenderRewriter::compile(*rules, &error);
    if (!rewriter) {
        FUZZ_CHECK(!error.isEmpty());
        return 0;
    }
    const QList<QByteArray> lines = input.sliced(split + 2).split('\n');
    for (qsizetype i = 0; i < lines.size() && i < kMaxAddresses; ++i) {
        const QByteArray address = lines[i].toLower();
        const qsizetype at = address.lastIndexOf('@');
        if (at <= 0 || !TripletNormaliser::acceptableField(address))
            continue;
        const QByteArrayView local = QByteArrayView(address).first(at);
        const QByteArrayView domain = QByteArrayView(address).sliced(at + 1);
        SenderRewriteTrace trace;
        const QByteArray key = rewriter->rewrite(local, domain, kMaxBytes, &trace);
        FUZZ_CHECK(keyLike(key));
        FUZZ_CHECK(rewriter->rewrite(local, domain, kMaxBytes) == key);
    }
    return 0;
}
