// SPDX-License-Identifier: GPL-3.0-or-later
// Policy documents (--policies=FILE, imports, the control API) on hostile bytes. Property:
// a document is accepted or refused with a message; an accepted one writes out to JSON that
// parses again to the same JSON (export round-trips).
#include "FuzzCheck.h"
#include "policy/PolicyJson.h"

#include <cstdint>

using namespace greygate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QString error;
    const auto doc = PolicyJson::parse(
        QByteArrayView(reinterpret_cast<const char *>(data), qsizetype(size)), &error);
    if (!doc) {
        FUZZ_CHECK(!error.isEmpty());
        return 0;
    }
    const QByteArray written = PolicyJson::write(*doc, QJsonDocument::Compact);
    QString again;
    const auto reparsed = PolicyJson::parse(written, &again);
    FUZZ_CHECK(reparsed.has_value());
    FUZZ_CHECK(PolicyJson::write(*reparsed, QJsonDocument::Compact) == written);
    return 0;
}
