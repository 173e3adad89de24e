// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SenderRewriteRules.h"

#include <QByteArrayView>
#include <QStringList>
#include <memory>
#include <vector>

class QRegularExpression;

namespace greygate {

// Which rules changed an address, and which were skipped because what they would have made
// is not an address (rewriting.test shows both).
struct SenderRewriteTrace
{
    QStringList applied;
    QStringList skipped; // "id: why"
};

// A SenderRewriteRules table compiled for the hot path: the built-in kinds are plain byte
// loops over the address (no QString, no allocation but the result), a regex rule is
// compiled once here and costs a QString conversion only when the table holds one.
// Immutable once made: the normaliser shares it, and a new table is a new SenderRewriter.
class SenderRewriter
{
public:
    // Regex rules: at most this many replacements in one address, so a pattern cannot turn
    // one address into a long one piece by piece.
    static constexpr int kMaxReplacements = 8;

    // nullptr with *error naming the rule and the field when the table is refused: an
    // invalid or duplicate id, a bad separator, a pattern that does not compile, matches the
    // empty string, refers to a capture it does not have, or a replacement that could make
    // an empty or invalid address.
    static std::shared_ptr<const SenderRewriter> compile(const SenderRewriteRules &rules,
                                                         QString *error);
    // The built-in table, compiled once.
    static std::shared_ptr<const SenderRewriter> defaults();

    ~SenderRewriter();

    const SenderRewriteRules &rules() const { return m_rules; }

    // The sender key of a lower-cased address split at its last '@' (local may hold '@'s of
    // its own). The result is lower-case, at most maxBytes long, with a non-empty local part
    // (rules that would break that are skipped).
    QByteArray rewrite(QByteArrayView local, QByteArrayView domain, qsizetype maxBytes,
                       SenderRewriteTrace *trace = nullptr) const;

private:
    struct Step
    {
        SenderRewriteKind kind;
        SenderRewriteScope scope;
        QString id;
        QByteArray separators;
        std::shared_ptr<const QRegularExpression> regex;
        QString replacement;
    };

    SenderRewriter() = default;
    bool applyRegex(const Step &step, QByteArrayView &local, QByteArrayView &domain,
                    QByteArray &holder, qsizetype maxBytes, SenderRewriteTrace *trace) const;

    SenderRewriteRules m_rules;
    std::vector<Step> m_steps; // the enabled rules, in order
};

} // namespace greygate
