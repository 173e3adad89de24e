// SPDX-License-Identifier: GPL-3.0-or-later
#include "Greygatectl.h"

#include "TextTable.h"
#include "protocol/Fingerprint.h"
#include "protocol/QueueMessages.h"
#include "protocol/RejectionMessages.h"
#include "protocol/StatsRange.h"
#include "protocol/Status.h"

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <cstdio>

namespace greygate {

using namespace protocol;

namespace {

const QStringList kValueOptions = {
    QStringLiteral("proxy"),       QStringLiteral("token-file"), QStringLiteral("timeout"),
    QStringLiteral("state"),       QStringLiteral("client"),     QStringLiteral("sender"),
    QStringLiteral("recipient"),   QStringLiteral("domain"),     QStringLiteral("sort"),
    QStringLiteral("offset"),      QStringLiteral("limit"),      QStringLiteral("from"),
    QStringLiteral("to"),          QStringLiteral("format"),     QStringLiteral("since"),
    QStringLiteral("count"),       QStringLiteral("reason"),     QStringLiteral("kind"),
    QStringLiteral("version"),     QStringLiteral("filter"),     QStringLiteral("expires"),
    QStringLiteral("fingerprint"), QStringLiteral("config"),     QStringLiteral("mode"),
    QStringLiteral("hours"),       QStringLiteral("for"),        QStringLiteral("step"),
    QStringLiteral("rules"),
};
// What a --config file may hold (key = value): how to reach a proxy, not a command's options.
const QStringList kConfigKeys = {
    QStringLiteral("proxy"),   QStringLiteral("token-file"),  QStringLiteral("fingerprint"),
    QStringLiteral("timeout"), QStringLiteral("header-auth"), QStringLiteral("trust-on-first-use")};
constexpr qint64 kMaxConfigBytes = 64 * 1024;
const QStringList kFlags = {QStringLiteral("json"),        QStringLiteral("asc"),
                            QStringLiteral("header-auth"), QStringLiteral("help"),
                            QStringLiteral("replace"),     QStringLiteral("trust-on-first-use"),
                            QStringLiteral("all")};

void out(const QString &text)
{
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

void err(const QString &text)
{
    const QByteArray bytes = (QStringLiteral("greygatectl: ") + text + u'\n').toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
}

QString timeText(qint64 t)
{
    return t <= 0 ? QStringLiteral("-")
                  : QDateTime::fromSecsSinceEpoch(t, Qt::UTC).toString(Qt::ISODate);
}

// Epoch seconds or an ISO 8601 date/time (UTC unless it says otherwise).
std::optional<qint64> parseTime(const QString &text)
{
    bool ok = false;
    const qint64 n = text.toLongLong(&ok);
    if (ok && n >= 0)
        return n;
    QDateTime t = QDateTime::fromString(text, Qt::ISODate);
    if (!t.isValid())
        return std::nullopt;
    if (t.timeSpec() == Qt::LocalTime)
        t.setTimeSpec(Qt::UTC);
    return t.toSecsSinceEpoch();
}

int exitFor(const ProtocolError &e)
{
    switch (e.code) {
    case ErrorCode::NotFound:
        return CtlNotFound;
    case ErrorCode::Unauthenticated:
        return CtlConnect;
    default:
        return CtlFailed;
    }
}

} // namespace

Greygatectl::~Greygatectl() = default;

void Greygatectl::print(const QString &text)
{
    out(text);
}

void Greygatectl::printError(const QString &text)
{
    err(text);
}

std::optional<qint64> Greygatectl::timeArg(const QString &text)
{
    return parseTime(text);
}

QString Greygatectl::helpText()
{
    return QStringLiteral(
        "Usage: greygatectl --proxy ws://HOST:PORT|wss://HOST:PORT --token-file FILE\n"
        "                   [--fingerprint SHA256 | --trust-on-first-use] [--config FILE]\n"
        "                   [--json] COMMAND...\n"
        "\n"
        "Commands:\n"
        "  status                                the proxy, its counters and its greylist\n"
        "  queue list [--state any|deferred|passed] [--client IP|NET] [--sender TEXT]\n"
        "             [--recipient TEXT] [--domain DOMAIN] [--sort KEY] [--asc]\n"
        "             [--offset N] [--limit N]\n"
        "  queue release|delete|permit CLIENT SENDER RECIPIENT   (as queue list shows them)\n"
        "  policy list | show ID | add FILE | edit ID FILE [--version V] | delete ID VERSION\n"
        "  policy import FILE | export\n"
        "  policy explain CLIENT SENDER RECIPIENT\n"
        "        add and edit take --mode enforce|shadow (shadow: log only, never acts)\n"
        "  policy replay FILE [--hours N]        what a candidate document would change\n"
        "  policy versions | diff VERSION [VERSION] | rollback VERSION\n"
        "  group list | show GROUP | add NAME [--kind custom|permitted|blocked]\n"
        "  group delete GROUP | members add|remove GROUP MEMBER...\n"
        "  group import GROUP CSVFILE [--replace] | export GROUP\n"
        "        GROUP: an id or a name; changes are made from --version V when given (a\n"
        "        stale one is refused), else from the version just read\n"
        "  autoallow list [--filter TEXT] [--offset N] [--limit N]\n"
        "  autoallow add EXTERNAL INTERNAL [--expires T] | remove EXTERNAL INTERNAL\n"
        "  rejections [--from T] [--to T] [--client|--sender|--recipient|--reason TEXT]\n"
        "             [--offset N] [--limit N]\n"
        "  report --from T --to T [--format csv|json]\n"
        "  release CLIENT SENDER RECIPIENT | --sender ADDRESS | --domain DOMAIN\n"
        "          --for DURATION --reason TEXT   a bypass that ends by itself (2h, 90m, 1d)\n"
        "  expect --from ADDRESS|DOMAIN --to RECIPIENT --for DURATION --reason TEXT\n"
        "  releases [--all] | revoke ID | audit   active releases, ending one, their audit\n"
        "  delay [--from T] [--to T] [--step hour|day|week] [--limit N]\n"
        "                                        delay greylisting added (p50/p95/max)\n"
        "  triage [--from T] [--to T] [--limit N] failed-to-retry entries, likeliest first\n"
        "  alerts                                the recent alerts\n"
        "  poolbypass list | retries | audit | remove ID\n"
        "        pool bypasses, the pool retries seen, the bypasses' audit, ending one\n"
        "  poolbypass add DOMAIN --for DURATION [--reason TEXT] [RANGE...]\n"
        "        no greylisting for DOMAIN from its SPF ranges (or the RANGEs given) a while\n"
        "  rewriting list | set FILE [--version V] | test ADDRESS... [--rules FILE]\n"
        "        the sender rewriting rules; test shows each address's key (under FILE's\n"
        "        rules when given, nothing saved); set replaces the table (version-checked)\n"
        "  watch [--since ID] [--count N]          live events (Ctrl-C to stop)\n"
        "\n"
        "Times T: seconds since the epoch or ISO 8601 (UTC). FILE '-' reads standard input.\n"
        "--header-auth sends the token in the Authorization header instead of a first message.\n"
        "wss://: the proxy's certificate must have the SHA-256 given with --fingerprint (as\n"
        "greygated printed it at start); without one greygatectl prints the fingerprint it saw\n"
        "and stops (exit 3), unless --trust-on-first-use accepts it once.\n"
        "--config FILE: \"key = value\" lines for proxy, token-file, fingerprint, timeout,\n"
        "header-auth and trust-on-first-use (yes/no); the command line wins.\n"
        "\n"
        "Exit codes: 0 done, 1 the proxy refused or failed the request, 2 bad command line,\n"
        "3 cannot connect or authentication refused, 4 not found.\n");
}

int Greygatectl::parse(const QStringList &arguments)
{
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString &a = arguments[i];
        if (!a.startsWith(QStringLiteral("--")) || a == u"--") {
            m_args.append(a);
            continue;
        }
        QString name = a.mid(2);
        QString value;
        const qsizetype eq = name.indexOf(u'=');
        if (eq >= 0) {
            value = name.mid(eq + 1);
            name.truncate(eq);
        }
        if (kFlags.contains(name) && eq < 0) {
            m_values.insert(name, QStringLiteral("1"));
            continue;
        }
        if (!kValueOptions.contains(name)) {
            err(QStringLiteral("unknown option --%1 (see --help)").arg(name));
            return CtlUsage;
        }
        if (eq < 0) {
            if (i + 1 >= arguments.size()) {
                err(QStringLiteral("--%1 needs a value").arg(name));
                return CtlUsage;
            }
            value = arguments[++i];
        }
        m_values.insert(name, value);
    }
    if (m_values.contains(QStringLiteral("help"))) {
        out(helpText());
        return -1;
    }
    if (m_values.contains(QStringLiteral("config")) &&
        !readConfig(m_values.value(QStringLiteral("config"))))
        return CtlUsage;
    m_json = m_values.contains(QStringLiteral("json"));
    m_url = m_values.value(QStringLiteral("proxy"));
    m_tokenFile = m_values.value(QStringLiteral("token-file"));
    if (m_args.isEmpty() || m_url.isEmpty() || m_tokenFile.isEmpty()) {
        err(QStringLiteral("--proxy, --token-file and a command are needed (see --help)"));
        return CtlUsage;
    }
    const QUrl url(m_url);
    if (!url.isValid() || (url.scheme() != u"ws" && url.scheme() != u"wss") ||
        url.host().isEmpty()) {
        err(QStringLiteral("--proxy must be ws://HOST:PORT or wss://HOST:PORT"));
        return CtlUsage;
    }
    if (m_values.contains(QStringLiteral("fingerprint"))) {
        if (url.scheme() != u"wss") {
            err(QStringLiteral("--fingerprint pins a TLS certificate: use it with wss://"));
            return CtlUsage;
        }
        if (Fingerprint::normalise(m_values.value(QStringLiteral("fingerprint"))).isEmpty()) {
            err(QStringLiteral("--fingerprint takes the certificate's SHA-256: 64 hex digits "
                               "(colons allowed)"));
            return CtlUsage;
        }
    }
    bool ok = true;
    if (m_values.contains(QStringLiteral("timeout")))
        m_timeoutMs = m_values.value(QStringLiteral("timeout")).toInt(&ok) * 1000;
    if (!ok || m_timeoutMs <= 0) {
        err(QStringLiteral("--timeout takes seconds"));
        return CtlUsage;
    }
    const QString command = m_args.first();
    const QStringList known = {
        QStringLiteral("status"),     QStringLiteral("queue"),     QStringLiteral("policy"),
        QStringLiteral("rejections"), QStringLiteral("report"),    QStringLiteral("watch"),
        QStringLiteral("group"),      QStringLiteral("autoallow"), QStringLiteral("release"),
        QStringLiteral("expect"),     QStringLiteral("releases"),  QStringLiteral("delay"),
        QStringLiteral("triage"),     QStringLiteral("alerts"),    QStringLiteral("poolbypass"),
        QStringLiteral("rewriting")};
    if (!known.contains(command)) {
        err(QStringLiteral("unknown command %1 (see --help)").arg(command));
        return CtlUsage;
    }
    return CtlOk;
}

void Greygatectl::run()
{
    QFile tokenFile(m_tokenFile);
    if (!tokenFile.open(QIODevice::ReadOnly)) {
        err(QStringLiteral("cannot read %1: %2").arg(m_tokenFile, tokenFile.errorString()));
        done(CtlConnect);
        return;
    }
    ProxyConnection::Options options;
    options.url = QUrl(m_url);
    options.token = tokenFile.read(4096).split('\n').value(0).trimmed();
    options.requestTimeoutMs = m_timeoutMs;
    options.connectTimeoutMs = m_timeoutMs;
    options.reconnect = m_args.first() == u"watch"; // a one-shot command fails fast
    options.authorizationHeader = m_values.contains(QStringLiteral("header-auth"));
    options.pinnedSha256 = m_values.value(QStringLiteral("fingerprint"));
    options.trustOnFirstUse = m_values.contains(QStringLiteral("trust-on-first-use"));
    m_connection = std::make_unique<ProxyConnection>(options);
    connect(m_connection.get(), &ProxyConnection::certificateSeen, this,
            [this](const QString &sha256, bool pinned) {
                if (!pinned && m_values.contains(QStringLiteral("trust-on-first-use")))
                    err(QStringLiteral("trusting the proxy's certificate on first use: SHA-256 "
                                       "%1 (pass --fingerprint %1 from now on)")
                            .arg(sha256));
            });
    connect(m_connection.get(), &ProxyConnection::ready, this, &Greygatectl::start,
            Qt::SingleShotConnection);
    connect(m_connection.get(), &ProxyConnection::stateChanged, this,
            [this](ProxyConnection::State state) {
                if (state == ProxyConnection::State::Refused ||
                    (state == ProxyConnection::State::Disconnected && !m_finished)) {
                    err(QStringLiteral("cannot use %1: %2").arg(m_url, m_connection->lastError()));
                    done(CtlConnect);
                } else if (state == ProxyConnection::State::Reconnecting) {
                    err(QStringLiteral("connection lost, reconnecting"));
                }
            });
    m_connection->open();
}

bool Greygatectl::readConfig(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        err(QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
        return false;
    }
    const QByteArray bytes = file.read(kMaxConfigBytes + 1);
    if (bytes.size() > kMaxConfigBytes) {
        err(QStringLiteral("%1: larger than %2 bytes").arg(path).arg(kMaxConfigBytes));
        return false;
    }
    const QList<QByteArray> lines = bytes.split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        const QString line = QString::fromUtf8(lines[i]).trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        const qsizetype eq = line.indexOf(u'=');
        const QString key = line.left(eq).trimmed();
        const QString value = line.mid(eq + 1).trimmed();
        const QString where = QStringLiteral("%1:%2: ").arg(path).arg(i + 1);
        if (eq < 0 || !kConfigKeys.contains(key)) {
            err(where + QStringLiteral("expected \"key = value\" with a key among ") +
                kConfigKeys.join(QStringLiteral(", ")));
            return false;
        }
        if (m_values.contains(key))
            continue; // the command line wins
        if (kFlags.contains(key)) {
            const QString v = value.toLower();
            if (v == u"yes" || v == u"true" || v == u"on" || v == u"1")
                m_values.insert(key, QStringLiteral("1"));
            else if (v != u"no" && v != u"false" && v != u"off" && v != u"0") {
                err(where + key + QStringLiteral(" takes yes or no"));
                return false;
            }
            continue;
        }
        m_values.insert(key, value);
    }
    return true;
}

