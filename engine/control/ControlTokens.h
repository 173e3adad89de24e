// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>
#include <optional>

namespace greygate {

enum class ControlRole : quint8
{
    None,
    ReadOnly,
    Admin,
};

// The control API's two bearer tokens: DIR/control.token (admin) and
// DIR/control-readonly.token (monitoring), random, created on first start with mode 0600.
// Only their SHA-256 hashes stay in memory; a presented token is hashed and compared with
// both in constant time, so neither the timing nor a memory dump gives a token away.
class ControlTokens
{
public:
    static constexpr qsizetype kMaxTokenBytes = 1024;

    static QString adminFile(const QString &dir);
    static QString readOnlyFile(const QString &dir);

    // Creates the missing token files and reads both. Refuses a token file that others may
    // read (group or world permissions): it would hand out the proxy.
    bool load(const QString &dir, QString *error);

    ControlRole check(QByteArrayView token) const;

    // A new random token: 32 bytes from the system's generator, base64url (43 characters).
    static QByteArray generate();
    // Reads a token file as the client does: the first line, trimmed.
    static std::optional<QByteArray> readFile(const QString &path, QString *error);

private:
    static bool ensure(const QString &path, QString *error);
    static bool equalConstantTime(const QByteArray &a, const QByteArray &b);

    QByteArray m_adminHash;
    QByteArray m_readOnlyHash;
};

} // namespace greygate
