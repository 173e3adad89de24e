// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
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

} // namespace greygate::test