void Greygatectl::done(int code)
{
    if (m_finished)
        return;
    m_finished = true;
    Q_EMIT finished(code);
}

void Greygatectl::call(const QString &method, const QJsonObject &params,
                       std::function<void(const QJsonValue &)> onResult)
{
    m_connection->call(method, params, [this, method, onResult](const Reply &r) {
        if (!r.ok) {
            err(QStringLiteral("%1: %2%3 (%4)")
                    .arg(method, r.error.field.isEmpty() ? QString() : r.error.field + u": ",
                         r.error.message, ProtocolError::codeName(r.error.code)));
            done(exitFor(r.error));
            return;
        }
        onResult(r.result);
    });
}

void Greygatectl::printJson(const QJsonValue &value)
{
    out(QString::fromUtf8(value.isArray() ? QJsonDocument(value.toArray()).toJson()
                                          : QJsonDocument(value.toObject()).toJson()));
}

bool Greygatectl::readJsonFile(const QString &path, QJsonObject *object)
{
    QFile file;
    const bool opened = path == u"-" ? file.open(stdin, QIODevice::ReadOnly)
                                     : (file.setFileName(path), file.open(QIODevice::ReadOnly));
    if (!opened) {
        err(QStringLiteral("cannot read %1: %2").arg(path, file.errorString()));
        return false;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.read(64 << 20), &error);
    if (!doc.isObject()) {
        err(QStringLiteral("%1: not a JSON object (%2)").arg(path, error.errorString()));
        return false;
    }
    *object = doc.object();
    return true;
}

