// SPDX-License-Identifier: GPL-3.0-or-later
#include "RedisOptions.h"

#include <QFile>
#include <QFileDevice>

namespace greygate {

std::optional<RedisOptions> RedisOptions::fromUrl(const QString &url, QString *error)
{
    static const QLatin1StringView scheme("redis://");
    if (!url.startsWith(scheme, Qt::CaseInsensitive)) {
        *error = u"\"" + url + u"\" is not a redis://HOST:PORT[/DB] URL";
        return std::nullopt;
    }
    QString rest = url.mid(scheme.size());
    if (rest.contains(u'@')) {
        *error = QStringLiteral("a password in the URL would show in process lists: use "
                                "--redis-password-file");
        return std::nullopt;
    }
    RedisOptions o;
    if (const qsizetype slash = rest.indexOf(u'/'); slash >= 0) {
        const QString db = rest.mid(slash + 1);
        rest.truncate(slash);
        if (!db.isEmpty()) {
            bool ok = false;
            o.db = db.toInt(&ok);
            if (!ok || o.db < 0 || o.db > 15) {
                *error = u"bad database number \"" + db + u"\" (0..15)";
                return std::nullopt;
            }
        }
    }
    QString port;
    if (rest.startsWith(u'[')) {
        const qsizetype close = rest.indexOf(u']');
        if (close < 0) {
            *error = QStringLiteral("unterminated [IPv6] host");
            return std::nullopt;
        }
        o.host = rest.mid(1, close - 1);
        const QString after = rest.mid(close + 1);
        if (after.startsWith(u':'))
            port = after.mid(1);
        else if (!after.isEmpty()) {
            *error = u"unexpected \"" + after + u"\" after the host";
            return std::nullopt;
        }
    } else if (const qsizetype colon = rest.lastIndexOf(u':'); colon >= 0) {
        o.host = rest.left(colon);
        port = rest.mid(colon + 1);
    } else {
        o.host = rest;
    }
    if (o.host.isEmpty()) {
        *error = QStringLiteral("no host in the Redis URL");
        return std::nullopt;
    }
    if (!port.isEmpty()) {
        bool ok = false;
        const int n = port.toInt(&ok);
        if (!ok || n < 1 || n > 65535) {
            *error = u"bad port \"" + port + u"\"";
            return std::nullopt;
        }
        o.port = quint16(n);
    }
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
    const QString h = host.contains(u':') ? u'[' + host + u']' : host;
    return u"redis://" + h + u':' + QString::number(port) + u'/' + QString::number(db);
}

} // namespace greygate
