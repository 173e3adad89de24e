// SPDX-License-Identifier: GPL-3.0-or-later
#include "PolicyFieldValidator.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QRegularExpression>

namespace greygate {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("greygate::PolicyFieldValidator", text);
}

QString quoted(const QString &text)
{
    QString t = text.left(80);
    for (QChar &c : t) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            c = u'?';
    }
    return u'"' + t + u'"';
}

bool decimalWithoutLeadingZero(const QString &s, int max, int *value)
{
    static const QRegularExpression digits(QStringLiteral("^(0|[1-9][0-9]{0,2})$"));
    if (!digits.match(s).hasMatch())
        return false;
    *value = s.toInt();
    return *value <= max;
}

} // namespace

QString PolicyFieldValidator::cidrError(const QString &text)
{
    const QString t = text;
    if (t.isEmpty())
        return tr("empty: enter a network such as 192.0.2.0/24");
    if (t.trimmed() != t || t.contains(u'[') || t.contains(u'%'))
        return tr("%1 is not a CIDR (no spaces, brackets or zones)").arg(quoted(t));
    const qsizetype slash = t.indexOf(u'/');
    const QString addressText = slash < 0 ? t : t.left(slash);
    QHostAddress address;
    if (!address.setAddress(addressText))
        return tr("%1 is not a CIDR (bad address)").arg(quoted(t));
    const bool v4 = address.protocol() == QAbstractSocket::IPv4Protocol;
    if (v4) {
        const QStringList octets = addressText.split(u'.');
        int ignored = 0;
        if (octets.size() != 4)
            return tr("%1 is not a CIDR (an IPv4 address has four parts)").arg(quoted(t));
        for (const QString &o : octets) {
            if (!decimalWithoutLeadingZero(o, 255, &ignored))
                return tr("%1 is not a CIDR (leading zeros could mean octal)").arg(quoted(t));
        }
    }
    const int maxPrefix = v4 ? 32 : 128;
    int prefix = maxPrefix;
    if (slash >= 0 && !decimalWithoutLeadingZero(t.mid(slash + 1), maxPrefix, &prefix))
        return tr("%1 is not a CIDR (the prefix must be 0 to %2)").arg(quoted(t)).arg(maxPrefix);
    // Host bits set: refused, not masked (docs/policies.md: quietly widening a range is the
    // worse mistake).
    const QHostAddress network =
        QHostAddress::parseSubnet(addressText + u'/' + QString::number(prefix)).first;
    if (!network.isEqual(address, QHostAddress::StrictConversion))
        return tr("%1 is not a CIDR (host bits set; the network is %2/%3)")
            .arg(quoted(t), network.toString())
            .arg(prefix);
    return {};
}

QString PolicyFieldValidator::domainError(const QString &text)
{
    if (text.isEmpty())
        return tr("empty: enter a domain such as partner.example");
    if (text.size() > 253)
        return tr("%1 is longer than 253 characters").arg(quoted(text));
    static const QRegularExpression label(
        QStringLiteral("^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"));
    const QStringList labels = text.split(u'.');
    for (const QString &l : labels) {
        if (!label.match(l).hasMatch())
            return tr("%1 is not a domain (labels are letters, digits and inner hyphens)")
                .arg(quoted(text));
    }
    return {};
}

QString PolicyFieldValidator::addressError(const QString &text)
{
    if (text.isEmpty())
        return tr("empty: enter an address such as user@partner.example");
    if (text.toUtf8().size() > 320)
        return tr("%1 is longer than 320 bytes").arg(quoted(text));
    const qsizetype at = text.lastIndexOf(u'@');
    if (at <= 0)
        return tr("%1 is not an address (user@domain)").arg(quoted(text));
    const QString local = text.left(at);
    for (const QChar c : local) {
        if (c.unicode() <= 0x20 || c.unicode() == 0x7f)
            return tr("%1 is not an address (spaces or control characters)").arg(quoted(text));
    }
    if (const QString d = domainError(text.mid(at + 1)); !d.isEmpty())
        return tr("%1 is not an address: %2").arg(quoted(text), d);
    return {};
}

QString PolicyFieldValidator::memberError(const QString &text)
{
    if (text.startsWith(QLatin1String("@")))
        return domainError(text.mid(1));
    if (text.startsWith(QLatin1String("*.")))
        return domainError(text.mid(2));
    if (text.contains(u'@'))
        return addressError(text);
    if (text.contains(u'/') || text.contains(u':') ||
        QRegularExpression(QStringLiteral("^[0-9.]+$")).match(text).hasMatch())
        return cidrError(text);
    return tr("%1 is not a group member: use user@domain, @domain, *.domain or a network")
        .arg(quoted(text));
}

QString PolicyFieldValidator::narrativeError(const QString &text)
{
    if (text.size() > 1000)
        return tr("the narrative is %1 characters long; at most 1,000").arg(text.size());
    return {};
}

} // namespace greygate
