// SPDX-License-Identifier: GPL-3.0-or-later
#include "DaemonOptions.h"

#include "ConfigFile.h"
#include "util/EpollEventDispatcherFactory.h"

#include <QRegularExpression>
#include <functional>

namespace greygate {

namespace {

enum class Arg
{
    None,     // a flag: --lookup-by-host (in a file: "lookup-by-host = yes")
    Required, // --delay=60 or --delay 60
    Optional, // --auto-whitelist-clients or --auto-whitelist-clients=N
};

using Apply = std::function<bool(DaemonOptions &, const QString &value, QString *error)>;

struct Spec
{
    const char *name;
    Arg arg;
    const char *valueName;
    const char *help;
    bool inFile; // may appear in a config file
    Apply apply;
};

bool parseInt(const QString &value, qint64 min, qint64 max, qint64 *out, QString *error)
{
    bool ok = false;
    const qint64 n = value.trimmed().toLongLong(&ok);
    if (!ok) {
        *error = u'"' + value + u"\" is not a whole number";
        return false;
    }
    if (n < min || n > max) {
        *error = QString::number(n) + u" is out of range " + QString::number(min) + u".." +
                 QString::number(max);
        return false;
    }
    *out = n;
    return true;
}

bool parseBool(const QString &value, bool *out, QString *error)
{
    const QString v = value.trimmed().toLower();
    if (v == u"yes" || v == u"true" || v == u"on" || v == u"1") {
        *out = true;
        return true;
    }
    if (v == u"no" || v == u"false" || v == u"off" || v == u"0") {
        *out = false;
        return true;
    }
    *error = u'"' + value + u"\" is not yes/no";
    return false;
}

// One line of text going into an SMTP reply: printable, so an admin cannot break the
// policy protocol (a newline would end the answer early).
bool singleLine(const QString &value, QString *error)
{
    for (QChar c : value) {
        if (c.unicode() < 0x20 || c.unicode() == 0x7f) {
            *error = QStringLiteral("must be one line of printable text");
            return false;
        }
    }
    return true;
}

template <typename T> Apply intOption(T DaemonOptions::*field, qint64 min, qint64 max)
{
    return [field, min, max](DaemonOptions &o, const QString &v, QString *e) {
        qint64 n = 0;
        if (!parseInt(v, min, max, &n, e))
            return false;
        o.*field = T(n);
        return true;
    };
}

constexpr qint64 kDay = 86400;

// "a, b c": the items; an empty value is "not set" (the stored configuration is kept).
std::optional<QStringList> listOrUnset(const QString &value)
{
    static const QRegularExpression separators(QStringLiteral("[,\\s]+"));
    const QStringList items = value.split(separators, Qt::SkipEmptyParts);
    return items.isEmpty() ? std::nullopt : std::optional<QStringList>(items);
}

// "[HOST:]PORT" (IPv6 as "[::1]:PORT"); a bare PORT means 127.0.0.1, as with postgrey.
bool parseHostPort(const QString &value, qint64 minPort, QString *hostOut, quint16 *portOut,
                   QString *error)
{
    QString host = QStringLiteral("127.0.0.1");
    QString port = value.trimmed();
    const qsizetype colon = port.lastIndexOf(u':');
    if (colon >= 0) {
        host = port.left(colon);
        port = port.mid(colon + 1);
        if (host.startsWith(u'[') && host.endsWith(u']'))
            host = host.mid(1, host.size() - 2);
        if (host.isEmpty()) {
            *error = QStringLiteral("empty host before ':'");
            return false;
        }
    }
    qint64 n = 0;
    if (!parseInt(port, minPort, 65535, &n, error)) {
        *error = u"bad port: " + *error;
        return false;
    }
    *hostOut = host;
    *portOut = quint16(n);
    return true;
}

const QList<Spec> &specs()
{
    static const QList<Spec> table = {
        {"inet", Arg::Required, "[HOST:]PORT",
         "listen on PORT at HOST (default 127.0.0.1:10023; IPv6 as [::1]:10023)", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             o.inetGiven = true;
             return parseHostPort(v, 1, &o.listenHost, &o.listenPort, e);
         }},
        {"control-listen", Arg::Required, "HOST:PORT",
         "serve the control API (WebSocket) at HOST:PORT, e.g. 127.0.0.1:10024; off when "
         "empty (default); TLS (wss) on any address but loopback (--control-tls)",
         true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             if (v.trimmed().isEmpty()) {
                 o.controlHost.clear();
                 o.controlPort = 0;
                 return true;
             }
             return parseHostPort(v, 0, &o.controlHost, &o.controlPort, e);
         }},
        {"control-tls", Arg::Required, "auto|on|off",
         "TLS (wss) for the control API: auto (default) on any address but loopback or when "
         "a certificate is given; on also on loopback; off refuses other addresses",
         true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             const QString t = v.trimmed().toLower();
             if (t != u"auto" && t != u"on" && t != u"off") {
                 *e = u'"' + v + u"\" is not auto, on or off";
                 return false;
             }
             o.controlTls = t;
             return true;
         }},
        {"control-tls-cert", Arg::Required, "FILE",
         "the control API's TLS certificate (PEM; with --control-tls-key); default: generated "
         "into DBDIR/control-cert.pem on first start",
         true,
         [](DaemonOptions &o, const QString &v, QString *) {
             o.controlTlsCert = v.trimmed();
             return true;
         }},
        {"control-tls-key", Arg::Required, "FILE",
         "the private key of --control-tls-cert (PEM, unencrypted, not world-readable)", true,
         [](DaemonOptions &o, const QString &v, QString *) {
             o.controlTlsKey = v.trimmed();
             return true;
         }},
        {"metrics-listen", Arg::Required, "[HOST:]PORT",
         "serve GET /metrics (Prometheus) and /healthz over HTTP at HOST:PORT (a bare PORT: "
         "127.0.0.1); off when empty (default)",
         true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             if (v.trimmed().isEmpty()) {
                 o.metricsHost.clear();
                 o.metricsPort = 0;
                 return true;
             }
             return parseHostPort(v, 0, &o.metricsHost, &o.metricsPort, e);
         }},
        {"alert-webhook", Arg::Required, "URL",
         "POST every alert as JSON to this http:// or https:// URL (retried with backoff); "
         "none when empty (default)",
         true,
         [](DaemonOptions &o, const QString &v, QString *) {
             o.alertWebhook = v.trimmed();
             return true;
         }},
        {"alerts", Arg::Required, "KEY=VALUE,...",
         "alert thresholds, e.g. deferral-factor=3,deferral-minimum=50,failed-minimum=10,"
         "store-grace=60 (docs/greygated.md); enabled=no turns alerts off",
         true,
         [](DaemonOptions &o, const QString &v, QString *) {
             o.alertSettings =
                 o.alertSettings.isEmpty() ? v.trimmed() : o.alertSettings + u',' + v.trimmed();
             return true;
         }},
        {"smtp-listen", Arg::Required, "HOST:PORT",
         "run the SMTP proxy at HOST:PORT (port 0: any free port, logged); without --inet the "
         "policy server is then not started",
         true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             if (v.trimmed().isEmpty()) {
                 o.smtpListenHost.clear();
                 o.smtpListenPort = 0;
                 return true;
             }
             return parseHostPort(v, 0, &o.smtpListenHost, &o.smtpListenPort, e);
         }},
        {"smtp-backend", Arg::Required, "HOST:PORT",
         "the MTA the SMTP proxy relays accepted mail to (required with --smtp-listen)", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             return parseHostPort(v, 1, &o.smtpBackendHost, &o.smtpBackendPort, e);
         }},
        {"smtp-hostname", Arg::Required, "NAME",
         "the proxy's name in its banner and EHLO (default: the host name)", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             const QString name = v.trimmed();
             static const QRegularExpression host(
                 QStringLiteral("^[A-Za-z0-9.\\-\\[\\]:]{1,253}$"));
             if (!host.match(name).hasMatch()) {
                 *e = u'"' + v + u"\" is not a host name";
                 return false;
             }
             o.smtpHostname = name;
             return true;
         }},
        {"smtp-pass-client", Arg::Required, "auto|xclient|proxy-v1|proxy-v2|none",
         "how the backend learns the real client: auto (default) uses XCLIENT when the backend "
         "offers it; xclient requires it; proxy-v1/proxy-v2 send a PROXY protocol header",
         true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             const QString m = v.trimmed().toLower();
             if (m != u"auto" && m != u"xclient" && m != u"proxy-v1" && m != u"proxy-v2" &&
                 m != u"none") {
                 *e = u'"' + v + u"\" is not auto, xclient, proxy-v1, proxy-v2 or none";
                 return false;
             }
             o.smtpPassClient = m;
             return true;
         }},
        {"smtp-tls-cert", Arg::Required, "FILE",
         "PEM certificate (chain) for the proxy's STARTTLS (with --smtp-tls-key)", true,
         [](DaemonOptions &o, const QString &v, QString *) {
             o.smtpTlsCert = v.trimmed();
             return true;
         }},
        {"smtp-tls-key", Arg::Required, "FILE",
         "the unencrypted PEM private key of --smtp-tls-cert", true,
         [](DaemonOptions &o, const QString &v, QString *) {
             o.smtpTlsKey = v.trimmed();
             return true;
         }},
        {"smtp-bare-lf", Arg::Required, "refuse|normalise",
         "a bare LF or CR in DATA: refuse (default: 521 and the connection closed) or normalise "
         "to CRLF (never an end of data)",
         true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             const QString m = v.trimmed().toLower();
             if (m != u"refuse" && m != u"normalise" && m != u"normalize") {
                 *e = u'"' + v + u"\" is neither refuse nor normalise";
                 return false;
             }
             o.smtpNormaliseBareLf = m != u"refuse";
             return true;
         }},
        {"smtp-max-connections", Arg::Required, "N", "SMTP proxy sessions at once (default 2500)",
         true, intOption(&DaemonOptions::smtpMaxConnections, 1, 1'000'000)},
        {"smtp-max-per-client", Arg::Required, "N",
         "SMTP proxy sessions at once from one client address (default 20; 0: no limit)", true,
         intOption(&DaemonOptions::smtpMaxPerClient, 0, 1'000'000)},
        {"smtp-rate-per-client", Arg::Required, "N",
         "SMTP proxy connections per minute from one client address (default 0: no limit)", true,
         intOption(&DaemonOptions::smtpRatePerClient, 0, 1'000'000)},
        {"smtp-max-message-size", Arg::Required, "BYTES",
         "largest message (advertised as SIZE; default 52428800)", true,
         intOption(&DaemonOptions::smtpMaxMessageSize, 1024, qint64(1) << 40)},
        {"smtp-command-timeout", Arg::Required, "S",
         "seconds a client may take for a command (default 300)", true,
         intOption(&DaemonOptions::smtpCommandTimeoutSeconds, 1, 3600)},
        {"smtp-data-timeout", Arg::Required, "S",
         "seconds a client may pause within DATA (default 180)", true,
         intOption(&DaemonOptions::smtpDataTimeoutSeconds, 1, 3600)},
        {"smtp-final-timeout", Arg::Required, "S",
         "seconds the backend may take to answer the final dot (default 600)", true,
         intOption(&DaemonOptions::smtpFinalTimeoutSeconds, 1, 7200)},
        {"smtp-banner-delay-ms", Arg::Required, "N",
         "wait N ms before the banner; clients that talk first get 554 (default 0)", true,
         intOption(&DaemonOptions::smtpBannerDelayMs, 0, 60'000)},
        {"smtp-backend-pool", Arg::Required, "N",
         "idle backend connections kept for the next SMTP sessions (default 20; 0: each "
         "session opens its own; never with the PROXY protocol)",
         true, intOption(&DaemonOptions::smtpBackendPool, 0, 10'000)},
        {"smtp-threads", Arg::Required, "N",
         "I/O threads for the SMTP proxy's client sessions, each with its own share of the "
         "backend pool; decisions stay on the main thread (default 0: sessions on the main "
         "thread)",
         true, intOption(&DaemonOptions::smtpThreads, 0, 64)},
        {"store", Arg::Required, "sqlite|redis://HOST:PORT[/DB]|redis-sentinel://...",
         "where the greylist lives: sqlite (default, in --dbdir) or a Redis server shared by "
         "several MX hosts, given directly or by its Sentinels as "
         "redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTERNAME[/DB] (docs/redis.md)",
         true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             const QString s = v.trimmed();
             if (s.compare(u"sqlite", Qt::CaseInsensitive) == 0) {
                 o.store = QStringLiteral("sqlite");
                 return true;
             }
             static const QRegularExpression url(
                 QStringLiteral(
                     "^redis://(\\[[0-9A-Fa-f:.]+\\]|[^/:@\\[\\]]+)(:[0-9]{1,5})?(/[0-9]{0,2})?$"),
                 QRegularExpression::CaseInsensitiveOption);
             // redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTERNAME[/DB] (docs/redis.md)
             static const QRegularExpression sentinel(
                 QStringLiteral("^redis-sentinel://"
                                "(\\[[0-9A-Fa-f:.]+\\]|[^/:@,\\[\\]]+)(:[0-9]{1,5})?"
                                "(,(\\[[0-9A-Fa-f:.]+\\]|[^/:@,\\[\\]]+)(:[0-9]{1,5})?)*"
                                "/[^/@\\s]+(/[0-9]{0,2})?$"),
                 QRegularExpression::CaseInsensitiveOption);
             if (!url.match(s).hasMatch() && !sentinel.match(s).hasMatch()) {
                 *e = u'"' + v +
                      u"\" is neither sqlite nor redis://HOST:PORT[/DB] nor "
                      u"redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTERNAME[/DB] (a password " +
                      u"goes in --redis-password-file)";
                 return false;
             }
             o.store = s;
             return true;
         }},
        {"redis-password-file", Arg::Required, "FILE",
         "Redis AUTH password: the first line of FILE (mode 0600)", true,
         [](DaemonOptions &o, const QString &v, QString *) {
             o.redisPasswordFile = v.trimmed();
             return true;
         }},
        {"triplet-key", Arg::Required, "ip|spf|spf-neutral",
         "the triplet's client part: ip (the client network; default), spf (the sender "
         "domain when its SPF passes the client), spf-neutral (pass or neutral); a DNS "
         "failure keys by ip (docs/spf.md)",
         true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             const QString s = v.trimmed().toLower();
             if (s != u"ip" && s != u"spf" && s != u"spf-neutral") {
                 *e = u'"' + v + u"\" is none of ip, spf, spf-neutral";
                 return false;
             }
             o.tripletKey = s;
             return true;
         }},
        {"dns-server", Arg::Required, "HOST:PORT",
         "the recursive DNS server for SPF: an IP address, port 53 unless given "
         "([::1]:53 for IPv6); default: the first nameserver of /etc/resolv.conf",
         true,
         [](DaemonOptions &o, const QString &v, QString *) {
             // Empty: /etc/resolv.conf's first nameserver (greygated parses the address).
             o.dnsServer = v.trimmed();
             return true;
         }},
        {"dns-timeout-ms", Arg::Required, "N",
         "a DNS query is sent again after N ms without an answer, twice at most (default 1500)",
         true, intOption(&DaemonOptions::dnsTimeoutMs, 10, 30'000)},
        {"redis-timeout-ms", Arg::Required, "N",
         "a Redis command (and the connect) must complete within N ms, else the failure mode "
         "applies (default 500)",
         true, intOption(&DaemonOptions::redisTimeoutMs, 10, 60'000)},
        {"redis-fail", Arg::Required, "open|closed",
         "Redis unreachable: open answers DUNNO (mail flows, not greylisted; default), closed "
         "defers with 451",
         true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             const QString s = v.trimmed().toLower();
             if (s != u"open" && s != u"closed") {
                 *e = u'"' + v + u"\" is neither open nor closed";
                 return false;
             }
             o.redisFailOpen = s == u"open";
             return true;
         }},
        {"migrate-store", Arg::Required, "FROM TO",
         "copy the store FROM into TO (each a database directory or a redis:// URL: triplets, "
         "policies, groups, auto allow, rejections, audit) and exit",
         false,
         [](DaemonOptions &o, const QString &v, QString *e) {
             const QStringList parts = v.split(u'\n');
             if (parts.size() != 2 || parts[0].trimmed().isEmpty() ||
                 parts[1].trimmed().isEmpty()) {
                 *e = QStringLiteral("needs two stores: --migrate-store FROM TO");
                 return false;
             }
             o.migrateFrom = parts[0].trimmed();
             o.migrateTo = parts[1].trimmed();
             return true;
         }},
        {"dbdir", Arg::Required, "DIR", "directory of the greylist database", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             if (v.trimmed().isEmpty()) {
                 *e = QStringLiteral("must not be empty");
                 return false;
             }
             o.dbDir = v.trimmed();
             return true;
         }},
        {"delay", Arg::Required, "N", "greylist for N seconds (default 60)", true,
         intOption(&DaemonOptions::delaySeconds, 0, 30 * kDay)},
        {"max-age", Arg::Required, "N",
         "passed triplets are forgotten after N days without use (default 36)", true,
         intOption(&DaemonOptions::maxAgeDays, 1, 3650)},
        {"retry-window", Arg::Required, "N",
         "a retry must come within N days, or N hours with 'h' (default 12h)", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             QString s = v.trimmed();
             qint64 unit = kDay;
             if (s.endsWith(u'h', Qt::CaseInsensitive)) {
                 unit = 3600;
                 s.chop(1);
             } else if (s.endsWith(u'd', Qt::CaseInsensitive)) {
                 s.chop(1);
             }
             qint64 n = 0;
             if (!parseInt(s, 1, unit == kDay ? 365 : 365 * 24, &n, e))
                 return false;
             o.retryWindowSeconds = n * unit;
             return true;
         }},
        {"greylist-text", Arg::Required, "TEXT",
         "deferral text; %s = seconds to wait, %m = minutes, %r = recipient domain", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             if (!singleLine(v, e))
                 return false;
             if (v.size() > 400) {
                 *e = QStringLiteral("longer than 400 characters");
                 return false;
             }
             o.greylistText = v;
             return true;
         }},
        {"greylist-code", Arg::Required, "CODE",
         "enhanced status code before the text, e.g. 4.2.0 (default none: Postfix says 4.7.1)",
         true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             static const QRegularExpression code(QStringLiteral("^4\\.[0-9]{1,3}\\.[0-9]{1,3}$"));
             const QString c = v.trimmed();
             if (!c.isEmpty() && !code.match(c).hasMatch()) {
                 *e = u'"' + c + u"\" is not a 4.X.Y enhanced status code";
                 return false;
             }
             o.greylistCode = c;
             return true;
         }},
        {"auto-whitelist-clients", Arg::Optional, "N",
         "whitelist a client after N passed deliveries (default 5; 0 disables)", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             if (v.isNull()) {
                 o.autoWhitelistClients = 5;
                 return true;
             }
             return intOption(&DaemonOptions::autoWhitelistClients, 0, 1'000'000)(o, v, e);
         }},
        {"lookup-by-subnet", Arg::None, nullptr,
         "group client addresses by network (--ipv4-prefix, --ipv6-prefix; default)", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             bool on = true;
             if (!v.isNull() && !parseBool(v, &on, e))
                 return false;
             o.lookupBySubnet = on;
             return true;
         }},
        {"lookup-by-host", Arg::None, nullptr, "use each client's exact address", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             bool on = true;
             if (!v.isNull() && !parseBool(v, &on, e))
                 return false;
             o.lookupBySubnet = !on;
             return true;
         }},
        {"no-strip-sender-tags", Arg::None, nullptr,
         "key senders as they are: no SRS/BATV/VERP/+tag rewriting (docs/rewriting.md)", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             bool on = true;
             if (!v.isNull() && !parseBool(v, &on, e))
                 return false;
             o.stripSenderTags = !on;
             return true;
         }},
        {"ipv4-prefix", Arg::Required, "N", "IPv4 network size for lookup by subnet (default 24)",
         true, intOption(&DaemonOptions::ipv4Prefix, 8, 32)},
        {"ipv6-prefix", Arg::Required, "N", "IPv6 network size for lookup by subnet (default 64)",
         true, intOption(&DaemonOptions::ipv6Prefix, 16, 128)},
        {"recipient-delimiter", Arg::Required, "C",
         "fold recipient extensions (user+ext) at C (default none: kept)", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             const QString d = v.trimmed();
             if (d.size() > 1 || (d.size() == 1 && (d[0].unicode() <= 0x20 || d[0] == u'@' ||
                                                    d[0].unicode() >= 0x7f))) {
                 *e = QStringLiteral("must be one printable ASCII character other than '@'");
                 return false;
             }
             o.recipientDelimiter = d;
             return true;
         }},
        {"sync", Arg::Required, "process|full",
         "durability of a commit: process (survives kill -9, default) or full (power loss)", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             const QString s = v.trimmed().toLower();
             if (s == u"process")
                 o.sync = DaemonOptions::SyncMode::Process;
             else if (s == u"full")
                 o.sync = DaemonOptions::SyncMode::Full;
             else {
                 *e = u'"' + v + u"\" is neither process nor full";
                 return false;
             }
             return true;
         }},
        {"hostname", Arg::Required, "NAME",
         "host name in the X-Greylist header (default: the system's)", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             if (!singleLine(v, e))
                 return false;
             o.hostname = v.trimmed();
             return true;
         }},
        {"request-timeout", Arg::Required, "N",
         "close a connection whose request is not complete N seconds after its first byte "
         "(default 30)",
         true, intOption(&DaemonOptions::requestTimeoutSeconds, 1, 3600)},
        {"idle-timeout", Arg::Required, "N",
         "close a connection idle for N seconds (default 600; Postfix's own max is 300)", true,
         intOption(&DaemonOptions::idleTimeoutSeconds, 1, 86400)},
        {"max-connections", Arg::Required, "N", "connections served at once (default 1000)", true,
         intOption(&DaemonOptions::maxConnections, 1, 100'000)},
        {"policy-io-threads", Arg::Required, "N",
         "I/O threads that read, parse and write the policy connections; decisions stay on "
         "the main thread (default 0: everything on the main thread)",
         true, intOption(&DaemonOptions::policyIoThreads, 0, 64)},
        {"policy-busy-poll", Arg::Required, "MICROSECONDS",
         "after answering, wait this long for the next request without sleeping, while "
         "requests keep coming that quickly (default 50; 0: always sleep; only without "
         "policy I/O threads, on the epoll event loop)",
         true, intOption(&DaemonOptions::policyBusyPollUs, 0, 10'000)},
        {"event-dispatcher", Arg::Required, "epoll|qt",
         "the daemon's event loop: epoll (default) or qt (Qt's poll-based one); command "
         "line only",
         false,
         [](DaemonOptions &o, const QString &v, QString *e) {
             const auto kind = EpollEventDispatcherFactory::parse(v.trimmed());
             if (!kind) {
                 *e = QStringLiteral("must be epoll or qt");
                 return false;
             }
             o.eventDispatcher = QLatin1StringView(EpollEventDispatcherFactory::name(*kind));
             return true;
         }},
        {"policies", Arg::Required, "FILE",
         "import this JSON policy document at start (docs/policies.md); invalid: no start", true,
         [](DaemonOptions &o, const QString &v, QString *) {
             o.policiesFile = v.trimmed(); // empty: none
             return true;
         }},
        {"internal-domains", Arg::Required, "LIST",
         "our domains, comma-separated; *.example.com also covers its subdomains", true,
         [](DaemonOptions &o, const QString &v, QString *) {
             o.internalDomains = listOrUnset(v);
             return true;
         }},
        {"internal-networks", Arg::Required, "LIST",
         "networks outbound mail comes from, comma-separated CIDRs", true,
         [](DaemonOptions &o, const QString &v, QString *) {
             o.internalNetworks = listOrUnset(v);
             return true;
         }},
        {"auto-allow-lifetime", Arg::Required, "DAYS",
         "days a learned auto allow entry lives (default 60)", true,
         intOption(&DaemonOptions::autoAllowLifetimeDays, 1, 3650)},
        {"reject-text", Arg::Required, "TEXT",
         "text after REJECT 5.7.1 for Blocked Senders (default: Sender blocked by policy)", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             if (!singleLine(v, e))
                 return false;
             if (v.trimmed().isEmpty() || v.size() > 400) {
                 *e = QStringLiteral("must be 1 to 400 characters");
                 return false;
             }
             o.rejectText = v.trimmed();
             return true;
         }},
        {"log-level", Arg::Required, "LEVEL", "debug, info (default), warning or error", true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             const auto level = Logger::parseLevel(v.trimmed());
             if (!level) {
                 *e = u'"' + v + u"\" is not debug, info, warning or error";
                 return false;
             }
             o.logLevel = *level;
             return true;
         }},
        {"user", Arg::Required, "NAME",
         "started as root: run as NAME once the sockets are bound and the store is open "
         "(default greygate; --user=root keeps root)",
         true,
         [](DaemonOptions &o, const QString &v, QString *e) {
             static const QRegularExpression name(QStringLiteral("^[a-z_][a-z0-9_.-]{0,31}$"));
             const QString u = v.trimmed();
             if (!u.isEmpty() && !name.match(u).hasMatch()) {
                 *e = u'"' + v + u"\" is not a user name";
                 return false;
             }
             o.user = u;
             return true;
         }},
        {"pidfile", Arg::Required, "FILE", "write the process id to FILE", true,
         [](DaemonOptions &o, const QString &v, QString *) {
             o.pidFile = v.trimmed();
             return true;
         }},
        {"config", Arg::Required, "FILE", "read options from FILE (command line wins)", false,
         [](DaemonOptions &o, const QString &v, QString *) {
             o.configFile = v;
             return true;
         }},
        {"version", Arg::None, nullptr, "print the version and exit", false,
         [](DaemonOptions &, const QString &, QString *) {
             return true;
         }},
        {"help", Arg::None, nullptr, "print this help and exit", false,
         [](DaemonOptions &, const QString &, QString *) {
             return true;
         }},
    };
    return table;
}

