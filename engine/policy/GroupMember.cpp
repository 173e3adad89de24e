// SPDX-License-Identifier: GPL-3.0-or-later
#include "GroupMember.h"

#include "MailAddress.h"

namespace greygate {

namespace {

QString shown(QStringView text)
{
    QString s = text.first(qMin<qsizetype>(text.size(), 80)).toString();
    for (QChar &c : s) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            c = u'?';
    }
    return u'"' + s + (text.size() > 80 ? QStringLiteral("...\"") : QStringLiteral("\""));
}

} // namespace

std::optional<GroupMember> GroupMember::parse(QStringView text, QString *error)
{
    const QString t = MailAddress::normalise(text);
    GroupMember m;
    QString problem;
    if (t.startsWith(u'@')) {
        m.kind = Kind::Domain;
        m.value = t.sliced(1);
        problem = MailAddress::domainProblem(m.value);
    } else if (t.startsWith(QStringLiteral("*."))) {
        m.kind = Kind::Subdomains;
        m.value = t.sliced(2);
        problem = MailAddress::domainProblem(m.value);
    } else if (t.contains(u'@')) {
        m.kind = Kind::Address;
        m.value = t;
        problem = MailAddress::addressProblem(m.value);
    } else if (!t.isEmpty() && (t.contains(u'/') || t.contains(u':') || t.front().isDigit())) {
        m.kind = Kind::Network;
        QString cidrError;
        const std::optional<Cidr> cidr = Cidr::parse(QStringView(t), &cidrError);
        if (!cidr) {
            if (error)
                *error = cidrError;
            return std::nullopt;
        }
        m.network = *cidr;
    } else {
        problem = QStringLiteral("not an address, @domain, *.domain or CIDR");
    }
    if (!problem.isEmpty()) {
        if (error)
            *error = shown(text) + QStringLiteral(" is not a group member: ") + problem;
        return std::nullopt;
    }
    return m;
}

QString GroupMember::text() const
{
    switch (kind) {
    case Kind::Address:
        return value;
    case Kind::Domain:
        return u'@' + value;
    case Kind::Subdomains:
        return QStringLiteral("*.") + value;
    case Kind::Network:
        return network.toString();
    }
    return {};
}

} // namespace greygate
