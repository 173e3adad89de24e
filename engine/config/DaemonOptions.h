// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "util/Logger.h"

#include <QString>
#include <QStringList>
#include <optional>

namespace greygate {

// Everything greygated can be told, with postgrey's option names where they fit, so that
// `greygated --inet=127.0.0.1:10023 --dbdir=DIR --delay=60` behaves as postgrey does.
// Precedence: built-in defaults < config file (--config=FILE) < command line. The same names
// serve both: `delay = 60` in the file is `--delay=60` on the command line.
// Plain values only: the daemon maps them onto the engine's own configuration structs, so
// this layer does not depend on the greylist or store layers.
struct DaemonOptions
{
    enum class SyncMode
    {
        Process, // durable against a crash of this process (kill -9): WAL, no fsync per commit
        Full,    // durable against a power loss too: fsync on every group commit
    };
    enum class ParseResult
    {
        Run,
        ShowHelp,
        ShowVersion,
        Error,
    };

    QString listenHost = QStringLiteral("127.0.0.1"); // --inet=[HOST:]PORT
    quint16 listenPort = 10023;
    QString dbDir = QStringLiteral("/var/lib/greygate"); // --dbdir
    qint64 delaySeconds = 60;                            // --delay
    qint64 maxAgeDays = 36;                              // --max-age: passed triplets' lifetime
    qint64 retryWindowSeconds = 12 * 3600;               // --retry-window: N days or Nh hours
    QString greylistText = QStringLiteral("Greylisted, please try again in %s seconds");
    QString greylistCode;         // --greylist-code: enhanced status code, e.g. "4.2.0"
    int autoWhitelistClients = 5; // --auto-whitelist-clients[=N]; 0 disables
    bool lookupBySubnet = true;   // --lookup-by-subnet / --lookup-by-host
    int ipv4Prefix = 24;          // --ipv4-prefix
    int ipv6Prefix = 64;          // --ipv6-prefix
    QString recipientDelimiter;   // --recipient-delimiter; empty keeps extensions
    bool stripSenderTags = true;  // --no-strip-sender-tags turns the sender rewriting table off
    SyncMode sync = SyncMode::Process;
    QString hostname;               // --hostname for the X-Greylist header; empty = system's
    int requestTimeoutSeconds = 30; // --request-timeout: a request must complete in this time
    int idleTimeoutSeconds = 600;   // --idle-timeout: above Postfix's 300 s max_idle
    int maxConnections = 1000;      // --max-connections
    int policyIoThreads = 0;        // --policy-io-threads: 0 = the main thread
    int policyBusyPollUs = 50;      // --policy-busy-poll: microseconds, 0 = off
    // --event-dispatcher=epoll|qt: command line only, main() reads it before the event loop
    // exists (EpollEventDispatcherFactory::fromArguments); kept here for --help and checking.
    QString eventDispatcher = QStringLiteral("epoll");
    QString configFile;                 // --config
    LogLevel logLevel = LogLevel::Info; // --log-level
    QString pidFile;                    // --pidfile
    // Policies (docs/policies.md). Checked here for form only; greygated validates the
    // document, the domains and the networks before it opens the store.
    QString policiesFile; // --policies: a JSON document imported at every start
    // --internal-domains / --internal-networks: comma- or space-separated; unset (or empty)
    // keeps what the store holds, set replaces it.
    std::optional<QStringList> internalDomains;
    std::optional<QStringList> internalNetworks;
    qint64 autoAllowLifetimeDays = 60;                               // --auto-allow-lifetime
    QString rejectText = QStringLiteral("Sender blocked by policy"); // --reject-text
    // --control-listen=HOST:PORT: the control API (docs/api.md); off while controlHost is
    // empty. Port 0 takes an ephemeral port (logged with "control API listening").
    QString controlHost;
    quint16 controlPort = 0;
    // --control-tls=auto|on|off (docs/api.md, "TLS"): auto speaks wss on any address but
    // loopback, or when a certificate is given; off refuses a non-loopback address.
    QString controlTls = QStringLiteral("auto");
    // --control-tls-cert / --control-tls-key: PEM files (both or neither); without them a
    // self-signed pair is generated into dbdir on first start.
    QString controlTlsCert;
    QString controlTlsKey;
    // --metrics-listen=HOST:PORT: GET /metrics and /healthz over HTTP; off while empty. A
    // bare PORT listens on 127.0.0.1.
    QString metricsHost;
    quint16 metricsPort = 0;
    // Alerts (docs/greygated.md, "Alerts"): --alert-webhook=URL (HTTP POST of each alert as
    // JSON; none while empty) and --alerts=KEY=VALUE,... (thresholds); checked by greygated.
    QString alertWebhook;
    QString alertSettings;
    // The SMTP proxy (docs/smtp.md): on when --smtp-listen is set, beside the policy server,
    // or alone when --inet was not given. Plain values; greygated checks the addresses.
    QString smtpListenHost;
    quint16 smtpListenPort = 0;
    QString smtpBackendHost;
    quint16 smtpBackendPort = 0;
    QString smtpHostname;                            // banner and EHLO; empty: the host name
    QString smtpPassClient = QStringLiteral("auto"); // auto|xclient|proxy-v1|proxy-v2|none
    QString smtpTlsCert;                             // with smtpTlsKey: STARTTLS offered
    QString smtpTlsKey;
    bool smtpNormaliseBareLf = false; // --smtp-bare-lf=normalise (default refuse)
    int smtpMaxConnections = 2500;
    int smtpMaxPerClient = 20;
    int smtpRatePerClient = 0; // connections per minute per client; 0: no limit
    qint64 smtpMaxMessageSize = 50 * 1024 * 1024;
    int smtpCommandTimeoutSeconds = 300;
    int smtpDataTimeoutSeconds = 180;
    int smtpFinalTimeoutSeconds = 600;
    int smtpBannerDelayMs = 0;
    int smtpBackendPool = 20; // idle backend connections kept for reuse; 0: none
    int smtpThreads = 0;      // I/O threads for the proxy's sessions; 0: the main thread
    bool inetGiven = false;   // --inet was given (the policy server then runs beside the proxy)
    // --store=sqlite (the default: DBDIR's database) or redis://HOST:PORT[/DB], the store
    // several MX hosts share (docs/redis.md). Checked for form here; greygated connects.
    QString store = QStringLiteral("sqlite");
    QString redisPasswordFile; // --redis-password-file: AUTH password, first line, mode 0600
    int redisTimeoutMs = 500;  // --redis-timeout-ms: every Redis command and the connect
    bool redisFailOpen = true; // --redis-fail=open|closed: Redis unreachable -> DUNNO or 451
    // SPF-keyed triplets (docs/spf.md): --triplet-key=ip|spf|spf-neutral, the DNS server
    // asked (--dns-server=HOST:PORT; empty: the first nameserver of /etc/resolv.conf) and
    // --dns-timeout-ms per attempt. Checked for form here; greygated parses the address.
    QString tripletKey = QStringLiteral("ip");
    QString dnsServer;
    int dnsTimeoutMs = 1500;
    // --migrate-store FROM TO: copy one store (a database directory or a redis:// URL) into
    // another and exit; the daemon is not started.
    QString migrateFrom;
    QString migrateTo;
    // --user=NAME: started as root, greygated drops to this user once every socket is bound
    // and the store is open. Empty: "greygate" when that user exists, else root is kept with
    // a warning (a build tree or a test run as root); "root" keeps root on purpose.
    QString user;
    // What parse() was given, so a reload (SIGHUP) re-reads the config file under the same
    // command line, which still wins over it.
    QStringList commandLine;

    // Parses the command line (without the program name), reading --config's file first.
    // On Error, *error tells what is wrong and where (file:line for config file errors).
    ParseResult parse(const QStringList &arguments, QString *error);

    // Applies `key = value` as if given as --key=value (used for the config file).
    bool apply(const QString &key, const QString &value, bool fromFile, QString *error);

    static QString helpText(const QString &programName);
    static QStringList configKeys(); // every key a config file may hold
    static QString syncName(SyncMode mode);
};

} // namespace greygate
