// SPDX-License-Identifier: GPL-3.0-or-later
#include "SenderRewriter.h"

#include "ControlBytes.h"
#include "util/ByteAppend.h"

#include <QRegularExpression>
#include <QSet>
#include <algorithm>

namespace greygate {

namespace {

// The normaliser hands at most this many bytes (TripletNormaliser::kMaxFieldBytes): the
// VERP step works in a stack buffer of this size.
constexpr qsizetype kMaxAddress = 512;

char lowerAscii(char c)
{
    return (c >= 'A' && c <= 'Z') ? char(c + ('a' - 'A')) : c;
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

bool isAlnum(char c)
{
    return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Perl's \w in postgrey's s/\b\d+\b/#/g (bytes >= 0x80 are not word characters there).
bool isWordChar(char c)
{
    return isAlnum(c) || c == '_';
}

// Splits off the text up to the next '='. False when there is none or the field is empty.
bool takeField(QByteArrayView &rest, QByteArrayView &field)
{
    const qsizetype eq = rest.indexOf('=');
    if (eq <= 0)
        return false;
    field = rest.first(eq);
    rest = rest.sliced(eq + 1);
    return true;
}

bool isSrsSeparator(char c)
{
    return c == '=' || c == '+' || c == '-';
}

// SRS0=hash=tt=domain=local@forwarder            -> local@domain
// SRS1=hash=forwarder==hash=tt=domain=local@x   -> local@domain
// The hash is base64 (never '='), the local part may itself contain '='.
bool reduceSrs(QByteArrayView &local, QByteArrayView &domain)
{
    if (local.size() < 5 || !isSrsSeparator(local[4]))
        return false;
    const bool srs0 = local.startsWith("srs0");
    const bool srs1 = local.startsWith("srs1");
    if (!srs0 && !srs1)
        return false;
    QByteArrayView rest = local.sliced(5);
    QByteArrayView hash, timestamp, forwarder, origDomain;
    if (srs1) {
        if (!takeField(rest, hash) || !takeField(rest, forwarder))
            return false;
        if (rest.isEmpty() || !isSrsSeparator(rest.front()))
            return false;
        rest = rest.sliced(1);
    }
    if (!takeField(rest, hash) || !takeField(rest, timestamp) || !takeField(rest, origDomain) ||
        rest.isEmpty())
        return false;
    local = rest;
    domain = origDomain;
    return true;
}

bool isBatvTag(QByteArrayView tag)
{
    return !tag.isEmpty() && tag.size() <= 64 && std::all_of(tag.begin(), tag.end(), isAlnum);
}

// prvs=tag=user, msprvs1=tag=user (the same scheme), the older prvs=user/tag, and
// Barracuda's btv1==tag==user: all -> user.
bool reduceBatv(QByteArrayView &local)
{
    for (const QByteArrayView prefix : {QByteArrayView("prvs="), QByteArrayView("msprvs1=")}) {
        if (!local.startsWith(prefix))
            continue;
        const QByteArrayView rest = local.sliced(prefix.size());
        const qsizetype eq = rest.indexOf('=');
        if (eq > 0 && eq + 1 < rest.size() && isBatvTag(rest.first(eq))) {
            local = rest.sliced(eq + 1);
            return true;
        }
        const qsizetype slash = rest.indexOf('/');
        if (slash > 0 && slash + 1 < rest.size() && isBatvTag(rest.sliced(slash + 1))) {
            local = rest.first(slash);
            return true;
        }
        return false;
    }
    if (local.startsWith("btv1==")) {
        const QByteArrayView rest = local.sliced(6);
        const qsizetype sep = rest.indexOf("==");
        if (sep > 0 && sep + 2 < rest.size()) {
            local = rest.sliced(sep + 2);
            return true;
        }
    }
    return false;
}

// postgrey's s/\+.*//: the first separator starts the tag; one at the start is not a tag.
bool cutTag(QByteArrayView &local, const QByteArray &separators)
{
    qsizetype cut;
    if (separators.size() == 1) {
        cut = local.indexOf(separators.front());
    } else {
        const auto it = std::find_if(local.begin(), local.end(),
                                     [&](char c) { return separators.contains(c); });
        cut = it == local.end() ? -1 : qsizetype(it - local.begin());
    }
    if (cut <= 0)
        return false;
    local = local.first(cut);
    return true;
}

// postgrey's s/\b\d+\b/#/g on the local part: per-message numbers (VERP bounce ids, list
// sequence numbers) become '#', so every bounce maps to one key. Writes into out (which may
// be where local is: the output never runs ahead of the input).
bool reduceNumbers(QByteArrayView &local, char *out)
{
    qsizetype i = 0, o = 0;
    bool changed = false;
    const char *in = local.data();
    const qsizetype size = local.size();
    while (i < size) {
        if (!isWordChar(in[i])) {
            out[o++] = in[i++];
            continue;
        }
        qsizetype end = i;
        bool digitsOnly = true;
        while (end < size && isWordChar(in[end])) {
            digitsOnly = digitsOnly && isDigit(in[end]);
            ++end;
        }
        if (digitsOnly) {
            out[o++] = '#';
            changed = true;
        } else {
            std::memmove(out + o, in + i, size_t(end - i));
            o += end - i;
        }
        i = end;
    }
    local = QByteArrayView(out, o);
    return changed;
}

bool badAddressByte(QChar c)
{
    return c.unicode() < 0x20 || c.unicode() == 0x7f || c == u' ' || c == u'<' || c == u'>' ||
           c == u'"' || c == u',';
}

// "(a+)+", "(.*)*", "(x|y+){2,}": repetition inside a repeated group, which can take
// exponential time on a hostile sender. A scan of the pattern's text: escapes and classes
// are skipped, each open group remembers whether it holds a quantifier.
bool nestedRepetition(const QString &pattern)
{
    std::vector<bool> groups{false};
    bool inClass = false;
    const auto quantifierAt = [&](qsizetype i) {
        return i < pattern.size() &&
               (pattern[i] == u'*' || pattern[i] == u'+' || pattern[i] == u'{');
    };
    for (qsizetype i = 0; i < pattern.size(); ++i) {
        const QChar c = pattern[i];
        if (c == u'\\') {
            ++i;
            continue;
        }
        if (inClass) {
            inClass = c != u']';
            continue;
        }
        if (c == u'[') {
            inClass = true;
        } else if (c == u'(') {
            groups.push_back(false);
        } else if (c == u')' && groups.size() > 1) {
            const bool inner = groups.back();
            groups.pop_back();
            if (inner && quantifierAt(i + 1))
                return true;
            groups.back() = groups.back() || inner || quantifierAt(i + 1);
        } else if (quantifierAt(i)) {
            groups.back() = true;
        }
    }
    return false;
}

// The replacement's captures (\0..\9), checked against the pattern's count; false with why.
bool checkReplacement(const QString &replacement, int captures, bool address, QString *why)
{
    for (qsizetype i = 0; i < replacement.size(); ++i) {
        const QChar c = replacement[i];
        if (badAddressByte(c)) {
            *why = QStringLiteral("has a character an address cannot hold (a space, a control "
                                  "character, < > \" or ,)");
            return false;
        }
        if (c == u'@' && !address) {
            *why = QStringLiteral("has an '@': a local-part rule cannot move the domain (use "
                                  "scope \"address\")");
            return false;
        }
        if (c != u'\\')
            continue;
        if (i + 1 == replacement.size()) {
            *why = QStringLiteral("ends with a lone backslash (write \\\\ for one)");
            return false;
        }
        const QChar next = replacement[++i];
        if (next == u'\\')
            continue;
        if (!next.isDigit() || next.digitValue() > captures) {
            *why = QStringLiteral("refers to \\%1, but the pattern has %2 capture group(s)")
                       .arg(next)
                       .arg(captures);
            return false;
        }
    }
    return true;
}

void appendExpanded(QString &out, const QString &replacement, const QRegularExpressionMatch &m)
{
    for (qsizetype i = 0; i < replacement.size(); ++i) {
        if (replacement[i] != u'\\' || i + 1 == replacement.size()) {
            out.append(replacement[i]);
            continue;
        }
        const QChar next = replacement[++i];
        if (next == u'\\')
            out.append(next);
        else
            out.append(m.capturedView(next.digitValue()));
    }
}

bool validId(const QString &id)
{
    return !id.isEmpty() && std::all_of(id.begin(), id.end(), [](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'-' || c == u'_';
    });
}

} // namespace

SenderRewriter::~SenderRewriter() = default;

std::shared_ptr<const SenderRewriter> SenderRewriter::defaults()
{
    static const std::shared_ptr<const SenderRewriter> kDefaults = [] {
        QString ignored;
        return compile(SenderRewriteRules::defaults(), &ignored);
    }();
    return kDefaults;
}

std::shared_ptr<const SenderRewriter> SenderRewriter::compile(const SenderRewriteRules &rules,
                                                              QString *error)
{
    if (rules.rules.size() > SenderRewriteRules::kMaxRules) {
        *error = QStringLiteral("more than %1 rules").arg(SenderRewriteRules::kMaxRules);
        return nullptr;
    }
    std::shared_ptr<SenderRewriter> out(new SenderRewriter);
    out->m_rules = rules;
    QSet<QString> ids;
    for (qsizetype i = 0; i < rules.rules.size(); ++i) {
        const SenderRewriteRule &r = rules.rules[i];
        const QString at = QStringLiteral("rules[%1] (%2)").arg(i).arg(r.id.left(64));
        const auto fail = [&](QStringView field, const QString &why) {
            *error = at + u'.' + field + u": " + why;
            return nullptr;
        };
        if (!validId(r.id) || r.id.size() > SenderRewriteRules::kMaxId)
            return fail(u"id", QStringLiteral("use 1 to 64 of a-z, 0-9, '-' and '_'"));
        if (ids.contains(r.id))
            return fail(u"id", QStringLiteral("used by an earlier rule too"));
        ids.insert(r.id);
        if (r.description.size() > SenderRewriteRules::kMaxDescription ||
            containsControlByte(r.description.toUtf8()))
            return fail(u"description", QStringLiteral("one line of at most %1 characters")
                                            .arg(SenderRewriteRules::kMaxDescription));
        Step step{r.kind, r.scope, r.id, r.separators, nullptr, r.replacement};
        if (r.kind == SenderRewriteKind::PlusTag) {
            if (r.separators.isEmpty() || r.separators.size() > SenderRewriteRules::kMaxSeparators)
                return fail(u"separators", QStringLiteral("give 1 to %1 characters")
                                               .arg(SenderRewriteRules::kMaxSeparators));
            for (const char c : r.separators) {
                if (isAlnum(c) || c == '@' || c == '.' || badAddressByte(QLatin1Char(c)) ||
                    uchar(c) >= 0x7f)
                    return fail(u"separators",
                                QStringLiteral("'%1' cannot start a tag: use punctuation such as "
                                               "+ - = _")
                                    .arg(QLatin1Char(c)));
            }
        }
        if (r.kind == SenderRewriteKind::Regex) {
            if (r.pattern.isEmpty() || r.pattern.size() > SenderRewriteRules::kMaxPattern)
                return fail(
                    u"pattern",
                    QStringLiteral("give 1 to %1 characters").arg(SenderRewriteRules::kMaxPattern));
            if (r.replacement.size() > SenderRewriteRules::kMaxReplacement)
                return fail(u"replacement", QStringLiteral("longer than %1 characters")
                                                .arg(SenderRewriteRules::kMaxReplacement));
            auto regex = std::make_shared<QRegularExpression>(
                r.pattern, QRegularExpression::CaseInsensitiveOption);
            if (!regex->isValid())
                return fail(u"pattern", QStringLiteral("not a valid regular expression: %1 "
                                                       "(at character %2)")
                                            .arg(regex->errorString())
                                            .arg(regex->patternErrorOffset() + 1));
            if (regex->match(QString()).hasMatch())
                return fail(u"pattern", QStringLiteral("matches the empty text, so it would "
                                                       "apply everywhere: make it match "
                                                       "at least one character"));
            if (nestedRepetition(r.pattern))
                return fail(u"pattern",
                            QStringLiteral("repeats a group that repeats itself (like (a+)+), "
                                           "which a hostile address can make take minutes"));
            QString why;
            const bool address = r.scope == SenderRewriteScope::Address;
            if (!checkReplacement(r.replacement, regex->captureCount(), address, &why))
                return fail(u"replacement", why);
            if (r.replacement.isEmpty() && r.pattern.startsWith(u'^') && r.pattern.endsWith(u'$') &&
                !r.pattern.endsWith(u"\\$"))
                return fail(u"replacement",
                            address ? QStringLiteral("empty, for a pattern matching the whole "
                                                     "address: it would erase every address")
                                    : QStringLiteral("empty, for a pattern matching the whole "
                                                     "local part: it would erase it"));
            regex->optimize();
            step.regex = std::move(regex);
        }
        if (r.enabled)
            out->m_steps.push_back(std::move(step));
    }
    return out;
}

QByteArray SenderRewriter::rewrite(QByteArrayView local, QByteArrayView domain, qsizetype maxBytes,
                                   SenderRewriteTrace *trace) const
{
    maxBytes = std::min(maxBytes, kMaxAddress);
    char numbers[kMaxAddress];
    QByteArray holder; // a regex rule's result; local and domain may point into it
    for (const Step &step : m_steps) {
        bool applied = false;
        switch (step.kind) {
        case SenderRewriteKind::Srs:
            applied = reduceSrs(local, domain);
            break;
        case SenderRewriteKind::Batv:
            applied = reduceBatv(local);
            break;
        case SenderRewriteKind::PlusTag:
            applied = cutTag(local, step.separators);
            break;
        case SenderRewriteKind::Verp:
            // local is at most kMaxAddress bytes here: the input is, every step shortens it
            // but a regex, whose result is bounded by maxBytes.
            applied = reduceNumbers(local, numbers);
            break;
        case SenderRewriteKind::Regex:
            applied = applyRegex(step, local, domain, holder, maxBytes, trace);
            break;
        }
        if (applied && trace)
            trace->applied.append(step.id);
    }
    QByteArray out;
    appendBytes(out, {local, "@", domain});
    return out;
}

bool SenderRewriter::applyRegex(const Step &step, QByteArrayView &local, QByteArrayView &domain,
                                QByteArray &holder, qsizetype maxBytes,
                                SenderRewriteTrace *trace) const
{
    const bool whole = step.scope == SenderRewriteScope::Address;
    QByteArray bytes = local.toByteArray();
    if (whole)
        bytes.append('@').append(domain);
    const QString subject = QString::fromUtf8(bytes);
    QString result;
    qsizetype last = 0;
    int count = 0;
    QRegularExpressionMatchIterator it = step.regex->globalMatch(subject);
    while (count < kMaxReplacements && it.hasNext()) {
        const QRegularExpressionMatch m = it.next();
        result.append(QStringView(subject).sliced(last, m.capturedStart() - last));
        appendExpanded(result, step.replacement, m);
        last = m.capturedEnd();
        ++count;
    }
    if (count == 0)
        return false;
    const auto skip = [&](const QString &why) {
        if (trace)
            trace->skipped.append(step.id + u": " + why);
        return false;
    };
    // Bytes that are not UTF-8 would come back as U+FFFD: the rule must not change what it
    // did not match, so such an address is left to the other rules.
    if (subject.toUtf8() != bytes)
        return skip(QStringLiteral("the address is not UTF-8"));
    result.append(QStringView(subject).sliced(last));
    QByteArray made = result.toUtf8();
    for (char &c : made)
        c = lowerAscii(c);
    const qsizetype at = whole ? made.lastIndexOf('@') : made.size();
    const qsizetype total = whole ? made.size() : made.size() + 1 + domain.size();
    if (at <= 0 || (whole && at + 1 >= made.size()))
        return skip(whole ? QStringLiteral("the result would not be local@domain")
                          : QStringLiteral("the local part would be empty"));
    if (total > maxBytes)
        return skip(QStringLiteral("the result would be longer than %1 bytes").arg(maxBytes));
    if (containsControlByte(made) || std::any_of(result.begin(), result.end(), badAddressByte))
        return skip(QStringLiteral("the result would hold a character an address cannot"));
    if (whole) {
        holder = std::move(made);
        local = QByteArrayView(holder).first(at);
        domain = QByteArrayView(holder).sliced(at + 1);
    } else {
        // domain may point into the holder (an earlier address rule): keep both in one.
        made.append('@').append(domain);
        holder = std::move(made);
        local = QByteArrayView(holder).first(at);
        domain = QByteArrayView(holder).sliced(at + 1);
    }
    return true;
}

} // namespace greygate
