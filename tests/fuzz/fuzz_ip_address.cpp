// SPDX-License-Identifier: GPL-3.0-or-later
// IP address parsing on hostile bytes (client_address from Postfix, the SMTP peer,
// XCLIENT/PROXY, policy source ranges). Properties: an accepted address prints in its
// canonical form (RFC 5952 for IPv6), which parses back to the same address and prints the
// same; and Qt's own parser (QHostAddress, a second opinion) reads the same 128 bits from
// the input, so the strict parser never accepts what a reference would read differently.
#include "FuzzCheck.h"
#include "policy/IpAddress.h"

#include <QHostAddress>
#include <QString>
#include <cstdint>

using namespace greygate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const std::optional<IpAddress> ip = IpAddress::parse(bytes);
    if (!ip)
        return 0;
    if (ip->v4)
        FUZZ_CHECK(ip->hi == 0 && (ip->lo >> 32) == 0xffffU);
    FUZZ_CHECK(ip->bits() == (ip->v4 ? 32 : 128));

    const QString text = ip->toString();
    const QByteArray latin1 = text.toLatin1();
    const std::optional<IpAddress> again = IpAddress::parse(latin1);
    FUZZ_CHECK(again.has_value() && *again == *ip);
    FUZZ_CHECK(again->toString() == text);

    QHostAddress reference;
    FUZZ_CHECK(reference.setAddress(QString::fromLatin1(bytes)));
    if (ip->v4 && reference.protocol() == QAbstractSocket::IPv4Protocol) {
        // Qt has no mapped form for 0.0.0.0 (its "any" address): compare the 32 bits.
        bool ok = false;
        FUZZ_CHECK(reference.toIPv4Address(&ok) == quint32(ip->lo) && ok);
        return 0;
    }
    const Q_IPV6ADDR v6 = reference.toIPv6Address();
    quint64 hi = 0, lo = 0;
    for (int i = 0; i < 8; ++i) {
        hi = (hi << 8) | v6[i];
        lo = (lo << 8) | v6[8 + i];
    }
    FUZZ_CHECK(hi == ip->hi && lo == ip->lo);
    return 0;
}