const Spec *findSpec(QStringView name)
{
    for (const Spec &s : specs()) {
        if (name == QLatin1StringView(s.name))
            return &s;
    }
    return nullptr;
}

struct Given
{
    const Spec *spec;
    QString value; // null when no value was given
};

} // namespace

bool DaemonOptions::apply(const QString &key, const QString &value, bool fromFile, QString *error)
{
    const Spec *spec = findSpec(key);
    if (!spec || (fromFile && !spec->inFile)) {
        *error = u"unknown option \"" + key + u'"';
        return false;
    }
    QString why;
    if (!spec->apply(*this, value, &why)) {
        *error = key + u": " + why;
        return false;
    }
    return true;
}

DaemonOptions::ParseResult DaemonOptions::parse(const QStringList &arguments, QString *error)
{
    commandLine = arguments;
    // First pass: recognise every argument, so a typo is reported before any file is read
    // and --config can come anywhere on the line.
    QList<Given> given;
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString &arg = arguments[i];
        if (!arg.startsWith(u"--") || arg.size() == 2) {
            *error = u"unexpected argument \"" + arg + u"\" (options look like --name=value)";
            return ParseResult::Error;
        }
        const qsizetype eq = arg.indexOf(u'=');
        const QString name = arg.mid(2, eq < 0 ? -1 : eq - 2);
        const Spec *spec = findSpec(name);
        if (!spec) {
            *error = u"unknown option --" + name + u" (see --help)";
            return ParseResult::Error;
        }
        QString value; // stays null without a value
        if (eq >= 0) {
            if (spec->arg == Arg::None) {
                *error = u"--" + name + u" takes no value";
                return ParseResult::Error;
            }
            value = arg.mid(eq + 1);
        } else if (spec->arg == Arg::Required) {
            if (i + 1 >= arguments.size()) {
                *error = u"--" + name + u" needs a value: --" + name + u'=' +
                         QLatin1StringView(spec->valueName);
                return ParseResult::Error;
            }
            value = arguments[++i];
        }
        // --migrate-store FROM TO: the one option with two values.
        if (qstrcmp(spec->name, "migrate-store") == 0) {
            if (i + 1 >= arguments.size()) {
                *error =
                    QStringLiteral("--migrate-store needs two stores: --migrate-store FROM TO");
                return ParseResult::Error;
            }
            value += u'\n' + arguments[++i];
        }
        given.append(Given{spec, value});
    }

    for (const Given &g : given) {
        if (qstrcmp(g.spec->name, "help") == 0)
            return ParseResult::ShowHelp;
    }
    for (const Given &g : given) {
        if (qstrcmp(g.spec->name, "version") == 0)
            return ParseResult::ShowVersion;
    }
    for (const Given &g : given) {
        if (qstrcmp(g.spec->name, "config") == 0)
            configFile = g.value;
    }

    if (!configFile.isEmpty()) {
        ConfigFile file;
        if (!file.load(configFile, configKeys(), error))
            return ParseResult::Error;
        for (const ConfigFile::Entry &entry : file.entries()) {
            QString why;
            if (!apply(entry.key, entry.value, true, &why)) {
                *error = configFile + u':' + QString::number(entry.line) + u": " + why;
                return ParseResult::Error;
            }
        }
    }

    for (const Given &g : given) {
        QString why;
        if (!g.spec->apply(*this, g.value, &why)) {
            *error = u"--" + QLatin1StringView(g.spec->name) + u": " + why;
            return ParseResult::Error;
        }
    }

    if (retryWindowSeconds <= delaySeconds) {
        *error = u"the retry window (" + QString::number(retryWindowSeconds) +
                 u" s) must be longer than the delay (" + QString::number(delaySeconds) + u" s)";
        return ParseResult::Error;
    }
    return ParseResult::Run;
}

