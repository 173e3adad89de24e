// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisOptions.h"

#include <QFile>
#include <QFileDevice>
#include <QStringList>

namespace greygate {

namespace {

// "host[:port]" or "[v6][:port]".
bool parseEndpoint(const QString &text, RedisOptions::Endpoint *out, QString *error)
{
    QString port;
    if (text.startsWith(u'[')) {
        const qsizetype close = text.indexOf(u']');
        if (close < 0) {
            *error = QStringLiteral("unterminated [IPv6] host");
            return false;
        }
        out->host = text.mid(1, close - 1);
        const QString after = text.mid(close + 1);
        if (after.startsWith(u':')) {
            port = after.mid(1);
        } else if (!after.isEmpty()) {
            *error = u"unexpected \"" + after + u"\" after the host";
            return false;
        }
    } else if (const qsizetype colon = text.lastIndexOf(u':'); colon >= 0) {
        out->host = text.left(colon);
        port = text.mid(colon + 1);
    } else {
        out->host = text;
    }
    if (out->host.isEmpty()) {
        *error = QStringLiteral("no host in the Redis URL");
        return false;
    }
    if (!port.isEmpty()) {
        bool ok = false;
        const int n = port.toInt(&ok);
        if (!ok || n < 1 || n > 65535) {
            *error = u"bad port \"" + port + u"\"";
            return false;
        }
        out->port = quint16(n);
    }
    return true;
}

bool parseDb(const QString &db, int *out, QString *error)
{
    if (db.isEmpty())
        return true;
    bool ok = false;
    *out = db.toInt(&ok);
    if (!ok || *out < 0 || *out > 15) {
        *error = u"bad database number \"" + db + u"\" (0..15)";
        return false;
    }
    return true;
}

QString hostText(const QString &host, quint16 port)
{
    return (host.contains(u':') ? u'[' + host + u']' : host) + u':' + QString::number(port);
}

} // namespace

std::optional<RedisOptions> RedisOptions::fromUrl(const QString &url, QString *error)
{
    static const QLatin1StringView scheme("redis://");
    static const QLatin1StringView sentinelScheme("redis-sentinel://");
    const bool sentinel = url.startsWith(sentinelScheme, Qt::CaseInsensitive);
    if (!sentinel && !url.startsWith(scheme, Qt::CaseInsensitive)) {
        *error = u"\"" + url +
                 u"\" is not a redis://HOST:PORT[/DB] or "
                 u"redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTERNAME[/DB] URL";
        return std::nullopt;
    }
    QString rest = url.mid(sentinel ? sentinelScheme.size() : scheme.size());
    if (rest.contains(u'@')) {
        *error = QStringLiteral("a password in the URL would show in process lists: use "
                                "--redis-password-file");
        return std::nullopt;
    }
    RedisOptions o;
    if (!sentinel) {
        if (const qsizetype slash = rest.indexOf(u'/'); slash >= 0) {
            if (!parseDb(rest.mid(slash + 1), &o.db, error))
                return std::nullopt;
            rest.truncate(slash);
        }
        Endpoint e;
        e.port = 6379;
        if (!parseEndpoint(rest, &e, error))
            return std::nullopt;
        o.host = e.host;
        o.port = e.port;
        return o;
    }
    const QStringList parts = rest.split(u'/');
    if (parts.size() < 2 || parts.size() > 3 || parts[1].isEmpty()) {
        *error = QStringLiteral("a Sentinel URL names the master: "
                                "redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTERNAME[/DB]");
        return std::nullopt;
    }
    if (parts.size() == 3 && !parseDb(parts[2], &o.db, error))
        return std::nullopt;
    o.masterName = parts[1].toUtf8();
    if (o.masterName.size() > 128 || o.masterName.contains(' ')) {
        *error = QStringLiteral("bad master name (no spaces, at most 128 characters)");
        return std::nullopt;
    }
    const QStringList hosts = parts[0].split(u',');
    if (hosts.size() > kMaxSentinels) {
        *error = QStringLiteral("at most %1 Sentinels").arg(kMaxSentinels);
        return std::nullopt;
    }
    for (const QString &h : hosts) {
        Endpoint e;
        if (!parseEndpoint(h, &e, error))
            return std::nullopt;
        o.sentinels.append(e);
    }
    // The primary's address comes from the Sentinels at each connect.
    o.host.clear();
    o.port = 0;
    return o;
}

RedisOptions RedisOptions::sentinelOptions(const Endpoint &sentinel) const
{
    RedisOptions o;
    o.host = sentinel.host;
    o.port = sentinel.port;
    o.timeoutMs = timeoutMs;
    o.sentinelLink = true;
    return o;
}

bool RedisOptions::readPasswordFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = path + u": " + file.errorString();
        return false;
    }
    if (file.permissions() & (QFileDevice::ReadOther | QFileDevice::WriteOther)) {
        *error = path + u": readable by other users; chmod 600 it";
        return false;
    }
    QByteArray line = file.read(4096);
    if (const qsizetype nl = line.indexOf('\n'); nl >= 0)
        line.truncate(nl);
    if (line.endsWith('\r'))
        line.chop(1);
    if (line.isEmpty()) {
        *error = path + u": empty password file";
        return false;
    }
    password = line;
    return true;
}

QString RedisOptions::displayName() const
{
    if (sentinelLink)
        return u"sentinel " + hostText(host, port);
    if (!sentinelMode())
        return u"redis://" + hostText(host, port) + u'/' + QString::number(db);
    QStringList hosts;
    for (const Endpoint &e : sentinels)
        hosts.append(hostText(e.host, e.port));
    QString name = u"redis-sentinel://" + hosts.join(u',') + u'/' + QString::fromUtf8(masterName) +
                   u'/' + QString::number(db);
    if (port != 0)
        name += u" (primary " + hostText(host, port) + u')';
    return name;
}

} // namespace greygate
