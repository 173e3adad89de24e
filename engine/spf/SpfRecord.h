// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "SpfResult.h"

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <optional>

namespace greygate {

// One mechanism of a record, with its qualifier (RFC 7208 §4.6.2, §5).
struct SpfTerm
{
    enum class Kind : quint8
    {
        All,
        Include,
        A,
        Mx,
        Ptr,
        Ip4,
        Ip6,
        Exists,
    };
    Kind kind = Kind::All;
    SpfResult qualifier = SpfResult::Pass; // + pass, - fail, ~ softfail, ? neutral
    QByteArray domainSpec;                 // unexpanded; empty means <domain>
    int prefix4 = 32;                      // a, mx, ip4
    int prefix6 = 128;                     // a, mx, ip6
    QHostAddress network;                  // ip4, ip6
    QByteArray text;                       // the term as written, for explanations
};

// A parsed "v=spf1" record. Parsing checks all syntax before anything is evaluated, as
// §4.6 asks: a bad term anywhere is a permerror even if an earlier one would match.
struct SpfRecord
{
    QList<SpfTerm> terms;
    std::optional<QByteArray> redirect; // redirect= domain-spec

    static constexpr qsizetype kMaxTerms = 256;

    // True when the TXT string is an SPF record ("v=spf1" alone or followed by a space).
    static bool isSpf(QByteArrayView txt);
    static std::optional<SpfRecord> parse(QByteArrayView txt, QByteArray *error);
};

} // namespace greygate
