// SPDX-License-Identifier: GPL-3.0-or-later
// CIDR parsing on hostile bytes. Property: an accepted range contains its own network
// address, its canonical form parses back to itself, and it is refused or accepted the same way
// from bytes and from a string.
#include "FuzzCheck.h"
#include "policy/Cidr.h"

#include <QString>
#include <cstdint>

using namespace greygate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    QString error;
    const auto fromBytes = Cidr::parse(bytes, &error);
    if (!fromBytes)
        FUZZ_CHECK(!error.isEmpty());
    const QString text = QString::fromLatin1(bytes);
    const auto fromText = Cidr::parse(QStringView(text));
    FUZZ_CHECK(fromBytes.has_value() == fromText.has_value());
    if (fromBytes) {
        FUZZ_CHECK(fromBytes->contains(fromBytes->network));
        const auto canonical = Cidr::parse(QStringView(fromBytes->toString()));
        FUZZ_CHECK(canonical.has_value() && *canonical == *fromBytes);
    }
    return 0;
}
