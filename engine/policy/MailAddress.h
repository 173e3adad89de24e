// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>

namespace greygate {

// Address and domain helpers shared by the model (validation, normal form) and the hot path
// (allocation-free lower-casing and domain tests). Addresses compare case-insensitively
// in ASCII; non-ASCII (UTF-8) bytes compare as they are.
class MailAddress
{
public:
    static constexpr qsizetype kMaxAddress = 320; // RFC 5321: 64 + '@' + 255
    static constexpr qsizetype kMaxDomain = 253;

    // An address as the hot path sees it: angle brackets and spaces removed, ASCII
    // lower-cased, in a stack buffer. Longer than kMaxAddress, or holding a control byte:
    // not usable (valid() false), so it only matches "everyone" and "external".
    class Lowered
    {
    public:
        explicit Lowered(QByteArrayView raw);
        bool valid() const { return m_valid; }
        bool isNull() const { return m_size == 0; } // the null sender <>
        QByteArrayView address() const { return {m_buffer, m_size}; }
        QByteArrayView domain() const { return address().sliced(m_domainStart); }
        // Non-owning QByteArray over the buffer, for hash lookups without an allocation.
        QByteArray addressKey() const { return QByteArray::fromRawData(m_buffer, m_size); }
        QByteArray domainKey() const
        {
            return QByteArray::fromRawData(m_buffer + m_domainStart, m_size - m_domainStart);
        }

        Lowered(const Lowered &) = delete;
        Lowered &operator=(const Lowered &) = delete;

    private:
        char m_buffer[kMaxAddress];
        qsizetype m_size = 0;
        qsizetype m_domainStart = 0;
        bool m_valid = false;
    };

    // True when `domain` is `parent` or one of its subdomains (label-aligned).
    static bool domainWithin(QByteArrayView domain, QByteArrayView parent);
    // True when `domain` is a strict subdomain of `parent`.
    static bool strictSubdomain(QByteArrayView domain, QByteArrayView parent);

    // Model values: trimmed and lower-cased. Validation names the problem, or returns "".
    static QString normalise(QStringView text);
    static QString domainProblem(QStringView domain);
    static QString addressProblem(QStringView address);
    static int labelCount(QStringView domain);
};

} // namespace greygate
