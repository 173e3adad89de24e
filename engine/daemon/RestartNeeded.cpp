// SPDX-License-Identifier: GPL-3.0-or-later
#include "RestartNeeded.h"

namespace greygate {

QStringList restartNeeded(const DaemonOptions &running, const DaemonOptions &next)
{
    QStringList out;
    const auto check = [&out](const char *name, bool differs) {
        if (differs)
            out.append(QString::fromLatin1(name));
    };
    check("inet", running.listenHost != next.listenHost || running.listenPort != next.listenPort);
    check("policy-io-threads", running.policyIoThreads != next.policyIoThreads);
    check("policy-busy-poll", running.policyBusyPollUs != next.policyBusyPollUs);
    check("control-listen",
          running.controlHost != next.controlHost || running.controlPort != next.controlPort);
    check("metrics-listen",
          running.metricsHost != next.metricsHost || running.metricsPort != next.metricsPort);
    check("control-tls", running.controlTls != next.controlTls ||
                             running.controlTlsCert != next.controlTlsCert ||
                             running.controlTlsKey != next.controlTlsKey);
    check("smtp-listen", running.smtpListenHost != next.smtpListenHost ||
                             running.smtpListenPort != next.smtpListenPort);
    check("smtp-backend", running.smtpBackendHost != next.smtpBackendHost ||
                              running.smtpBackendPort != next.smtpBackendPort);
    check("smtp-hostname", running.smtpHostname != next.smtpHostname);
    check("smtp-pass-client", running.smtpPassClient != next.smtpPassClient);
    check("smtp-tls",
          running.smtpTlsCert != next.smtpTlsCert || running.smtpTlsKey != next.smtpTlsKey);
    check("smtp-bare-lf", running.smtpNormaliseBareLf != next.smtpNormaliseBareLf);
    check("smtp-limits", running.smtpMaxConnections != next.smtpMaxConnections ||
                             running.smtpMaxPerClient != next.smtpMaxPerClient ||
                             running.smtpRatePerClient != next.smtpRatePerClient ||
                             running.smtpMaxMessageSize != next.smtpMaxMessageSize ||
                             running.smtpBackendPool != next.smtpBackendPool ||
                             running.smtpThreads != next.smtpThreads);
    check("smtp-timeouts", running.smtpCommandTimeoutSeconds != next.smtpCommandTimeoutSeconds ||
                               running.smtpDataTimeoutSeconds != next.smtpDataTimeoutSeconds ||
                               running.smtpFinalTimeoutSeconds != next.smtpFinalTimeoutSeconds ||
                               running.smtpBannerDelayMs != next.smtpBannerDelayMs);
    check("dbdir", running.dbDir != next.dbDir);
    check("store", running.store != next.store);
    check("redis", running.redisPasswordFile != next.redisPasswordFile ||
                       running.redisTimeoutMs != next.redisTimeoutMs ||
                       running.redisFailOpen != next.redisFailOpen);
    check("sync", running.sync != next.sync);
    check("delay", running.delaySeconds != next.delaySeconds);
    check("retry-window", running.retryWindowSeconds != next.retryWindowSeconds);
    check("max-age", running.maxAgeDays != next.maxAgeDays);
    check("auto-whitelist-clients", running.autoWhitelistClients != next.autoWhitelistClients);
    check("lookup-by-subnet", running.lookupBySubnet != next.lookupBySubnet);
    check("ipv4-prefix", running.ipv4Prefix != next.ipv4Prefix);
    check("ipv6-prefix", running.ipv6Prefix != next.ipv6Prefix);
    check("recipient-delimiter", running.recipientDelimiter != next.recipientDelimiter);
    check("greylist-text", running.greylistText != next.greylistText);
    check("greylist-code", running.greylistCode != next.greylistCode);
    check("reject-text", running.rejectText != next.rejectText);
    check("hostname", running.hostname != next.hostname);
    check("auto-allow-lifetime", running.autoAllowLifetimeDays != next.autoAllowLifetimeDays);
    check("request-timeout", running.requestTimeoutSeconds != next.requestTimeoutSeconds);
    check("idle-timeout", running.idleTimeoutSeconds != next.idleTimeoutSeconds);
    check("max-connections", running.maxConnections != next.maxConnections);
    check("pidfile", running.pidFile != next.pidFile);
    check("user", running.user != next.user);
    return out;
}

} // namespace greygate
