// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHostAddress>

namespace greygate {

// RFC 7208 §7: the macro language of domain-specs ("%{ir}.%{v}._spf.%{d2}").
class SpfMacro
{
public:
    struct Context
    {
        QByteArray sender;   // <sender>: local-part@domain (postmaster@domain for HELO)
        QByteArray domain;   // <domain>: the domain being evaluated now
        QHostAddress client; // IPv4 for IPv4-mapped addresses
        QByteArray helo;
        QByteArray receiver = QByteArrayLiteral("unknown"); // %{r}
    };

    // Expands spec into *out. False for a syntax error (permerror). With `forDomain`, the
    // result is cut from the left, label by label, to at most 253 bytes (§7.3).
    static bool expand(QByteArrayView spec, const Context &context, QByteArray *out,
                       bool forDomain = true);
    // Syntax only (record parsing): true when expand() could succeed.
    static bool valid(QByteArrayView spec);

    // "1.2.0.192.in-addr.arpa"-style names: dotted IPv4 or nibbles of IPv6, for %{i}.
    static QByteArray dottedAddress(const QHostAddress &address);
    static QByteArray reverseName(const QHostAddress &address); // for PTR lookups
};

} // namespace greygate
