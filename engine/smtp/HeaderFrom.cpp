// SPDX-License-Identifier: GPL-3.0-or-later
#include "HeaderFrom.h"

namespace greygate {

qsizetype HeaderFrom::headerEnd(QByteArrayView content)
{
    if (content.startsWith("\r\n"))
        return 2;
    const qsizetype at = content.indexOf("\r\n\r\n");
    return at < 0 ? -1 : at + 4;
}

QByteArray HeaderFrom::address(QByteArrayView headers)
{
    qsizetype pos = 0;
    while (pos < headers.size()) {
        qsizetype eol = headers.indexOf("\r\n", pos);
        if (eol < 0)
            eol = headers.size();
        const QByteArrayView line = headers.sliced(pos, eol - pos);
        pos = eol + 2;
        if (line.isEmpty())
            break; // the end of the header section
        if (line.size() < 5 ||
            QByteArrayView(line.first(5)).compare("from:", Qt::CaseInsensitive) != 0)
            continue;
        QByteArray value = line.sliced(5).toByteArray();
        // Folded continuation lines start with a space or a tab.
        while (pos < headers.size() && (headers[pos] == ' ' || headers[pos] == '\t') &&
               value.size() < kMaxField) {
            qsizetype next = headers.indexOf("\r\n", pos);
            if (next < 0)
                next = headers.size();
            value.append(headers.sliced(pos, next - pos));
            pos = next + 2;
        }
        value.truncate(kMaxField);
        const qsizetype lt = value.indexOf('<');
        const qsizetype gt = lt < 0 ? -1 : value.indexOf('>', lt);
        if (lt >= 0 && gt > lt)
            return value.mid(lt + 1, gt - lt - 1).trimmed();
        for (const QByteArray &word : value.simplified().split(' ')) {
            if (word.contains('@'))
                return word.endsWith(',') ? word.chopped(1) : word;
        }
        return {};
    }
    return {};
}

} // namespace greygate
