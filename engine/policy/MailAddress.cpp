// SPDX-License-Identifier: GPL-3.0-or-later
#include "MailAddress.h"

#include <QList>

namespace greygate {

namespace {

char lowerAscii(char c)
{
    return (c >= 'A' && c <= 'Z') ? char(c + ('a' - 'A')) : c;
}

bool isControl(uint c)
{
    return c < 0x20 || c == 0x7f;
}

} // namespace

MailAddress::Lowered::Lowered(QByteArrayView raw)
{
    while (!raw.isEmpty() && raw.front() == ' ')
        raw = raw.sliced(1);
    while (!raw.isEmpty() && raw.back() == ' ')
        raw.chop(1);
    if (raw.size() >= 2 && raw.front() == '<' && raw.back() == '>')
        raw = raw.sliced(1, raw.size() - 2);
    if (raw.size() > kMaxAddress)
        return;
    qsizetype at = -1;
    for (qsizetype i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (isControl(uchar(c)) || c == ' ')
            return;
        if (c == '@')
            at = i;
        m_buffer[i] = lowerAscii(c);
    }
    m_size = raw.size();
    m_domainStart = at < 0 ? m_size : at + 1;
    m_valid = true;
}

bool MailAddress::domainWithin(QByteArrayView domain, QByteArrayView parent)
{
    return domain == parent || strictSubdomain(domain, parent);
}

bool MailAddress::strictSubdomain(QByteArrayView domain, QByteArrayView parent)
{
    return !parent.isEmpty() && domain.size() > parent.size() && domain.endsWith(parent) &&
           domain[domain.size() - parent.size() - 1] == '.';
}

QString MailAddress::normalise(QStringView text)
{
    return text.trimmed().toString().toLower();
}

QString MailAddress::domainProblem(QStringView domain)
{
    if (domain.isEmpty())
        return QStringLiteral("empty domain");
    if (domain.toUtf8().size() > kMaxDomain)
        return QStringLiteral("domain longer than 253 bytes");
    for (QStringView label : domain.split(u'.')) {
        if (label.isEmpty())
            return QStringLiteral("empty label in domain");
        if (label.size() > 63)
            return QStringLiteral("domain label longer than 63 characters");
        if (label.front() == u'-' || label.back() == u'-')
            return QStringLiteral("domain label starts or ends with '-'");
        for (QChar c : label) {
            const char16_t u = c.unicode();
            const bool ok = (u >= u'a' && u <= u'z') || (u >= u'A' && u <= u'Z') ||
                            (u >= u'0' && u <= u'9') || u == u'-' || u == u'_' || u >= 0x80;
            if (!ok)
                return QStringLiteral("character '%1' not allowed in a domain").arg(c);
        }
    }
    return {};
}

QString MailAddress::addressProblem(QStringView address)
{
    const qsizetype at = address.lastIndexOf(u'@');
    if (at < 0)
        return QStringLiteral("no '@' in address");
    const QStringView local = address.first(at);
    if (local.isEmpty())
        return QStringLiteral("empty local part");
    if (local.toUtf8().size() > 64)
        return QStringLiteral("local part longer than 64 bytes");
    for (QChar c : local) {
        if (isControl(c.unicode()) || c == u' ' || c == u'<' || c == u'>')
            return QStringLiteral("character not allowed in the local part");
    }
    const QString domain = domainProblem(address.sliced(at + 1));
    return domain;
}

int MailAddress::labelCount(QStringView domain)
{
    return domain.isEmpty() ? 0 : int(domain.count(u'.')) + 1;
}

} // namespace greygate
