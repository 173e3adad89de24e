// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProxyBook.h"

#include "Settings.h"
#include "TokenVault.h"
#include "client/ProxyRegistry.h"

#include <QFile>

namespace greygate {

namespace {

const QString kId = QStringLiteral("id");
const QString kName = QStringLiteral("name");
const QString kUrl = QStringLiteral("url");
const QString kPin = QStringLiteral("pinnedSha256");
const QString kTokenFile = QStringLiteral("tokenFile");

} // namespace

ProxyBook::ProxyBook(ProxyRegistry &registry, Settings &settings, TokenVault &vault,
                     QObject *parent)
    : QObject(parent)
    , m_registry(registry)
    , m_settings(settings)
    , m_vault(vault)
{
    connect(&m_registry, &ProxyRegistry::proxyAdded, this, [this](const QString &id) {
        followCertificates(id);
        changed();
    });
    connect(&m_registry, &ProxyRegistry::proxyUpdated, this, [this](const QString &id) {
        followCertificates(id); // the connection was rebuilt
        changed();
    });
    // proxyRemoved comes before the entry leaves the registry: save once it is gone.
    connect(
        &m_registry, &ProxyRegistry::proxyRemoved, this,
        [this](const QString &id) {
            m_tokenFiles.remove(id);
            m_vault.remove(id);
        },
        Qt::DirectConnection);
    connect(
        &m_registry, &ProxyRegistry::proxyRemoved, this, [this] { changed(); },
        Qt::QueuedConnection);
}

std::optional<QByteArray> ProxyBook::readTokenFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = path + QStringLiteral(": ") + file.errorString();
        return std::nullopt;
    }
    if (file.permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup)) {
        *error = path + QStringLiteral(" may be read by others: run chmod 600 on it");
        return std::nullopt;
    }
    const QByteArray token = file.readLine(4096).trimmed();
    if (token.isEmpty()) {
        *error = path + QStringLiteral(": the file holds no token");
        return std::nullopt;
    }
    return token;
}

QStringList ProxyBook::restore(QStringList *problems)
{
    m_restoring = true;
    QStringList added;
    const QVariantList list = m_settings.value(Settings::Key::Proxies).toList();
    for (const QVariant &v : list) {
        const QVariantMap m = v.toMap();
        ProxyEndpoint e;
        e.id = m.value(kId).toString();
        e.name = m.value(kName).toString();
        e.url = QUrl(m.value(kUrl).toString());
        e.pinnedSha256 = m.value(kPin).toString().toLatin1();
        const QString tokenFile = m.value(kTokenFile).toString();
        if (!e.url.isValid() || e.id.isEmpty() || m_registry.endpoint(e.id))
            continue;
        if (!tokenFile.isEmpty()) {
            QString error;
            if (const auto token = readTokenFile(tokenFile, &error))
                e.token = *token;
            else if (problems)
                problems->append(e.name + QStringLiteral(": ") + error);
            m_tokenFiles.insert(e.id, tokenFile);
        } else {
            e.token = m_vault.token(e.id);
        }
        added.append(m_registry.add(e));
    }
    m_restoring = false;
    return added;
}

void ProxyBook::followCertificates(const QString &id)
{
    ProxyConnection *c = m_registry.connection(id);
    if (!c)
        return;
    // Queued: pinning rebuilds the connection, which must not happen inside its own signal.
    connect(
        c, &ProxyConnection::certificateSeen, this,
        [this, id](const QString &, bool pinned) {
            if (!pinned)
                pinOnFirstContact(id);
        },
        Qt::QueuedConnection);
}

void ProxyBook::pinOnFirstContact(const QString &id)
{
    const ProxyEndpoint *e = m_registry.endpoint(id);
    ProxyConnection *c = m_registry.connection(id);
    if (!e || !c || !e->pinnedSha256.isEmpty() || c->certificateSha256().isEmpty())
        return;
    ProxyEndpoint pinned = *e;
    pinned.pinnedSha256 = c->certificateSha256().toLatin1();
    m_registry.update(pinned); // saved through proxyUpdated
}

void ProxyBook::setTokenFile(const QString &id, const QString &path)
{
    if (path.isEmpty())
        m_tokenFiles.remove(id);
    else
        m_tokenFiles.insert(id, path);
    changed();
}

void ProxyBook::changed()
{
    if (m_restoring)
        return;
    QString error;
    if (!save(&error))
        Q_EMIT saveFailed(error);
}

bool ProxyBook::save(QString *error)
{
    QVariantList list;
    for (const QString &id : m_registry.ids()) {
        const ProxyEndpoint *e = m_registry.endpoint(id);
        if (!e || e->local)
            continue;
        const QString tokenFile = m_tokenFiles.value(id);
        list.append(QVariantMap{{kId, e->id},
                                {kName, e->name},
                                {kUrl, e->url.toString()},
                                {kPin, QString::fromLatin1(e->pinnedSha256)},
                                {kTokenFile, tokenFile}});
        m_vault.setToken(id, tokenFile.isEmpty() ? e->token : QByteArray());
    }
    m_settings.setValue(Settings::Key::Proxies, list);
    QString vaultError;
    if (!m_vault.save(&vaultError)) {
        if (error)
            *error = vaultError;
        return false;
    }
    return true;
}

} // namespace greygate