QString DaemonOptions::helpText(const QString &programName)
{
    QString out = u"Usage: " + programName +
                  u" [OPTIONS]\nGreylisting policy server for Postfix "
                  u"(check_policy_service inet:127.0.0.1:10023).\n\n";
    for (const Spec &s : specs()) {
        QString left = u"  --" + QLatin1StringView(s.name);
        if (s.arg == Arg::Required)
            left += u'=' + QLatin1StringView(s.valueName);
        else if (s.arg == Arg::Optional)
            left += u"[=" + QLatin1StringView(s.valueName) + u']';
        out += left.leftJustified(36) + u' ' + QString::fromUtf8(s.help) + u'\n';
    }
    out += u"\nPrecedence: defaults < --config file < command line.\n"
           u"Exit codes: 0 clean shutdown, 1 runtime error, 2 bad options or config,\n"
           u"3 the database cannot be opened, 4 cannot listen.\n";
    return out;
}

QStringList DaemonOptions::configKeys()
{
    QStringList keys;
    for (const Spec &s : specs()) {
        if (s.inFile)
            keys.append(QString::fromLatin1(s.name));
    }
    return keys;
}

QString DaemonOptions::syncName(SyncMode mode)
{
    return mode == SyncMode::Full ? QStringLiteral("full") : QStringLiteral("process");
}

} // namespace greygate
