// SPDX-License-Identifier: GPL-3.0-or-later
#include "Greygated.h"

#include "ExitCode.h"
#include "PolicyStartup.h"
#include "RestartNeeded.h"
#include "SmtpProxySetup.h"
#include "alerts/DaemonWatch.h"
#include "alerts/ShadowAnnotator.h"
#include "control/AnswerFirstRecorder.h"
#include "control/ControlServer.h"
#include "control/DecisionRecorder.h"
#include "control/MetricsRenderer.h"
#include "control/MetricsServer.h"
#include "dns/DnsResolver.h"
#include "events/EventLog.h"
#include "events/StatsFile.h"
#include "greylist/GreylistEngine.h"
#include "greylist/SenderRewriteDocument.h"
#include "greylist/SenderRewriter.h"
#include "policyd/GreylistPolicyHandler.h"
#include "policyd/PolicyServer.h"
#include "smtp/PolicyHandlerDecider.h"
#include "smtp/SmtpServer.h"
#include "spf/SpfEvaluator.h"
#include "spf/SpfTripletKeyer.h"
#include "store/SqliteStore.h"
#include "store/redis/RedisDecider.h"
#include "store/redis/RedisPolicySync.h"
#include "store/redis/RedisQueue.h"
#include "store/redis/RedisRuntime.h"
#include "store/redis/RedisStore.h"
#include "store/redis/StoreMigration.h"
#include "util/LogLine.h"
#include "util/Logger.h"
#include "util/Version.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QSaveFile>
#include <QSysInfo>

Q_LOGGING_CATEGORY(lcDaemon, "greygate.daemon", QtInfoMsg)

