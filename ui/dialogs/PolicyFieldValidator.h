// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace greygate {

// The console's own check of what an admin types into a policy or a group, so a mistake is
// shown as it is typed. It follows docs/policies.md (strict CIDR with host bits refused,
// whole-label domains, addresses of at most 320 bytes); the proxy validates again and has
// the last word (its errors are shown on the field too). Each function returns an empty
// string when the value is fine, else a sentence saying what is wrong.
class PolicyFieldValidator
{
public:
    static QString cidrError(const QString &text);
    static QString domainError(const QString &text);
    static QString addressError(const QString &text);
    // A sender group member: address, @domain, *.domain or a CIDR.
    static QString memberError(const QString &text);
    static QString narrativeError(const QString &text);
};

} // namespace greygate