std::optional<QJsonObject> Greygatectl::tripletArgs(int first)
{
    if (m_args.size() != first + 3) {
        err(QStringLiteral("%1 %2 takes CLIENT SENDER RECIPIENT").arg(m_args[0], m_args[1]));
        return std::nullopt;
    }
    return QJsonObject{{QStringLiteral("client"), m_args[first]},
                       {QStringLiteral("sender"), m_args[first + 1]},
                       {QStringLiteral("recipient"), m_args[first + 2]}};
}

void Greygatectl::start()
{
    const QString command = m_args.first();
    if (command == u"status")
        status();
    else if (command == u"queue")
        queue();
    else if (command == u"policy")
        policy();
    else if (command == u"rejections")
        rejections();
    else if (command == u"report")
        report();
    else if (command == u"group")
        group();
    else if (command == u"autoallow")
        autoAllow();
    else if (command == u"release" || command == u"expect")
        release();
    else if (command == u"releases")
        releases();
    else if (command == u"delay")
        delay();
    else if (command == u"triage")
        triage();
    else if (command == u"alerts")
        alerts();
    else if (command == u"poolbypass")
        poolBypass();
    else if (command == u"rewriting")
        rewriting();
    else
        watch();
}

void Greygatectl::status()
{
    call(QStringLiteral("status"), {}, [this](const QJsonValue &result) {
        if (m_json) {
            QJsonObject o = result.toObject();
            o.insert(QStringLiteral("hello"), m_connection->hello().toJson());
            printJson(o);
            done(CtlOk);
            return;
        }
        ProtocolError error;
        const std::optional<Status> s = Status::fromJson(result.toObject(), &error);
        if (!s) {
            err(QStringLiteral("malformed status: ") + error.message);
            done(CtlFailed);
            return;
        }
        const Hello &h = m_connection->hello();
        TextTable t({QStringLiteral("FIELD"), QStringLiteral("VALUE")});
        t.addRow({QStringLiteral("proxy"), h.proxyName});
        t.addRow({QStringLiteral("version"), h.engineVersion});
        t.addRow({QStringLiteral("store"), h.storeKind});
        t.addRow({QStringLiteral("role"), h.role});
        t.addRow({QStringLiteral("uptime"), QStringLiteral("%1 s").arg(s->uptimeSeconds)});
        t.addRow({QStringLiteral("triplets"), QString::number(s->triplets)});
        t.addRow({QStringLiteral("whitelisted clients"), QString::number(s->clients)});
        t.addRow({QStringLiteral("attempts"), QString::number(s->totals.attempts)});
        t.addRow({QStringLiteral("deferred"), QString::number(s->totals.deferred)});
        t.addRow({QStringLiteral("passed"), QString::number(s->totals.passed)});
        t.addRow({QStringLiteral("bypassed"), QString::number(s->totals.bypassed)});
        t.addRow({QStringLiteral("blocked"), QString::number(s->totals.blocked)});
        t.addRow({QStringLiteral("failed to retry"), QString::number(s->totals.failedToRetry)});
        t.addRow({QStringLiteral("policies"), QString::number(s->policies)});
        t.addRow({QStringLiteral("groups"), QString::number(s->groups)});
        t.addRow({QStringLiteral("auto allow"), QString::number(s->autoAllow)});
        t.addRow({QStringLiteral("last event"), QString::number(s->lastEventId)});
        out(t.text());
        done(CtlOk);
    });
}