namespace greygate {

using namespace Qt::StringLiterals;

namespace {

// The control API's queue over the shared Redis store (answered later, docs/redis.md).
SharedQueue sharedQueue(RedisQueue &queue)
{
    const auto change = [](const SharedQueue::ChangeDone &done) {
        return [done](std::optional<RedisQueue::Change> result, const QString &error) {
            done(result ? std::optional(SharedQueue::Change(*result)) : std::nullopt, error);
        };
    };
    SharedQueue shared;
    shared.list = [&queue](const TripletQuery &q, SharedQueue::ListDone done) {
        queue.list(q, std::move(done));
    };
    shared.release = [&queue, change](const TripletKey &key, SharedQueue::ChangeDone done) {
        queue.release(key, change(done));
    };
    shared.remove = [&queue, change](const TripletKey &key, SharedQueue::ChangeDone done) {
        queue.remove(key, change(done));
    };
    shared.expiresAt = [&queue](const TripletState &s) {
        return queue.expiresAt(s);
    };
    shared.maxWindow = RedisQueue::kMaxWindow;
    return shared;
}

GreylistConfig greylistConfig(const DaemonOptions &o)
{
    GreylistConfig c;
    c.delay = o.delaySeconds;
    c.retryWindow = o.retryWindowSeconds;
    c.passedLifetime = o.maxAgeDays * 86400;
    c.autoWhitelistClients = quint32(o.autoWhitelistClients);
    c.lookupBySubnet = o.lookupBySubnet;
    c.ipv4Prefix = o.ipv4Prefix;
    c.ipv6Prefix = o.ipv6Prefix;
    c.recipientDelimiter = o.recipientDelimiter.toLatin1();
    c.stripSenderTags = o.stripSenderTags;
    return c;
}

// A resolver and the SPF evaluator over it, children of the daemon: they outlive the handler
// and the watch that use them. A whole evaluation may wait for a few queries in turn; past
// four timeouts it is a temperror (and, when keying, the IP-based triplet).
SpfEvaluator *makeSpfEvaluator(const DnsServerAddress &server, int timeoutMs, QObject *parent)
{
    DnsResolverOptions dnsOptions;
    dnsOptions.server = server;
    dnsOptions.timeoutMs = timeoutMs;
    auto *resolver = new DnsResolver(dnsOptions, parent);
    return new SpfEvaluator(*resolver, 4 * timeoutMs, parent);
}

void logError(const char *message, const QString &error)
{
    qCCritical(lcDaemon).noquote() << LogLine(message).add("error", error).text();
}

} // namespace

Greygated::Greygated(const DaemonOptions &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
{}

Greygated::~Greygated()
{
    m_metrics.reset();
    m_smtp.reset();
    m_smtpDecider.reset();
    m_control.reset();
    m_server.reset();
    m_serverHandler.reset();
    m_recorder.reset();
    if (m_events)
        m_events->setAttemptAnnotator(nullptr); // it evaluates with the handler
    m_handler.reset();
    if (m_store)
        m_store->close();
}

int Greygated::start()
{
    if (!m_options.migrateFrom.isEmpty())
        return migrateStore();
    QHostAddress address;
    if (m_options.listenHost.compare(u"localhost", Qt::CaseInsensitive) == 0)
        address = QHostAddress(QHostAddress::LocalHost);
    else if (!address.setAddress(m_options.listenHost)) {
        logError("bad --inet", u"\"" + m_options.listenHost + u"\" is not an IP address");
        return ExitUsage;
    }
    // A control API on a non-loopback address needs TLS (--control-tls=off there is a
    // configuration mistake): refused before anything is opened.
    if (!m_options.controlHost.isEmpty()) {
        QHostAddress control;
        if (m_options.controlHost.compare(u"localhost", Qt::CaseInsensitive) == 0)
            control = QHostAddress(QHostAddress::LocalHost);
        else if (!control.setAddress(m_options.controlHost)) {
            logError("bad --control-listen",
                     u"\"" + m_options.controlHost + u"\" is not an IP address");
            return ExitUsage;
        }
        const std::optional<ControlCertificate::Mode> tlsMode =
            ControlCertificate::parseMode(m_options.controlTls);
        QString tlsError;
        if (!tlsMode || !ControlCertificate::useTls(control, *tlsMode,
                                                    !m_options.controlTlsCert.isEmpty() ||
                                                        !m_options.controlTlsKey.isEmpty(),
                                                    &tlsError)) {
            logError("bad --control-listen", tlsMode ? tlsError : u"bad --control-tls"_s);
            return ExitUsage;
        }
        if (m_options.controlTlsCert.isEmpty() != m_options.controlTlsKey.isEmpty()) {
            logError("bad --control-tls-cert", u"--control-tls-cert and --control-tls-key go "
                                               u"together: give both, or neither to use a "
                                               u"generated certificate"_s);
            return ExitUsage;
        }
    }

    // The policy document and internal configuration are checked before anything else, so
    // a bad one refuses the start with the field named and touches nothing in the dbdir.
    PolicyStartup policies(m_options);
    QString error;
    if (!policies.prepare(&error)) {
        logError("invalid policy configuration", error);
        return ExitUsage;
    }

    GreylistPolicyOptions policy;
    policy.rejectText = m_options.rejectText.toUtf8();
    policy.autoAllowLifetime = m_options.autoAllowLifetimeDays * 86400;
    policy.greylistText = m_options.greylistText.toUtf8();
    policy.greylistCode = m_options.greylistCode.toLatin1();
    policy.hostname =
        (m_options.hostname.isEmpty() ? QSysInfo::machineHostName() : m_options.hostname).toUtf8();
    if (policy.hostname.isEmpty())
        policy.hostname = QByteArrayLiteral("localhost");

    PolicyServerOptions serverOptions;
    serverOptions.requestTimeoutMs = m_options.requestTimeoutSeconds * 1000;
    serverOptions.idleTimeoutMs = m_options.idleTimeoutSeconds * 1000;
    serverOptions.maxConnections = m_options.maxConnections;
    serverOptions.ioThreads = m_options.policyIoThreads;
    serverOptions.busyPoll = std::chrono::microseconds(m_options.policyBusyPollUs);

    if (m_options.store.startsWith(u"redis://", Qt::CaseInsensitive) ||
        m_options.store.startsWith(u"redis-sentinel://", Qt::CaseInsensitive)) {
        if (const int redis = openRedis(greylistConfig(m_options)); redis != ExitOk)
            return redis;
    } else {
        SqliteStoreOptions storeOptions;
        storeOptions.dbdir = m_options.dbDir;
        storeOptions.sync =
            m_options.sync == DaemonOptions::SyncMode::Full ? SyncMode::Full : SyncMode::Process;
        m_store = std::make_unique<SqliteStore>(storeOptions);
    }
    m_engine = std::make_unique<GreylistEngine>(greylistConfig(m_options), m_passClock);
    m_handler =
        std::make_unique<GreylistPolicyHandler>(*m_engine, *m_store, m_passClock, policy, this);
    m_events = std::make_unique<EventLog>();
    m_recorder = std::make_unique<DecisionRecorder>(*m_handler, *m_events, m_passClock);
    // Shadow policies' would-be effects on every attempt, with or without the control API.
    m_events->setAttemptAnnotator(ShadowAnnotator(*m_handler, m_engine->normaliser()));
    // Redis mode answers asynchronously (the recorder forwards and records in the callback).
    if (m_redis)
        m_handler->setAsyncDecider(&m_redis->decider());
    // SPF-keyed triplets (docs/spf.md): set before the policy server and the SMTP proxy ask
    // whether answers come asynchronously. The resolver, evaluator and keyer are children of
    // the daemon: they outlive the handler, which only holds the keyer.
    if (const std::optional<TripletKeyMode> keyMode =
            SpfTripletKeyer::parseMode(m_options.tripletKey);
        keyMode && *keyMode != TripletKeyMode::Ip) {
        QString dnsError = QStringLiteral("no nameserver in /etc/resolv.conf: give "
                                          "--dns-server=HOST:PORT");
        const std::optional<DnsServerAddress> dns =
            m_options.dnsServer.isEmpty() ? DnsServerAddress::fromResolvConf()
                                          : DnsServerAddress::parse(m_options.dnsServer, &dnsError);
        if (!dns) {
            logError("bad --dns-server", dnsError);
            return ExitUsage;
        }
        SpfEvaluator *spf = makeSpfEvaluator(*dns, m_options.dnsTimeoutMs, this);
        m_handler->setSpfKeyer(new SpfTripletKeyer(*spf, *keyMode, this));
        qCInfo(lcDaemon).noquote() << LogLine("SPF-keyed triplets")
                                          .add("triplet_key", SpfTripletKeyer::modeName(*keyMode))
                                          .add("dns_server", dns->toString())
                                          .text();
    }
    m_serverHandler = std::make_unique<AnswerFirstRecorder>(*m_handler, *m_recorder);
    m_server = std::make_unique<PolicyServer>(*m_serverHandler, serverOptions, this);
    connect(m_server.get(), &PolicyServer::shutdownFinished, this, &Greygated::finishShutdown);

    // Listen first: a port in use fails at once, before a long load; Postfix connections
    // that arrive during the load wait in the kernel's backlog rather than being refused.
    // With --smtp-listen and without --inet the proxy runs alone: no policy server socket.
    const bool policyServer = m_options.smtpListenHost.isEmpty() || m_options.inetGiven;
    if (policyServer && !m_server->listen(address, m_options.listenPort, &error)) {
        logError("cannot listen", error);
        return ExitListen;
    }

    QElapsedTimer loading;
    loading.start();
    if (!QDir().mkpath(m_options.dbDir)) {
        logError("cannot create the database directory", m_options.dbDir);
        return ExitStore;
    }
    if (!(m_redis ? m_redis->open(&error) : m_store->open(&error))) {
        logError("cannot open the store",
                 (m_redis ? m_redis->options().displayName() : m_options.dbDir) + u": " + error);
        return ExitStore;
    }
    // With Redis the triplets stay there: every decision reads the shared state.
    if (!m_redis && !m_engine->load(*m_store, &error)) {
        logError("cannot load the greylist", m_options.dbDir + u": " + error);
        return ExitStore;
    }
    if (!m_handler->policies().load(*m_store, &error)) {
        logError("cannot load the policies", m_options.dbDir + u": " + error);
        return ExitStore;
    }
    // The sender rewriting table (docs/rewriting.md): the saved one, or the built-in one. A
    // stored table this version refuses must not stop the mail: the built-in table keys the
    // decisions until an admin saves a new one (rewriting.set overwrites it).
    std::optional<SenderRewriteRules> rewriting = SenderRewriteDocument::load(*m_store, &error);
    if (!rewriting) {
        qCWarning(lcDaemon).noquote()
            << LogLine("sender rewriting rules not loaded, using the built-in ones until a new "
                       "table is saved (greygatectl rewriting set FILE)")
                   .add("error", error)
                   .text();
        rewriting = SenderRewriteRules::defaults();
    }
    QString compileError; // load() compiled the table already
    m_engine->normaliser().setSenderRewriter(SenderRewriter::compile(*rewriting, &compileError));
    const quint64 failedCommits = m_handler->stats().failedCommits;
    const quint64 revisionBefore = m_handler->policies().set().revision();
    if (const ChangeOutcome applied = policies.apply(*m_handler, m_clock.now()); !applied.ok()) {
        const bool stored = m_handler->stats().failedCommits == failedCommits;
        logError(stored ? "invalid policy configuration" : "cannot save the policies",
                 (stored ? m_options.policiesFile + u": " : m_options.dbDir + u": ") +
                     applied.error);
        return stored ? ExitUsage : ExitStore;
    }
    restoreStats();
    // Delay analytics, alerts and the expiry of timed releases (engine/alerts), before the
    // control API that answers from them.
    AlertOptions alertOptions;
    if (!alertOptions.setWebhook(m_options.alertWebhook, &error) ||
        !alertOptions.apply(m_options.alertSettings, &error)) {
        logError("invalid alert settings", error);
        return ExitUsage;
    }
    auto *watch = new DaemonWatch(
        *m_events, *m_handler, m_clock, alertOptions,
        m_options.hostname.isEmpty() ? QSysInfo::machineHostName() : m_options.hostname, this);
    // The triage's PTR and SPF lookups: the SPF keyer's resolver, or one for --dns-server
    // alone (without either, only the names Postfix gives are known: no DNS traffic).
    if (!findChild<DnsResolver *>() && !m_options.dnsServer.isEmpty()) {
        const std::optional<DnsServerAddress> server =
            DnsServerAddress::parse(m_options.dnsServer, &error);
        if (!server) {
            logError("bad --dns-server", error);
            return ExitUsage;
        }
        makeSpfEvaluator(*server, m_options.dnsTimeoutMs, this);
    }
    watch->triage().setLookups(findChild<DnsResolver *>(), findChild<SpfEvaluator *>());
    watch->triage().setNormaliser(&m_engine->normaliser());
    // Deferrals reach the triage with the triplet their decision normalised (the recorder
    // goes before the watch, a child of this object).
    m_recorder->setDeferralTap(
        [triage = &watch->triage()](quint64 id, const QByteArray &client, const QByteArray &name,
                                    const QByteArray &network, const QByteArray &sender,
                                    const QByteArray &recipient) {
            triage->noteDeferred(id, client, name, network, sender, recipient);
        });
    watch->setStoreHealth([this] { return storeHealth(); });
    if (!watch->restoreDelays(DaemonWatch::delayPath(m_options.dbDir), &error))
        qCWarning(lcDaemon).noquote()
            << LogLine("delay statistics not restored, starting empty").add("error", error).text();
    watch->start();
    if (m_redis)
        m_redis->bind(*m_handler); // after the start-up writes, which went out blocking
    if (m_redis && m_redis->policySync()) {
        // A table saved through another host sharing the store applies here too.
        m_redis->policySync()->setSnapshotHook([engine = m_engine.get()](Store &snapshot) {
            QString why;
            const std::optional<SenderRewriteRules> rules =
                SenderRewriteDocument::load(snapshot, &why);
            if (rules && *rules != engine->normaliser().senderRewriter()->rules())
                engine->normaliser().setSenderRewriter(SenderRewriter::compile(*rules, &why));
        });
    }
    if (const int control = startControl(); control != ExitOk)
        return control;
    if (const int metrics = startMetrics(); metrics != ExitOk)
        return metrics;
    if (const int smtp = startSmtp(); smtp != ExitOk)
        return smtp;
    if (!m_options.pidFile.isEmpty() && !writePidFile(&error)) {
        logError("cannot write the pid file", error);
        return ExitRuntimeError;
    }
    m_handler->startSweeping();
    m_statsTimer.setInterval(StatsFile::kSaveIntervalMs);
    connect(&m_statsTimer, &QTimer::timeout, this, &Greygated::saveStats);
    m_statsTimer.start();

    qCInfo(lcDaemon).noquote() << LogLine("greygated ready")
                                      .add("version", versionString())
                                      .add("listen", m_server->serverAddress().toString() + u':' +
                                                         QString::number(m_server->serverPort()))
                                      .add("dbdir", m_options.dbDir)
                                      .add("store", m_store->kind())
                                      .add("sync", DaemonOptions::syncName(m_options.sync))
                                      .add("triplets", qint64(m_engine->tripletCount()))
                                      .add("clients", qint64(m_engine->clientCount()))
                                      .add("load_ms", loading.elapsed())
                                      .add("delay", m_options.delaySeconds)
                                      .add("retry_window", m_options.retryWindowSeconds)
                                      .add("max_age_days", m_options.maxAgeDays)
                                      .add("auto_whitelist_clients", m_options.autoWhitelistClients)
                                      .text();
    const PolicyState &state = m_handler->policies();
    qCInfo(lcDaemon).noquote() << LogLine("policies ready")
                                      .add("policies", qint64(state.currentIndex().policyCount()))
                                      .add("groups", qint64(state.set().document().groups.size()))
                                      .add("auto_allow", qint64(state.set().autoAllow().size()))
                                      .add("revision", qint64(state.set().revision()))
                                      .add("imported_changes",
                                           qint64(state.set().revision() - revisionBefore))
                                      .add("policies_file", m_options.policiesFile)
                                      .text();
    return ExitOk;
}

void Greygated::shutdown()
{
    if (m_stopping)
        return;
    m_stopping = true;
    qCInfo(lcDaemon).noquote() << LogLine("shutting down").text();
    if (m_handler)
        m_handler->stopSweeping();
    if (m_redis)
        m_redis->stop();
    if (m_control)
        m_control->stop(); // no admin change may race the last commit
    if (m_metrics)
        m_metrics->stop();
    if (m_smtp) {
        connect(m_smtp.get(), &SmtpServer::shutdownFinished, this, [this] {
            m_smtpStopped = true;
            if (m_waitingForSmtp)
                finishShutdown();
        });
        m_smtp->shutdown(); // idle sessions get 421 now; a transaction may finish first
    }
    if (m_server)
        m_server->shutdown(); // -> shutdownFinished -> finishShutdown
    else
        finishShutdown();
}

bool Greygated::reload()
{
    if (m_stopping || !m_handler)
        return false;
    const auto refuse = [](const QString &error) {
        qCWarning(lcDaemon).noquote()
            << LogLine("reload refused, configuration unchanged").add("error", error).text();
        return false;
    };
    DaemonOptions next;
    QString error;
    const DaemonOptions::ParseResult parsed = next.parse(m_options.commandLine, &error);
    if (parsed != DaemonOptions::ParseResult::Run)
        return refuse(parsed == DaemonOptions::ParseResult::Error ? error
                                                                  : u"--help or --version"_s);
    // The whole document is read and validated before anything is applied, as at start.
    PolicyStartup policies(next);
    if (!policies.prepare(&error))
        return refuse(error);

    QStringList changed;
    if (next.logLevel != m_options.logLevel) {
        Logger::setThreshold(next.logLevel);
        m_options.logLevel = next.logLevel;
        changed.append(u"log-level"_s);
    }
    const quint64 failedCommits = m_handler->stats().failedCommits;
    const quint64 revisionBefore = m_handler->policies().set().revision();
    if (const ChangeOutcome applied = policies.apply(*m_handler, m_clock.now()); !applied.ok()) {
        const bool stored = m_handler->stats().failedCommits == failedCommits;
        logError(stored ? "reload: policies not applied" : "reload: cannot save the policies",
                 (stored ? next.policiesFile + u": " : m_options.dbDir + u": ") + applied.error);
        return false;
    }
    const qint64 imported = qint64(m_handler->policies().set().revision() - revisionBefore);
    if (imported > 0)
        changed.append(u"policies"_s);
    m_options.policiesFile = next.policiesFile;
    m_options.internalDomains = next.internalDomains;
    m_options.internalNetworks = next.internalNetworks;

    const QStringList restart = restartNeeded(m_options, next);
    qCInfo(lcDaemon).noquote() << LogLine("reloaded")
                                      .add("config", m_options.configFile)
                                      .add("policies_file", next.policiesFile)
                                      .add("changed", changed.join(u','))
                                      .add("policy_changes", imported)
                                      .add("revision",
                                           qint64(m_handler->policies().set().revision()))
                                      .add("restart_needed", restart.join(u','))
                                      .text();
    if (!restart.isEmpty())
        qCWarning(lcDaemon).noquote() << LogLine("changed options take effect at the next restart")
                                             .add("options", restart.join(u','))
                                             .text();
    return true;
}

void Greygated::finishShutdown()
{
    // Both servers stop gracefully; the store is closed once the last one has.
    if (m_smtp && !m_smtpStopped) {
        m_waitingForSmtp = true;
        return;
    }
    if (m_handler)
        m_handler->commit(); // whatever the last sweep left
    if (m_redis && !m_redis->drain(m_options.redisTimeoutMs * 4))
        qCWarning(lcDaemon).noquote() << LogLine("redis writes still in flight at shutdown").text();
    m_statsTimer.stop();
    if (m_events)
        saveStats();
    if (m_store)
        m_store->close();
    if (!m_options.pidFile.isEmpty())
        QFile::remove(m_options.pidFile);
    if (m_server) {
        const PolicyServer::Stats &s = m_server->stats();
        const GreylistPolicyHandler::Stats &h = m_handler->stats();
        qCInfo(lcDaemon).noquote() << LogLine("greygated stopped")
                                          .add("connections", qint64(s.connections))
                                          .add("requests", qint64(s.requests))
                                          .add("answers", qint64(s.answers))
                                          .add("deferred", qint64(h.deferred))
                                          .add("passed", qint64(h.passedNow))
                                          .add("rejected", qint64(h.rejected))
                                          .add("bypassed", qint64(h.bypassed))
                                          .add("outbound", qint64(h.outbound))
                                          .add("protocol_errors", qint64(s.protocolErrors))
                                          .add("internal_errors", qint64(s.internalErrors))
                                          .text();
    }
    Q_EMIT stopped();
}

quint16 Greygated::policyPort() const
{
    return m_server ? m_server->serverPort() : quint16(0);
}

quint16 Greygated::controlPort() const
{
    return m_control ? m_control->serverPort() : quint16(0);
}

QString Greygated::adminTokenPath() const
{
    return m_control ? ControlTokens::adminFile(m_options.dbDir) : QString();
}

int Greygated::startControl()
{
    if (m_options.controlHost.isEmpty())
        return ExitOk;
    ControlOptions options;
    options.address = m_options.controlHost.compare(u"localhost", Qt::CaseInsensitive) == 0
                          ? QHostAddress(QHostAddress::LocalHost)
                          : QHostAddress(m_options.controlHost);
    options.port = m_options.controlPort;
    options.tokenDir = m_options.dbDir;
    options.storeHealth = [this] {
        return storeHealth();
    };
    options.watch = findChild<DaemonWatch *>();
    options.tlsMode = ControlCertificate::parseMode(m_options.controlTls)
                          .value_or(ControlCertificate::Mode::Auto);
    options.tlsCertFile = m_options.controlTlsCert;
    options.tlsKeyFile = m_options.controlTlsKey;
    if (!m_options.hostname.isEmpty())
        options.proxyName = m_options.hostname;
    options.configSummary = QJsonObject{
        {u"listen"_s, QString(m_server->serverAddress().toString() + u':' +
                              QString::number(m_server->serverPort()))},
        {u"dbdir"_s, m_options.dbDir},
        {u"delay"_s, m_options.delaySeconds},
        {u"retryWindow"_s, m_options.retryWindowSeconds},
        {u"maxAgeDays"_s, m_options.maxAgeDays},
        {u"autoWhitelistClients"_s, qint64(m_options.autoWhitelistClients)},
        {u"sync"_s, DaemonOptions::syncName(m_options.sync)},
        {u"store"_s, m_store->kind()},
    };
    m_control = std::make_unique<ControlServer>(*m_engine, *m_store, *m_handler, *m_events, m_clock,
                                                options, this);
    if (m_redis)
        m_control->setSharedQueue(sharedQueue(m_redis->queue()));
    QString error;
    if (!m_control->start(&error)) {
        // The token files are the only other reason: an unreadable or too open token is an
        // environment problem, as a port in use is.
        logError("cannot start the control API", error);
        return ExitListen;
    }
    return ExitOk;
}

void Greygated::restoreStats()
{
    bool restored = false;
    QString error;
    const QString path = StatsFile::path(m_options.dbDir);
    if (!StatsFile::restore(*m_events, path, &restored, &error)) {
        // History is a convenience: a damaged file costs the dashboard's past, not the start.
        qCWarning(lcDaemon).noquote()
            << LogLine("statistics not restored, starting empty").add("error", error).text();
        return;
    }
    if (restored)
        qCInfo(lcDaemon).noquote() << LogLine("statistics restored").add("file", path).text();
}

void Greygated::saveStats()
{
    QString error;
    if (const DaemonWatch *watch = findChild<DaemonWatch *>();
        watch && !watch->saveDelays(DaemonWatch::delayPath(m_options.dbDir), &error))
        qCWarning(lcDaemon).noquote()
            << LogLine("cannot save the delay statistics").add("error", error).text();
    if (!StatsFile::save(*m_events, StatsFile::path(m_options.dbDir), &error))
        qCWarning(lcDaemon).noquote()
            << LogLine("cannot save the statistics").add("error", error).text();
}

int Greygated::startMetrics()
{
    if (m_options.metricsHost.isEmpty())
        return ExitOk;
    MetricsServer::Options options;
    if (m_options.metricsHost.compare(u"localhost", Qt::CaseInsensitive) == 0)
        options.address = QHostAddress(QHostAddress::LocalHost);
    else if (!options.address.setAddress(m_options.metricsHost)) {
        logError("bad --metrics-listen",
                 u"\"" + m_options.metricsHost + u"\" is not an IP address");
        return ExitUsage;
    }
    options.port = m_options.metricsPort;
    if (!options.address.isLoopback()) {
        // Allowed (Prometheus often scrapes from elsewhere), but the figures tell traffic
        // volumes: say so once.
        qCWarning(lcDaemon).noquote()
            << LogLine("metrics served beyond loopback, without authentication")
                   .add("address", options.address.toString())
                   .text();
    }
    m_startedAt = m_clock.now();
    m_metrics = std::make_unique<MetricsServer>(
        options,
        [this] {
            MetricsRenderer::Inputs in;
            in.engine = m_engine.get();
            in.handler = m_handler.get();
            in.server = m_server.get();
            in.events = m_events.get();
            if (m_smtp) {
                const SmtpServer::Stats s = m_smtp->stats();
                MetricsRenderer::SmtpFigures f;
                f.sessionsOpen = quint64(m_smtp->sessionCount());
                f.sessionsTotal = s.sessions;
                f.refusedConnections = s.refusedTotal;
                f.refusedPerClient = s.refusedPerClient;
                f.refusedRate = s.refusedRate;
                f.recipientsDeferred = s.recipientsDeferred;
                f.recipientsRejected = s.recipientsRejected;
                f.messagesRelayed = s.messagesRelayed;
                f.messagesRefused = s.messagesRefused;
                f.backendFailures = s.backendFailures;
                const BackendPool::Stats pool = m_smtp->poolStats(); // every I/O thread's
                f.backendPool = m_smtp->poolEnabled();
                f.poolIdle = quint64(m_smtp->poolIdleCount());
                f.poolOpened = s.backendOpened + pool.preopened;
                f.poolReused = pool.taken;
                f.poolClosed = pool.closed;
                in.smtp = f;
            }
            in.uptimeSeconds = m_clock.now() - m_startedAt;
            QByteArray text = MetricsRenderer::render(in);
            if (m_redis)
                text += m_redis->metricsText();
            return text;
        },
        // Unhealthy while the store refuses commits (decisions are then not answered) and
        // while shutting down.
        [this] {
            return m_handler->storeHealthy() && !m_stopping && (!m_redis || m_redis->healthy());
        },
        this);
    QString error;
    if (!m_metrics->start(&error)) {
        logError("cannot start the metrics server", error);
        return ExitListen;
    }
    return ExitOk;
}

int Greygated::startSmtp()
{
    if (m_options.smtpListenHost.isEmpty())
        return ExitOk;
    SmtpProxyOptions o;
    const char *option = nullptr;
    QString why;
    if (!smtpProxyOptionsFrom(m_options, &o, &option, &why)) {
        logError(option, why);
        return ExitUsage;
    }
    // Through the recorder, so proxy attempts reach the event log and the live view.
    m_smtpDecider =
        std::make_unique<PolicyHandlerDecider>(*m_recorder, *m_handler, *m_engine, m_clock);
    m_smtpDecider->setEventLog(m_events.get()); // HELO, TLS and source on proxy attempts
    // Redis mode: attempts recorded when their answer comes, with the session's origin.
    m_smtpDecider->setRecorder(
        [recorder = m_recorder.get()](const DecisionOutcome &outcome, const QByteArray &client,
                                      const QByteArray &sender, const QByteArray &recipient) {
            recorder->record(outcome, client, sender, recipient);
        });
    m_smtp = std::make_unique<SmtpServer>(o, *m_smtpDecider);
    m_smtp->setEventLog(m_events.get(), &m_clock); // one Message event per message
    QString error;
    if (!m_smtp->listen(&error)) {
        logError("cannot start the SMTP proxy", error);
        return ExitListen;
    }
    return ExitOk;
}

bool Greygated::writePidFile(QString *error)
{
    QSaveFile file(m_options.pidFile);
    if (!file.open(QIODevice::WriteOnly) ||
        file.write(QByteArray::number(QCoreApplication::applicationPid()) + '\n') < 0 ||
        !file.commit()) {
        *error = m_options.pidFile + u": " + file.errorString();
        return false;
    }
    return true;
}

QString Greygated::storeKind() const
{
    return m_store ? m_store->kind() : QString();
}

QString Greygated::storeHealth() const
{
    if (m_redis)
        return m_redis->health();
    return m_handler && !m_handler->storeHealthy() ? QStringLiteral("failing")
                                                   : QStringLiteral("ok");
}

int Greygated::openRedis(const GreylistConfig &config)
{
    QString error;
    std::optional<RedisOptions> redis = RedisOptions::fromUrl(m_options.store, &error);
    if (!redis) {
        logError("bad --store", error);
        return ExitUsage;
    }
    if (!m_options.redisPasswordFile.isEmpty() &&
        !redis->readPasswordFile(m_options.redisPasswordFile, &error)) {
        logError("bad --redis-password-file", error);
        return ExitUsage;
    }
    redis->timeoutMs = m_options.redisTimeoutMs;
    redis->failOpen = m_options.redisFailOpen;
    auto store = std::make_unique<RedisStore>(*redis, config);
    m_redis = std::make_unique<RedisRuntime>(*store, *redis, config, this);
    m_store = std::move(store);
    return ExitOk;
}

int Greygated::migrateStore()
{
    StoreMigration::Options options;
    options.from = m_options.migrateFrom;
    options.to = m_options.migrateTo;
    options.timing = greylistConfig(m_options);
    options.redis.timeoutMs = std::max(m_options.redisTimeoutMs, 5'000);
    QString error;
    if (!m_options.redisPasswordFile.isEmpty() &&
        !options.redis.readPasswordFile(m_options.redisPasswordFile, &error)) {
        logError("bad --redis-password-file", error);
        return ExitUsage;
    }
    StoreMigration::Result result;
    if (!StoreMigration::run(options, &result, &error)) {
        logError("store migration failed", error);
        return ExitStore;
    }
    qCInfo(lcDaemon).noquote() << LogLine("store migrated")
                                      .add("from", options.from)
                                      .add("to", options.to)
                                      .add("triplets", result.triplets)
                                      .add("clients", result.clients)
                                      .add("documents", result.documents)
                                      .add("rejections", result.rejections)
                                      .add("audit", result.audit)
                                      .text();
    // Nothing to serve: stop as soon as the caller runs the event loop.
    QMetaObject::invokeMethod(this, &Greygated::stopped, Qt::QueuedConnection);
    return ExitOk;
}

} // namespace greygate
