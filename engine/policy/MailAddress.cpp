// SPDX-License-Identifier: GPL-3.0-or-later
#include "MailAddress.h"

#include <QList>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
    qsizetype i = 0;
#if defined(__SSE2__)
    // Sixteen bytes per step (every policy decision lowers its sender and recipient several
    // times, and the byte loop was most of PolicyIndex::evaluate's cost). As signed bytes, a
    // control byte or space is in [0, 0x20] or is 0x7f, an upper-case letter in ['A', 'Z'];
    // bytes >= 0x80 are negative and match neither. The stores stay inside m_buffer: raw
    // is at most kMaxAddress bytes and a full step is taken only when 16 are left.
    const __m128i minusOne = _mm_set1_epi8(-1);
    const __m128i pastSpace = _mm_set1_epi8(0x21);
    const __m128i del = _mm_set1_epi8(0x7f);
    const __m128i beforeA = _mm_set1_epi8('A' - 1);
    const __m128i pastZ = _mm_set1_epi8('Z' + 1);
    const __m128i caseBit = _mm_set1_epi8(0x20);
    const __m128i atSign = _mm_set1_epi8('@');
    for (; raw.size() - i >= 16; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i *>(raw.data() + i));
        const __m128i bad =
            _mm_or_si128(_mm_and_si128(_mm_cmplt_epi8(v, pastSpace), _mm_cmpgt_epi8(v, minusOne)),
                         _mm_cmpeq_epi8(v, del));
        if (_mm_movemask_epi8(bad) != 0)
            return;
        const __m128i upper = _mm_and_si128(_mm_cmpgt_epi8(v, beforeA), _mm_cmplt_epi8(v, pastZ));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(m_buffer + i),
                         _mm_or_si128(v, _mm_and_si128(upper, caseBit)));
        if (const int ats = _mm_movemask_epi8(_mm_cmpeq_epi8(v, atSign)); ats != 0)
            at = i + 31 - __builtin_clz(unsigned(ats)); // the last '@' of the step
    }
#endif
    for (; i < raw.size(); ++i) {
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
