// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <optional>

namespace greygate {

// What a sender rewriting rule does to the envelope sender (docs/rewriting.md). The built-in
// kinds are compiled code (the hot path's default table); only Regex costs a QString.
enum class SenderRewriteKind : quint8
{
    Srs,     // SRS0=hash=tt=domain=user@forwarder (and SRS1) -> user@domain
    Batv,    // prvs=tag=user, msprvs1=tag=user, prvs=user/tag, btv1==tag==user -> user
    PlusTag, // user<sep>anything -> user, for each separator character
    Verp,    // every run of digits that is a word of its own -> '#'
    Regex,   // QRegularExpression on the local part or the whole address, with a replacement
};

// Where a Regex rule looks: the local part (the domain stays as it is) or "local@domain".
enum class SenderRewriteScope : quint8
{
    LocalPart,
    Address,
};

// One row of the table. Plain data: SenderRewriter::compile() validates it.
struct SenderRewriteRule
{
    QString id; // stable name, [a-z0-9_-], unique in the table
    SenderRewriteKind kind = SenderRewriteKind::PlusTag;
    QString description;
    bool enabled = true;
    QByteArray separators; // PlusTag: the characters that start a tag ("+")
    QString pattern;       // Regex
    QString replacement;   // Regex: \0..\9 are the captures, \\ a backslash
    SenderRewriteScope scope = SenderRewriteScope::LocalPart; // Regex

    static QString kindName(SenderRewriteKind kind);
    static std::optional<SenderRewriteKind> kindFromName(QStringView name);

    QJsonObject toJson() const;

    friend bool operator==(const SenderRewriteRule &, const SenderRewriteRule &) = default;
};

} // namespace greygate
