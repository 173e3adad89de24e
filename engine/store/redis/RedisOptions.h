// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <optional>

namespace greygate {

// Where the shared Redis store is and how greygated treats it (--store=redis://... or
// redis-sentinel://..., --redis-password-file, --redis-timeout-ms, --redis-fail). One primary
// endpoint, or Sentinels that name it (docs/redis.md; Cluster is refused).
struct RedisOptions
{
    struct Endpoint
    {
        QString host;
        quint16 port = 26379;
        bool operator==(const Endpoint &) const = default;
    };
    static constexpr int kMaxSentinels = 8;

    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 6379;
    int db = 0;
    QByteArray password;  // AUTH when not empty (read from --redis-password-file)
    int timeoutMs = 500;  // every command, and the connect, must complete in this time
    bool failOpen = true; // Redis unreachable: DUNNO (open) or a 451 deferral (closed)
    // redis-sentinel://: the Sentinels to ask for the primary of masterName (host and port
    // above are then the primary's, filled in by each connect). The password is the data
    // nodes'; Sentinels are asked without one.
    QList<Endpoint> sentinels;
    QByteArray masterName;
    bool sentinelMode() const { return !sentinels.isEmpty(); }
    // A connection to a Sentinel itself: no AUTH, no SELECT (a Sentinel has neither).
    bool sentinelLink = false;

    // "redis://HOST:PORT[/DB]" (IPv6 as [::1]); the port defaults to 6379, DB to 0. Or
    // "redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTERNAME[/DB]" (ports default to 26379).
    // A password in the URL is refused: it would show in `ps` and in the logs.
    static std::optional<RedisOptions> fromUrl(const QString &url, QString *error);
    // The options of a link to one Sentinel (same timeout).
    RedisOptions sentinelOptions(const Endpoint &sentinel) const;
    // Reads the password file's first line (the file must not be readable by others).
    bool readPasswordFile(const QString &path, QString *error);
    // "redis://host:port/db" or "redis-sentinel://h:p,h:p/name/db (primary host:port)", for
    // logs and the API's status.
    QString displayName() const;
};

} // namespace greygate
