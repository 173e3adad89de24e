// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SenderRewriteRule.h"

#include <QList>

namespace greygate {

// The ordered table of sender rewriting rules (docs/rewriting.md) and its JSON form
// {"version": N, "rules": [{"id", "kind", "description", "enabled", ...}]}. version counts
// the saved changes (0: the built-in table, never saved), so that two admins editing at once
// cannot overwrite each other silently (rewriting.set checks it).
class SenderRewriteRules
{
public:
    static constexpr qsizetype kMaxRules = 32;
    static constexpr qsizetype kMaxId = 64;
    static constexpr qsizetype kMaxDescription = 200;
    static constexpr qsizetype kMaxSeparators = 8;
    static constexpr qsizetype kMaxPattern = 256;
    static constexpr qsizetype kMaxReplacement = 128;

    // Today's normalisation as a table: SRS, BATV, +tag, VERP numbers, in that order.
    static SenderRewriteRules defaults();

    QList<SenderRewriteRule> rules;
    quint32 version = 0;

    QJsonObject toJson() const;
    // The shape and bounds of the JSON (types, lengths, known fields), not the meaning of a
    // pattern: SenderRewriter::compile() checks that. The version is read when present.
    // nullopt with *error naming the field ("rules[2].pattern: ...").
    static std::optional<SenderRewriteRules> fromJson(const QJsonObject &object, QString *error);

    friend bool operator==(const SenderRewriteRules &, const SenderRewriteRules &) = default;
};

} // namespace greygate
