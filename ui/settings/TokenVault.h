// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QHash>
#include <QString>

namespace greygate {

// The proxies' admin tokens, kept apart from the settings in a file only the user may read
// (mode 0600, set on the temporary file before it is renamed into place, so the token is
// never readable by others even for a moment). Chosen over QSettings because QSettings
// writes with the umask's permissions, and over a keyring (libsecret/KWallet) because the
// console must also run headless and on servers without one; the file sits beside the
// settings and is what greygated itself uses for its own tokens (control.token, 0600).
// A proxy may instead name a token file (ProxyDialog's "token file"), then nothing is copied.
class TokenVault
{
public:
    explicit TokenVault(QString path);

    // <settings folder>/tokens.json beside Settings::path().
    static QString besideSettings(const QString &settingsPath);

    bool load(QString *error);
    bool save(QString *error) const;

    QByteArray token(const QString &proxyId) const { return m_tokens.value(proxyId); }
    void setToken(const QString &proxyId, const QByteArray &token);
    void remove(const QString &proxyId) { m_tokens.remove(proxyId); }
    QString path() const { return m_path; }

private:
    QString m_path;
    QHash<QString, QByteArray> m_tokens;
};

} // namespace greygate
