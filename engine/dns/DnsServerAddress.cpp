// SPDX-License-Identifier: GPL-3.0-or-later
#include "DnsServerAddress.h"

#include <QFile>

namespace greygate {

std::optional<DnsServerAddress> DnsServerAddress::parse(QStringView text, QString *error)
{
    const auto bad = [error](const QString &why) {
        if (error)
            *error = why;
        return std::nullopt;
    };
    text = text.trimmed();
    QStringView host = text;
    QStringView port;
    if (text.startsWith(u'[')) {
        const qsizetype close = text.indexOf(u']');
        if (close < 0)
            return bad(QStringLiteral("missing ] after the IPv6 address"));
        host = text.sliced(1, close - 1);
        const QStringView rest = text.sliced(close + 1);
        if (!rest.isEmpty()) {
            if (!rest.startsWith(u':'))
                return bad(QStringLiteral("expected :PORT after ]"));
            port = rest.sliced(1);
        }
    } else if (text.count(u':') == 1) {
        const qsizetype colon = text.indexOf(u':');
        host = text.first(colon);
        port = text.sliced(colon + 1);
    }
    DnsServerAddress out;
    if (!out.host.setAddress(host.toString()))
        return bad(QStringLiteral("'%1' is not an IP address (write HOST:PORT with an address, "
                                  "e.g. 127.0.0.1:53 or [::1]:53)")
                       .arg(host));
    if (!port.isNull()) {
        bool ok = false;
        const uint p = port.toUInt(&ok);
        if (!ok || p == 0 || p > 65535)
            return bad(QStringLiteral("'%1' is not a port (1..65535)").arg(port));
        out.port = quint16(p);
    }
    return out;
}

std::optional<DnsServerAddress> DnsServerAddress::fromResolvConf(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    // resolv.conf is small; a bounded read keeps a strange file from costing memory.
    const QByteArray content = file.read(64 * 1024);
    for (const QByteArray &raw : content.split('\n')) {
        const QList<QByteArray> words = raw.simplified().split(' ');
        if (words.size() < 2 || words[0] != "nameserver")
            continue;
        DnsServerAddress out;
        QString address = QString::fromLatin1(words[1]);
        address = address.left(address.indexOf(u'%') < 0 ? address.size() : address.indexOf(u'%'));
        if (out.host.setAddress(address))
            return out;
    }
    return std::nullopt;
}

QString DnsServerAddress::toString() const
{
    const QString h = host.toString();
    return (host.protocol() == QAbstractSocket::IPv6Protocol ? u'[' + h + u']' : h) + u':' +
           QString::number(port);
}

} // namespace greygate