void Greygatectl::queue()
{
    const QString sub = m_args.value(1);
    if (sub == u"release" || sub == u"delete" || sub == u"permit") {
        const std::optional<QJsonObject> params = tripletArgs(2);
        if (!params) {
            done(CtlUsage);
            return;
        }
        call(QStringLiteral("queue.") + sub, *params, [this, sub](const QJsonValue &result) {
            if (m_json)
                printJson(result);
            else
                out(QStringLiteral("%1: done\n").arg(sub));
            done(CtlOk);
        });
        return;
    }
    if (sub != u"list" || m_args.size() != 2) {
        err(QStringLiteral("queue takes list, release, delete or permit (see --help)"));
        done(CtlUsage);
        return;
    }
    QJsonObject params;
    for (const QString &key :
         {QStringLiteral("state"), QStringLiteral("client"), QStringLiteral("sender"),
          QStringLiteral("recipient"), QStringLiteral("domain"), QStringLiteral("sort")}) {
        if (m_values.contains(key))
            params.insert(key, m_values.value(key));
    }
    for (const QString &key : {QStringLiteral("offset"), QStringLiteral("limit")}) {
        if (m_values.contains(key))
            params.insert(key, m_values.value(key).toLongLong());
    }
    if (m_values.contains(QStringLiteral("asc")))
        params.insert(QStringLiteral("descending"), false);
    call(QStringLiteral("queue.list"), params, [this](const QJsonValue &result) {
        if (m_json) {
            printJson(result);
            done(CtlOk);
            return;
        }
        ProtocolError error;
        const std::optional<QueuePage> page = QueuePage::fromJson(result.toObject(), &error);
        if (!page) {
            err(QStringLiteral("malformed queue page: ") + error.message);
            done(CtlFailed);
            return;
        }
        TextTable t({QStringLiteral("CLIENT"), QStringLiteral("SENDER"),
                     QStringLiteral("RECIPIENT"), QStringLiteral("STATE"),
                     QStringLiteral("ATTEMPTS"), QStringLiteral("FIRST SEEN"),
                     QStringLiteral("PASS AT"), QStringLiteral("EXPIRES")});
        for (const QueueEntry &e : page->entries) {
            t.addRow({e.client, e.sender.isEmpty() ? QStringLiteral("<>") : e.sender, e.recipient,
                      e.state, QString::number(e.attempts), timeText(e.firstSeen),
                      timeText(e.passAt), timeText(e.expiresAt)});
        }
        out(t.text() + QStringLiteral("%1 of %2 entries from %3\n")
                           .arg(page->entries.size())
                           .arg(page->total)
                           .arg(page->offset));
        done(CtlOk);
    });
}

