// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace greygate::test {

// The build tree (for the binaries under test), from CTest's environment.
QString binaryDir();
// Path of a program built by this project, e.g. program("greygated").
QString program(const QString &name);
// A loopback TCP port that was free a moment ago (the kernel's ephemeral choice).
quint16 freeTcpPort();
// Writes the whole of bytes to path (created or truncated); false when it could not.
bool writeFile(const QString &path, const QByteArray &bytes);

// first, first + 1, ..., last: the ids or sequence numbers a test expects back.
template <typename Int> QList<Int> range(Int first, Int last)
{
    QList<Int> out;
    for (Int i = first; i <= last; ++i)
        out.append(i);
    return out;
}

} // namespace greygate::test
