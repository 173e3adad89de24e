// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpProxySetup.h"

#include <QSysInfo>

namespace greygate {

namespace {

bool parseHost(const QString &host, QHostAddress *out)
{
    if (host.compare(u"localhost", Qt::CaseInsensitive) == 0) {
        *out = QHostAddress(QHostAddress::LocalHost);
        return true;
    }
    return out->setAddress(host);
}

} // namespace

bool smtpProxyOptionsFrom(const DaemonOptions &options, SmtpProxyOptions *out, const char **option,
                          QString *error)
{
    SmtpProxyOptions &o = *out;
    if (!parseHost(options.smtpListenHost, &o.listenAddress)) {
        *option = "bad --smtp-listen";
        *error = u"\"" + options.smtpListenHost + u"\" is not an IP address";
        return false;
    }
    if (options.smtpBackendHost.isEmpty()) {
        *option = "bad --smtp-backend";
        *error = QStringLiteral("--smtp-listen needs --smtp-backend=HOST:PORT, "
                                "the MTA that receives the accepted mail");
        return false;
    }
    if (!parseHost(options.smtpBackendHost, &o.backendAddress)) {
        *option = "bad --smtp-backend";
        *error = u"\"" + options.smtpBackendHost + u"\" is not an IP address";
        return false;
    }
    o.listenPort = options.smtpListenPort;
    o.backendPort = options.smtpBackendPort;
    QString hostname = options.smtpHostname.isEmpty() ? options.hostname : options.smtpHostname;
    if (hostname.isEmpty())
        hostname = QSysInfo::machineHostName();
    o.hostname = hostname.isEmpty() ? QByteArrayLiteral("localhost") : hostname.toUtf8();
    SmtpProxyOptions::parsePassClient(options.smtpPassClient, &o.passClient);
    o.tlsCertFile = options.smtpTlsCert;
    o.tlsKeyFile = options.smtpTlsKey;
    o.normaliseBareLf = options.smtpNormaliseBareLf;
    o.maxConnections = options.smtpMaxConnections;
    o.maxPerClient = options.smtpMaxPerClient;
    o.ratePerClient = options.smtpRatePerClient;
    o.maxMessageSize = options.smtpMaxMessageSize;
    o.commandTimeoutMs = options.smtpCommandTimeoutSeconds * 1000;
    o.dataTimeoutMs = options.smtpDataTimeoutSeconds * 1000;
    o.finalTimeoutMs = options.smtpFinalTimeoutSeconds * 1000;
    o.bannerDelayMs = options.smtpBannerDelayMs;
    o.backendPoolSize = options.smtpBackendPool;
    o.threads = options.smtpThreads;
    return true;
}

} // namespace greygate