void Greygatectl::rejections()
{
    QJsonObject params;
    for (const QString &key : {QStringLiteral("from"), QStringLiteral("to")}) {
        if (!m_values.contains(key))
            continue;
        const std::optional<qint64> t = parseTime(m_values.value(key));
        if (!t) {
            err(QStringLiteral("--%1 is not a time").arg(key));
            done(CtlUsage);
            return;
        }
        params.insert(key, *t);
    }
    for (const QString &key : {QStringLiteral("client"), QStringLiteral("sender"),
                               QStringLiteral("recipient"), QStringLiteral("reason")}) {
        if (m_values.contains(key))
            params.insert(key, m_values.value(key));
    }
    for (const QString &key : {QStringLiteral("offset"), QStringLiteral("limit")}) {
        if (m_values.contains(key))
            params.insert(key, m_values.value(key).toLongLong());
    }
    call(QStringLiteral("rejections.list"), params, [this](const QJsonValue &result) {
        if (m_json) {
            printJson(result);
            done(CtlOk);
            return;
        }
        ProtocolError error;
        const std::optional<RejectionPage> page =
            RejectionPage::fromJson(result.toObject(), &error);
        if (!page) {
            err(QStringLiteral("malformed rejections: ") + error.message);
            done(CtlFailed);
            return;
        }
        TextTable t({QStringLiteral("TIME"), QStringLiteral("REASON"), QStringLiteral("CLIENT"),
                     QStringLiteral("SENDER"), QStringLiteral("RECIPIENT"),
                     QStringLiteral("ATTEMPTS")});
        for (const RejectionRow &r : page->rows)
            t.addRow({timeText(r.time), r.reason, r.client, r.sender, r.recipient,
                      QString::number(r.attempts)});
        out(t.text() +
            (page->more
                 ? QStringLiteral("(more: --offset %1)\n").arg(page->offset + page->rows.size())
                 : QString()));
        done(CtlOk);
    });
}

