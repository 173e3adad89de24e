// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>
#include <optional>

namespace greygate {

// Where the shared Redis store is and how greygated treats it (--store=redis://...,
// --redis-password-file, --redis-timeout-ms, --redis-fail). One primary endpoint: see
// docs/redis.md for Sentinel and Cluster.
struct RedisOptions
{
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    int db = 0;
    QByteArray password;  // AUTH when not empty (read from --redis-password-file)
    int timeoutMs = 500;  // every command, and the connect, must complete in this time
    bool failOpen = true; // Redis unreachable: DUNNO (open) or a 451 deferral (closed)

    // "redis://HOST:PORT[/DB]" (IPv6 as [::1]); the port defaults to 6379, DB to 0. A
    // password in the URL is refused: it would show in `ps` and in the logs.
    static std::optional<RedisOptions> fromUrl(const QString &url, QString *error);
    // Reads the password file's first line (the file must not be readable by others).
    bool readPasswordFile(const QString &path, QString *error);
    // "redis://host:port/db", for logs and the API's status.
    QString displayName() const;
};

} // namespace greygate
