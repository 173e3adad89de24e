// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QHash>
#include <QObject>
#include <optional>

namespace greygate {

class ProxyRegistry;
class Settings;
class TokenVault;

// The proxies the admin added, kept across runs: endpoints (name, URL, pinned fingerprint,
// token file) in Settings::Key::Proxies, tokens typed in the dialog in the TokenVault (0600).
// It follows the registry, so whatever adds, edits or removes a proxy (ProxiesPage, --proxy
// on the command line) is saved; the bundled engine (endpoint.local) is never saved: it is
// registered anew by LocalEngine at each start, on its new ephemeral port.
class ProxyBook : public QObject
{
    Q_OBJECT

public:
    ProxyBook(ProxyRegistry &registry, Settings &settings, TokenVault &vault,
              QObject *parent = nullptr);

    // Adds every saved proxy to the registry (and opens it). Returns the ids added;
    // *problems lists the ones whose token could not be read (added anyway, they are refused
    // and show why).
    QStringList restore(QStringList *problems = nullptr);

    // A proxy whose token is read from a file at each connection (never copied).
    void setTokenFile(const QString &id, const QString &path);
    QString tokenFile(const QString &id) const { return m_tokenFiles.value(id); }

    // The first line of a token file, trimmed; refuses a file others may read.
    static std::optional<QByteArray> readTokenFile(const QString &path, QString *error);

    bool save(QString *error = nullptr);

    // Trust on first use (DESIGN.md §5): the first certificate a wss proxy without a pin shows
    // is pinned and saved; from then on a different one is refused ("certificate changed").
    void pinOnFirstContact(const QString &id);

Q_SIGNALS:
    void saveFailed(const QString &error);

private:
    void changed();
    void followCertificates(const QString &id);

    ProxyRegistry &m_registry;
    Settings &m_settings;
    TokenVault &m_vault;
    QHash<QString, QString> m_tokenFiles;
    bool m_restoring = false;
};

} // namespace greygate
