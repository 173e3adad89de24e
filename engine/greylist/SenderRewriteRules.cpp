// SPDX-License-Identifier: GPL-3.0-or-later
#include "SenderRewriteRules.h"

#include <QJsonArray>

namespace greygate {

namespace {

SenderRewriteRule builtIn(const char *id, SenderRewriteKind kind, const char *description)
{
    SenderRewriteRule r;
    r.id = QLatin1String(id);
    r.kind = kind;
    r.description = QString::fromUtf8(description);
    return r;
}

// One rule's object; false with *error naming the field. Unknown fields are refused: a
// misspelt "patern" must not silently leave a rule without its pattern.
bool ruleFrom(const QJsonObject &o, const QString &path, SenderRewriteRule *out, QString *error)
{
    const auto fail = [&](QStringView field, const QString &why) {
        *error = path + u'.' + field + u": " + why;
        return false;
    };
    static const QStringList kKnown = {QStringLiteral("id"),          QStringLiteral("kind"),
                                       QStringLiteral("description"), QStringLiteral("enabled"),
                                       QStringLiteral("separators"),  QStringLiteral("pattern"),
                                       QStringLiteral("replacement"), QStringLiteral("scope")};
    for (auto it = o.begin(); it != o.end(); ++it) {
        if (!kKnown.contains(it.key()))
            return fail(it.key().left(40), QStringLiteral("unknown field"));
    }
    const auto text = [&](QStringView field, qsizetype max, bool required, QString *value) {
        const QJsonValue v = o.value(field);
        if (v.isUndefined()) {
            if (required)
                return fail(field, QStringLiteral("missing"));
            return true;
        }
        if (!v.isString())
            return fail(field, QStringLiteral("not a string"));
        if (v.toString().size() > max)
            return fail(field, QStringLiteral("longer than %1 characters").arg(max));
        *value = v.toString();
        return true;
    };
    QString kind, separators, scope;
    if (!text(u"id", SenderRewriteRules::kMaxId, true, &out->id) ||
        !text(u"kind", 16, true, &kind) ||
        !text(u"description", SenderRewriteRules::kMaxDescription, false, &out->description) ||
        !text(u"separators", SenderRewriteRules::kMaxSeparators, false, &separators) ||
        !text(u"pattern", SenderRewriteRules::kMaxPattern, false, &out->pattern) ||
        !text(u"replacement", SenderRewriteRules::kMaxReplacement, false, &out->replacement) ||
        !text(u"scope", 16, false, &scope))
        return false;
    const std::optional<SenderRewriteKind> k = SenderRewriteRule::kindFromName(kind);
    if (!k)
        return fail(u"kind", QStringLiteral("not one of srs, batv, plusTag, verp, regex"));
    out->kind = *k;
    if (const QJsonValue enabled = o.value(u"enabled"); !enabled.isUndefined()) {
        if (!enabled.isBool())
            return fail(u"enabled", QStringLiteral("not true or false"));
        out->enabled = enabled.toBool();
    }
    const bool regex = out->kind == SenderRewriteKind::Regex;
    if (!regex && (o.contains(u"pattern") || o.contains(u"replacement") || o.contains(u"scope")))
        return fail(o.contains(u"pattern") ? u"pattern"
                    : o.contains(u"scope") ? u"scope"
                                           : u"replacement",
                    QStringLiteral("only a regex rule has one"));
    if (out->kind != SenderRewriteKind::PlusTag && o.contains(u"separators"))
        return fail(u"separators", QStringLiteral("only a plusTag rule has separators"));
    if (out->kind == SenderRewriteKind::PlusTag) {
        for (const QChar c : std::as_const(separators)) {
            if (c.unicode() < 0x21 || c.unicode() > 0x7e)
                return fail(u"separators", QStringLiteral("printable ASCII characters only"));
        }
        out->separators = o.contains(u"separators") ? separators.toLatin1() : QByteArray("+");
    }
    if (regex) {
        if (scope.isEmpty() || scope == u"local")
            out->scope = SenderRewriteScope::LocalPart;
        else if (scope == u"address")
            out->scope = SenderRewriteScope::Address;
        else
            return fail(u"scope", QStringLiteral("not \"local\" or \"address\""));
        if (!o.contains(u"pattern"))
            return fail(u"pattern", QStringLiteral("missing"));
    }
    return true;
}

} // namespace

SenderRewriteRules SenderRewriteRules::defaults()
{
    SenderRewriteRules t;
    t.rules = {
        builtIn("srs", SenderRewriteKind::Srs,
                "SRS forwarding: SRS0=hash=tt=domain=user@forwarder (and SRS1) becomes "
                "user@domain"),
        builtIn("batv", SenderRewriteKind::Batv,
                "BATV bounce tags: prvs=tag=user, msprvs1=tag=user, prvs=user/tag, "
                "btv1==tag==user become user"),
        builtIn("plus-tag", SenderRewriteKind::PlusTag,
                "Sub-addresses: user+anything becomes user"),
        builtIn("verp", SenderRewriteKind::Verp,
                "VERP and list numbers: every number that is a word of its own becomes #"),
    };
    t.rules[2].separators = QByteArrayLiteral("+");
    return t;
}

QJsonObject SenderRewriteRules::toJson() const
{
    QJsonArray list;
    for (const SenderRewriteRule &r : rules)
        list.append(r.toJson());
    return QJsonObject{{QStringLiteral("version"), qint64(version)},
                       {QStringLiteral("rules"), list}};
}

std::optional<SenderRewriteRules> SenderRewriteRules::fromJson(const QJsonObject &object,
                                                               QString *error)
{
    SenderRewriteRules t;
    const QJsonValue version = object.value(u"version");
    if (!version.isUndefined()) {
        const double v = version.toDouble(-1);
        if (!version.isDouble() || v < 0 || v > 4294967295.0 || v != double(qint64(v))) {
            *error = QStringLiteral("version: not a whole number from 0");
            return std::nullopt;
        }
        t.version = quint32(v);
    }
    const QJsonValue rules = object.value(u"rules");
    if (!rules.isArray()) {
        *error = QStringLiteral("rules: missing, or not a list");
        return std::nullopt;
    }
    const QJsonArray list = rules.toArray();
    if (list.size() > kMaxRules) {
        *error = QStringLiteral("rules: more than %1 rules").arg(kMaxRules);
        return std::nullopt;
    }
    for (qsizetype i = 0; i < list.size(); ++i) {
        const QString path = QStringLiteral("rules[%1]").arg(i);
        if (!list[i].isObject()) {
            *error = path + u": not an object";
            return std::nullopt;
        }
        SenderRewriteRule r;
        if (!ruleFrom(list[i].toObject(), path, &r, error))
            return std::nullopt;
        t.rules.append(std::move(r));
    }
    return t;
}

} // namespace greygate
