// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QHostAddress>
#include <QString>
#include <optional>

namespace greygate {

// The recursive resolver Greygate asks: --dns-server=HOST:PORT, or the first nameserver of
// /etc/resolv.conf on port 53.
struct DnsServerAddress
{
    QHostAddress host;
    quint16 port = 53;

    // "127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:5353". Addresses only, never names
    // (resolving the resolver would need a resolver). nullopt with *error set otherwise.
    static std::optional<DnsServerAddress> parse(QStringView text, QString *error = nullptr);
    // The first usable "nameserver" line of a resolv.conf; nullopt when there is none.
    static std::optional<DnsServerAddress>
    fromResolvConf(const QString &path = QStringLiteral("/etc/resolv.conf"));
    QString toString() const;
};

} // namespace greygate
