// SPDX-License-Identifier: GPL-3.0-or-later
#include "TokenVault.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace greygate {

TokenVault::TokenVault(QString path)
    : m_path(std::move(path))
{}

QString TokenVault::besideSettings(const QString &settingsPath)
{
    return QFileInfo(settingsPath).absolutePath() + QStringLiteral("/tokens.json");
}

void TokenVault::setToken(const QString &proxyId, const QByteArray &token)
{
    if (token.isEmpty())
        m_tokens.remove(proxyId);
    else
        m_tokens.insert(proxyId, token);
}

bool TokenVault::load(QString *error)
{
    m_tokens.clear();
    QFile file(m_path);
    if (!file.exists())
        return true;
    const QFileDevice::Permissions open = QFileDevice::ReadGroup | QFileDevice::WriteGroup |
                                          QFileDevice::ReadOther | QFileDevice::WriteOther;
    if (file.permissions() & open) {
        // Someone widened it: refuse to use tokens others could read, as greygated does.
        *error = m_path + QStringLiteral(" may be read by others: run chmod 600 on it");
        return false;
    }
    if (!file.open(QIODevice::ReadOnly)) {
        *error = m_path + QStringLiteral(": ") + file.errorString();
        return false;
    }
    const QJsonDocument doc = QJsonDocument::fromJson(file.read(1 << 20));
    if (!doc.isObject()) {
        *error = m_path + QStringLiteral(": not a token file");
        return false;
    }
    const QJsonObject o = doc.object();
    for (auto it = o.begin(); it != o.end(); ++it)
        m_tokens.insert(it.key(), it.value().toString().toUtf8());
    return true;
}

bool TokenVault::save(QString *error) const
{
    QDir().mkpath(QFileInfo(m_path).absolutePath());
    QJsonObject o;
    for (auto it = m_tokens.begin(); it != m_tokens.end(); ++it)
        o.insert(it.key(), QString::fromUtf8(it.value()));
    QSaveFile file(m_path);
    if (!file.open(QIODevice::WriteOnly) ||
        !file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner) ||
        file.write(QJsonDocument(o).toJson(QJsonDocument::Compact)) < 0 || !file.commit()) {
        *error = m_path + QStringLiteral(": ") + file.errorString();
        return false;
    }
    return true;
}

} // namespace greygate
