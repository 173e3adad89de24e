// SPDX-License-Identifier: GPL-3.0-or-later
#include "Specifier.h"

#include <array>

namespace greygate {

namespace {

struct Name
{
    SpecifierType type;
    QStringView name;
};

constexpr std::array kNames{
    Name{SpecifierType::Everyone, u"everyone"}, Name{SpecifierType::Internal, u"internal"},
    Name{SpecifierType::External, u"external"}, Name{SpecifierType::Domain, u"domain"},
    Name{SpecifierType::Group, u"group"},       Name{SpecifierType::Address, u"address"},
};

} // namespace

QString Specifier::typeName(SpecifierType type)
{
    for (const Name &n : kNames) {
        if (n.type == type)
            return n.name.toString();
    }
    return {};
}

bool Specifier::typeFromName(QStringView name, SpecifierType *type)
{
    for (const Name &n : kNames) {
        if (n.name == name) {
            *type = n.type;
            return true;
        }
    }
    return false;
}

QString Specifier::describe() const
{
    switch (type) {
    case SpecifierType::Everyone:
        return QStringLiteral("everyone");
    case SpecifierType::Internal:
        return QStringLiteral("internal addresses");
    case SpecifierType::External:
        return QStringLiteral("external addresses");
    case SpecifierType::Domain:
        return QStringLiteral("domain ") + value +
               (includeSubdomains ? QStringLiteral(" (and subdomains)") : QString());
    case SpecifierType::Group:
        return QStringLiteral("group %1").arg(groupId);
    case SpecifierType::Address:
        return QStringLiteral("address ") + value;
    }
    return {};
}

} // namespace greygate
