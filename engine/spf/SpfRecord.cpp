// SPDX-License-Identifier: GPL-3.0-or-later
#include "SpfRecord.h"

#include "SpfMacro.h"

namespace greygate {

namespace {

bool startsWithNoCase(QByteArrayView text, QByteArrayView prefix)
{
    return text.size() >= prefix.size() &&
           text.first(prefix.size()).compare(prefix, Qt::CaseInsensitive) == 0;
}

bool parsePrefix(QByteArrayView digits, int max, int *out)
{
    if (digits.isEmpty() || digits.size() > 3)
        return false;
    int v = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    // §5.6: leading zeros are not allowed.
    if (digits.size() > 1 && digits[0] == '0')
        return false;
    if (v > max)
        return false;
    *out = v;
    return true;
}

// "domain/24//64", "/24", "//64", "domain" for a and mx.
bool splitDualCidr(QByteArrayView arg, SpfTerm *term)
{
    const qsizetype slash = arg.indexOf('/');
    if (slash < 0) {
        term->domainSpec = arg.toByteArray();
        return true;
    }
    term->domainSpec = arg.first(slash).toByteArray();
    QByteArrayView cidr = arg.sliced(slash);
    const qsizetype dbl = cidr.indexOf("//");
    QByteArrayView v4 = dbl < 0 ? cidr : cidr.first(dbl);
    const QByteArrayView v6 = dbl < 0 ? QByteArrayView() : cidr.sliced(dbl + 2);
    if (!v4.isEmpty() && !parsePrefix(v4.sliced(1), 32, &term->prefix4))
        return false;
    if (dbl >= 0 && !parsePrefix(v6, 128, &term->prefix6))
        return false;
    return true;
}

bool validDomainSpec(QByteArrayView spec)
{
    // §7.1: a domain-spec ends with a top label (not all digits) or a macro.
    if (spec.isEmpty() || !SpfMacro::valid(spec))
        return false;
    if (spec.endsWith('}'))
        return true;
    QByteArrayView name = spec;
    if (name.endsWith('.'))
        name.chop(1);
    const qsizetype dot = name.lastIndexOf('.');
    if (dot < 0)
        return false;
    const QByteArrayView top = name.sliced(dot + 1);
    if (top.isEmpty() || top.startsWith('-') || top.endsWith('-'))
        return false;
    bool alpha = false;
    for (const char c : top) {
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!letter && !(c >= '0' && c <= '9') && c != '-')
            return false;
        alpha = alpha || letter;
    }
    return alpha;
}

bool parseAddress(QByteArrayView arg, bool v6, SpfTerm *term)
{
    const qsizetype slash = arg.indexOf('/');
    const QByteArrayView addr = slash < 0 ? arg : arg.first(slash);
    QHostAddress a;
    if (addr.isEmpty() || !a.setAddress(QString::fromLatin1(addr)))
        return false;
    if ((a.protocol() == QAbstractSocket::IPv6Protocol) != v6)
        return false;
    if (!v6 && addr.count('.') != 3)
        return false; // "1.2.3" is not an ip4-network
    term->network = a;
    int &prefix = v6 ? term->prefix6 : term->prefix4;
    return slash < 0 || parsePrefix(arg.sliced(slash + 1), v6 ? 128 : 32, &prefix);
}

bool fail(QByteArray *error, QByteArray why)
{
    if (error)
        *error = std::move(why);
    return false;
}

bool parseTerm(QByteArrayView word, SpfRecord *record, QByteArray *error)
{
    // A modifier: name "=" macro-string, name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
    const qsizetype eq = word.indexOf('=');
    const qsizetype colon = word.indexOf(':');
    const qsizetype slash = word.indexOf('/');
    if (eq > 0 && (colon < 0 || eq < colon) && (slash < 0 || eq < slash)) {
        const QByteArrayView name = word.first(eq);
        const QByteArrayView value = word.sliced(eq + 1);
        for (qsizetype i = 0; i < name.size(); ++i) {
            const char c = name[i];
            const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')))
                return fail(error, "bad modifier name in '" + word.toByteArray() + "'");
        }
        if (name.compare("redirect", Qt::CaseInsensitive) == 0) {
            if (record->redirect)
                return fail(error, QByteArrayLiteral("more than one redirect="));
            if (!validDomainSpec(value))
                return fail(error, "bad domain in '" + word.toByteArray() + "'");
            record->redirect = value.toByteArray();
        } else if (!SpfMacro::valid(value)) {
            // exp= and unknown modifiers are ignored, but must still be well-formed (§6).
            return fail(error, "bad macro in '" + word.toByteArray() + "'");
        }
        return true;
    }
    SpfTerm term;
    term.text = word.toByteArray();
    QByteArrayView rest = word;
    switch (rest.isEmpty() ? '\0' : rest[0]) {
    case '+':
        rest = rest.sliced(1);
        break;
    case '-':
        term.qualifier = SpfResult::Fail;
        rest = rest.sliced(1);
        break;
    case '~':
        term.qualifier = SpfResult::SoftFail;
        rest = rest.sliced(1);
        break;
    case '?':
        term.qualifier = SpfResult::Neutral;
        rest = rest.sliced(1);
        break;
    default:
        break;
    }
    qsizetype nameEnd = 0;
    while (nameEnd < rest.size() && rest[nameEnd] != ':' && rest[nameEnd] != '/')
        ++nameEnd;
    const QByteArrayView name = rest.first(nameEnd);
    const bool hasColon = nameEnd < rest.size() && rest[nameEnd] == ':';
    const QByteArrayView arg = hasColon ? rest.sliced(nameEnd + 1) : rest.sliced(nameEnd);
    const auto is = [&name](const char *n) {
        return name.compare(n, Qt::CaseInsensitive) == 0;
    };
    const QByteArray bad = "bad term '" + word.toByteArray() + "'";
    if (is("all")) {
        if (!arg.isEmpty())
            return fail(error, bad);
        term.kind = SpfTerm::Kind::All;
    } else if (is("include") || is("exists")) {
        term.kind = is("include") ? SpfTerm::Kind::Include : SpfTerm::Kind::Exists;
        if (!hasColon || !validDomainSpec(arg))
            return fail(error, bad);
        term.domainSpec = arg.toByteArray();
    } else if (is("a") || is("mx")) {
        term.kind = is("a") ? SpfTerm::Kind::A : SpfTerm::Kind::Mx;
        if (!splitDualCidr(arg, &term) || (hasColon && !validDomainSpec(term.domainSpec)))
            return fail(error, bad);
    } else if (is("ptr")) {
        term.kind = SpfTerm::Kind::Ptr;
        if ((hasColon && !validDomainSpec(arg)) || (!hasColon && !arg.isEmpty()))
            return fail(error, bad);
        term.domainSpec = arg.toByteArray();
    } else if (is("ip4") || is("ip6")) {
        term.kind = is("ip4") ? SpfTerm::Kind::Ip4 : SpfTerm::Kind::Ip6;
        if (!hasColon || !parseAddress(arg, term.kind == SpfTerm::Kind::Ip6, &term))
            return fail(error, bad);
    } else {
        return fail(error, "unknown mechanism '" + word.toByteArray() + "'");
    }
    record->terms.append(std::move(term));
    return true;
}

} // namespace

bool SpfRecord::isSpf(QByteArrayView txt)
{
    return startsWithNoCase(txt, "v=spf1") && (txt.size() == 6 || txt[6] == ' ');
}

std::optional<SpfRecord> SpfRecord::parse(QByteArrayView txt, QByteArray *error)
{
    if (!isSpf(txt)) {
        fail(error, QByteArrayLiteral("not an SPF record"));
        return std::nullopt;
    }
    SpfRecord record;
    int count = 0;
    for (const QByteArray &word : txt.sliced(6).toByteArray().split(' ')) {
        if (word.isEmpty())
            continue;
        if (++count > kMaxTerms) {
            fail(error, QByteArrayLiteral("too many terms"));
            return std::nullopt;
        }
        if (!parseTerm(word, &record, error))
            return std::nullopt;
    }
    return record;
}

} // namespace greygate
