// SPDX-License-Identifier: GPL-3.0-or-later
#include "SenderRewriteRule.h"

namespace greygate {

namespace {

struct KindName
{
    SenderRewriteKind kind;
    QStringView name;
};

constexpr KindName kKinds[] = {
    {SenderRewriteKind::Srs, u"srs"},         {SenderRewriteKind::Batv, u"batv"},
    {SenderRewriteKind::PlusTag, u"plusTag"}, {SenderRewriteKind::Verp, u"verp"},
    {SenderRewriteKind::Regex, u"regex"},
};

} // namespace

QString SenderRewriteRule::kindName(SenderRewriteKind kind)
{
    for (const KindName &k : kKinds) {
        if (k.kind == kind)
            return k.name.toString();
    }
    return QString();
}

std::optional<SenderRewriteKind> SenderRewriteRule::kindFromName(QStringView name)
{
    for (const KindName &k : kKinds) {
        if (k.name == name)
            return k.kind;
    }
    return std::nullopt;
}

QJsonObject SenderRewriteRule::toJson() const
{
    QJsonObject o{{QStringLiteral("id"), id},
                  {QStringLiteral("kind"), kindName(kind)},
                  {QStringLiteral("description"), description},
                  {QStringLiteral("enabled"), enabled}};
    if (kind == SenderRewriteKind::PlusTag)
        o.insert(QStringLiteral("separators"), QString::fromLatin1(separators));
    if (kind == SenderRewriteKind::Regex) {
        o.insert(QStringLiteral("pattern"), pattern);
        o.insert(QStringLiteral("replacement"), replacement);
        o.insert(QStringLiteral("scope"), scope == SenderRewriteScope::Address
                                              ? QStringLiteral("address")
                                              : QStringLiteral("local"));
    }
    return o;
}

} // namespace greygate
