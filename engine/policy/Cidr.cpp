// SPDX-License-Identifier: GPL-3.0-or-later
#include "Cidr.h"

namespace greygate {

namespace {

// Mask for the first n bits (0..64) of a 64-bit half.
quint64 highBits(int n)
{
    if (n <= 0)
        return 0;
    if (n >= 64)
        return ~quint64(0);
    return ~quint64(0) << (64 - n);
}

void setError(QString *error, const QString &message)
{
    if (error)
        *error = message;
}

QString quoted(QByteArrayView text)
{
    // Bounded and printable: the text may be anything a hostile document holds.
    QString shown = QString::fromUtf8(text.first(qMin<qsizetype>(text.size(), 64)));
    for (QChar &c : shown) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            c = u'?';
    }
    if (text.size() > 64)
        shown += QStringLiteral("...");
    return u'"' + shown + u'"';
}

} // namespace

IpAddress Cidr::masked(const IpAddress &address, int prefix)
{
    IpAddress out = address;
    const int bits128 = address.v4 ? 96 + prefix : prefix;
    out.hi &= highBits(bits128);
    out.lo &= highBits(bits128 - 64);
    return out;
}

std::optional<Cidr> Cidr::parse(QByteArrayView text, QString *error)
{
    const qsizetype slash = text.indexOf('/');
    const QByteArrayView addressText = slash < 0 ? text : text.first(slash);
    const std::optional<IpAddress> address = IpAddress::parse(addressText);
    if (!address) {
        setError(error, quoted(text) + QStringLiteral(" is not a CIDR (bad address)"));
        return std::nullopt;
    }
    const bool mappedForm = address->v4 && addressText.contains(':');
    int prefix = mappedForm ? 128 : address->bits();
    if (slash >= 0) {
        const QByteArrayView digits = text.sliced(slash + 1);
        bool digitsOk = !digits.isEmpty() && digits.size() <= 3 &&
                        (digits.size() == 1 || digits.front() != '0');
        prefix = 0;
        // Stop at the first bad character: a long run of digits must not overflow prefix
        // (undefined behaviour, found by fuzz_cidr).
        for (qsizetype i = 0; digitsOk && i < digits.size(); ++i) {
            const char c = digits[i];
            if (c < '0' || c > '9')
                digitsOk = false;
            else
                prefix = prefix * 10 + (c - '0');
        }
        const int maxPrefix = (address->v4 && !mappedForm) ? 32 : 128;
        if (!digitsOk || prefix > maxPrefix) {
            setError(error,
                     quoted(text) +
                         QStringLiteral(" is not a CIDR (prefix must be 0..%1)").arg(maxPrefix));
            return std::nullopt;
        }
    }
    if (mappedForm) {
        if (prefix < 96) {
            setError(error, quoted(text) + QStringLiteral(" is not a CIDR (an IPv4-mapped "
                                                          "network needs a prefix of /96 or "
                                                          "longer)"));
            return std::nullopt;
        }
        prefix -= 96;
    }
    Cidr cidr;
    cidr.prefix = prefix;
    cidr.network = masked(*address, prefix);
    if (!(cidr.network == *address)) {
        setError(error, quoted(text) + QStringLiteral(" is not a CIDR (host bits set; the "
                                                      "network is %1)")
                                           .arg(cidr.toString()));
        return std::nullopt;
    }
    return cidr;
}

std::optional<Cidr> Cidr::parse(QStringView text, QString *error)
{
    if (text.size() > 64) {
        QString shown = text.first(64).toString();
        setError(error, u'"' + shown + QStringLiteral("...\" is not a CIDR (too long)"));
        return std::nullopt;
    }
    const QByteArray bytes = text.toUtf8();
    return parse(QByteArrayView(bytes), error);
}

bool Cidr::contains(const IpAddress &address) const
{
    return address.v4 == network.v4 && masked(address, prefix) == network;
}

QString Cidr::toString() const
{
    return network.toString() + u'/' + QString::number(prefix);
}

} // namespace greygate
