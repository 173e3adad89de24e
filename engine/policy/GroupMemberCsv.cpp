// SPDX-License-Identifier: GPL-3.0-or-later
#include "GroupMemberCsv.h"

namespace greygate {

std::optional<QList<GroupMember>> GroupMemberCsv::parse(QByteArrayView bytes, QString *error)
{
    const auto refuse = [error](qsizetype line, const QString &message) {
        if (error)
            *error = line > 0 ? QStringLiteral("line %1: %2").arg(line).arg(message) : message;
        return std::nullopt;
    };
    if (bytes.size() > kMaxBytes)
        return refuse(0, QStringLiteral("more than %1 bytes").arg(kMaxBytes));
    if (bytes.startsWith("\xEF\xBB\xBF")) // a UTF-8 BOM, as spreadsheets write it
        bytes = bytes.sliced(3);
    QList<GroupMember> members;
    bool headerAllowed = true;
    qsizetype lineNo = 0;
    for (qsizetype pos = 0; pos < bytes.size();) {
        qsizetype end = bytes.indexOf('\n', pos);
        if (end < 0)
            end = bytes.size();
        QByteArrayView line = bytes.sliced(pos, end - pos);
        pos = end + 1;
        ++lineNo;
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.size() > kMaxLineBytes)
            return refuse(lineNo, QStringLiteral("longer than %1 bytes").arg(kMaxLineBytes));
        line = line.trimmed();
        if (line.isEmpty() || line.startsWith('#'))
            continue;
        QByteArray field = line.toByteArray();
        if (field.startsWith('"')) {
            if (field.size() < 2 || !field.endsWith('"'))
                return refuse(lineNo, QStringLiteral("unbalanced quotes"));
            field = field.sliced(1, field.size() - 2).replace("\"\"", "\"").trimmed();
        } else if (field.contains(',') || field.contains(';')) {
            return refuse(lineNo, QStringLiteral("more than one column (one member per line)"));
        }
        // A member is text: invalid UTF-8 (which would become U+FFFD) or a byte-order mark
        // inside a line (a second BOM, or files glued together) is refused rather than kept
        // as a member that does not read back the same (found by fuzz_group_csv).
        if (!QUtf8StringView(field).isValidUtf8() || field.contains("\xEF\xBB\xBF"))
            return refuse(lineNo, QStringLiteral("not valid UTF-8 text"));
        const QString text = QString::fromUtf8(field);
        if (headerAllowed && text.compare(u"member", Qt::CaseInsensitive) == 0) {
            headerAllowed = false;
            continue;
        }
        headerAllowed = false;
        QString problem;
        const std::optional<GroupMember> member = GroupMember::parse(text, &problem);
        if (!member)
            return refuse(lineNo, problem);
        if (members.size() >= kMaxMembers)
            return refuse(lineNo, QStringLiteral("more than %1 members").arg(kMaxMembers));
        members.append(*member);
    }
    return members;
}

QByteArray GroupMemberCsv::write(const QList<GroupMember> &members)
{
    QByteArray out = QByteArrayLiteral("member\n");
    for (const GroupMember &m : members) {
        QByteArray field = m.text().toUtf8();
        // Quoted, with inner quotes doubled, when it would not read back as itself: a
        // leading quote or '#', or a column separator (found by fuzz_group_csv).
        if (field.startsWith('"') || field.startsWith('#') || field.contains(',') ||
            field.contains(';'))
            field = '"' + field.replace("\"", "\"\"") + '"';
        out += field + '\n';
    }
    return out;
}

} // namespace greygate