void Greygatectl::report()
{
    const std::optional<qint64> from = parseTime(m_values.value(QStringLiteral("from")));
    const std::optional<qint64> to = parseTime(m_values.value(QStringLiteral("to")));
    const QString format = m_values.value(QStringLiteral("format"), QStringLiteral("csv"));
    if (!from || !to || (format != u"csv" && format != u"json")) {
        err(QStringLiteral("report takes --from T --to T [--format csv|json]"));
        done(CtlUsage);
        return;
    }
    call(QStringLiteral("report"),
         QJsonObject{{QStringLiteral("from"), *from}, {QStringLiteral("to"), *to}},
         [this, format](const QJsonValue &result) {
             if (format == u"json" || m_json) {
                 printJson(result);
                 done(CtlOk);
                 return;
             }
             ProtocolError error;
             const std::optional<StatsRange> r = StatsRange::fromJson(result.toObject(), &error);
             if (!r) {
                 err(QStringLiteral("malformed report: ") + error.message);
                 done(CtlFailed);
                 return;
             }
             QString csv = QStringLiteral("time,attempts,deferred,passed,bypassed,blocked,"
                                          "failedToRetry\n");
             const auto row = [](const QString &time, const Counters &c) {
                 return QStringLiteral("%1,%2,%3,%4,%5,%6,%7\n")
                     .arg(time)
                     .arg(c.attempts)
                     .arg(c.deferred)
                     .arg(c.passed)
                     .arg(c.bypassed)
                     .arg(c.blocked)
                     .arg(c.failedToRetry);
             };
             for (const StatsBucket &b : r->buckets)
                 csv += row(timeText(b.time), b.counters);
             csv += row(QStringLiteral("total"), r->total);
             out(csv);
             done(CtlOk);
         });
}

