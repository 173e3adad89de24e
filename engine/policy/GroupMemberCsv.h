// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "GroupMember.h"

#include <QList>

namespace greygate {

// Group members as CSV, the form admins move lists in (docs/policies.md, "CSV"): one member
// per line, an optional "member" header line, '#' comments and blank lines ignored, a field
// may be double-quoted. A problem is reported with its line number and nothing is returned.
class GroupMemberCsv
{
public:
    static constexpr qsizetype kMaxLineBytes = 1024;
    static constexpr qsizetype kMaxMembers = 1'000'000;
    static constexpr qsizetype kMaxBytes = 64 * 1024 * 1024;

    static std::optional<QList<GroupMember>> parse(QByteArrayView bytes, QString *error);
    static QByteArray write(const QList<GroupMember> &members);
};

} // namespace greygate