void Greygatectl::watch()
{
    bool ok = true;
    if (m_values.contains(QStringLiteral("count")))
        m_watchLeft = m_values.value(QStringLiteral("count")).toLongLong(&ok);
    std::optional<quint64> since;
    if (ok && m_values.contains(QStringLiteral("since")))
        since = m_values.value(QStringLiteral("since")).toULongLong(&ok);
    if (!ok) {
        err(QStringLiteral("--count and --since take numbers"));
        done(CtlUsage);
        return;
    }
    connect(m_connection.get(), &ProxyConnection::resyncNeeded, this,
            [] { err(QStringLiteral("events were missed (resync)")); });
    connect(
        m_connection.get(), &ProxyConnection::eventsReceived, this,
        [this](const QJsonArray &events) {
            for (const QJsonValue &v : events) {
                if (m_finished)
                    return;
                const QJsonObject e = v.toObject();
                if (m_json) {
                    out(QString::fromUtf8(QJsonDocument(e).toJson(QJsonDocument::Compact)) + u'\n');
                } else {
                    QStringList parts = {QString::number(e.value(QStringLiteral("id")).toInteger()),
                                         timeText(e.value(QStringLiteral("time")).toInteger()),
                                         e.value(QStringLiteral("type")).toString()};
                    for (const QString &key :
                         {QStringLiteral("outcome"), QStringLiteral("action"),
                          QStringLiteral("subject"), QStringLiteral("client"),
                          QStringLiteral("sender"), QStringLiteral("recipient"),
                          QStringLiteral("who")}) {
                        if (e.contains(key))
                            parts.append(key + u'=' + TextTable::clean(e.value(key).toString()));
                    }
                    out(parts.join(u' ') + u'\n');
                }
                if (m_watchLeft > 0 && --m_watchLeft == 0) {
                    done(CtlOk);
                    return;
                }
            }
        });
    m_connection->subscribe(since);
}

} // namespace greygate
