// SPDX-License-Identifier: GPL-3.0-or-later
#include "Greygated.h"

#include "ExitCode.h"
#include "PolicyStartup.h"
#include "greylist/GreylistEngine.h"
#include "policyd/GreylistPolicyHandler.h"
#include "policyd/PolicyServer.h"
#include "store/SqliteStore.h"
#include "util/LogLine.h"
#include "util/Version.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLoggingCategory>
#include <QSaveFile>
#include <QSysInfo>

Q_LOGGING_CATEGORY(lcDaemon, "greygate.daemon", QtInfoMsg)

namespace greygate {

namespace {

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
    return c;
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
    m_server.reset();
    m_handler.reset();
    if (m_store)
        m_store->close();
}

int Greygated::start()
{
    QHostAddress address;
    if (m_options.listenHost.compare(u"localhost", Qt::CaseInsensitive) == 0)
        address = QHostAddress(QHostAddress::LocalHost);
    else if (!address.setAddress(m_options.listenHost)) {
        logError("bad --inet", u"\"" + m_options.listenHost + u"\" is not an IP address");
        return ExitUsage;
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

    SqliteStoreOptions storeOptions;
    storeOptions.dbdir = m_options.dbDir;
    storeOptions.sync =
        m_options.sync == DaemonOptions::SyncMode::Full ? SyncMode::Full : SyncMode::Process;
    m_store = std::make_unique<SqliteStore>(storeOptions);
    m_engine = std::make_unique<GreylistEngine>(greylistConfig(m_options), m_clock);
    m_handler = std::make_unique<GreylistPolicyHandler>(*m_engine, *m_store, m_clock, policy, this);
    m_server = std::make_unique<PolicyServer>(*m_handler, serverOptions, this);
    connect(m_server.get(), &PolicyServer::shutdownFinished, this, &Greygated::finishShutdown);

    // Listen first: a port in use fails at once, before a long load; Postfix connections
    // that arrive during the load wait in the kernel's backlog rather than being refused.
    if (!m_server->listen(address, m_options.listenPort, &error)) {
        logError("cannot listen", error);
        return ExitListen;
    }

    QElapsedTimer loading;
    loading.start();
    if (!QDir().mkpath(m_options.dbDir)) {
        logError("cannot create the database directory", m_options.dbDir);
        return ExitStore;
    }
    if (!m_store->open(&error)) {
        logError("cannot open the store", m_options.dbDir + u": " + error);
        return ExitStore;
    }
    if (!m_engine->load(*m_store, &error)) {
        logError("cannot load the greylist", m_options.dbDir + u": " + error);
        return ExitStore;
    }
    if (!m_handler->policies().load(*m_store, &error)) {
        logError("cannot load the policies", m_options.dbDir + u": " + error);
        return ExitStore;
    }
    const quint64 failedCommits = m_handler->stats().failedCommits;
    const quint64 revisionBefore = m_handler->policies().set().revision();
    if (const ChangeOutcome applied = policies.apply(*m_handler, m_clock.now()); !applied.ok()) {
        const bool stored = m_handler->stats().failedCommits == failedCommits;
        logError(stored ? "invalid policy configuration" : "cannot save the policies",
                 (stored ? m_options.policiesFile + u": " : m_options.dbDir + u": ") +
                     applied.error);
        return stored ? ExitUsage : ExitStore;
    }
    if (!m_options.pidFile.isEmpty() && !writePidFile(&error)) {
        logError("cannot write the pid file", error);
        return ExitRuntimeError;
    }
    m_handler->startSweeping();

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
    if (m_server)
        m_server->shutdown(); // -> shutdownFinished -> finishShutdown
    else
        finishShutdown();
}

void Greygated::finishShutdown()
{
    if (m_handler)
        m_handler->commit(); // whatever the last sweep left
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

} // namespace greygate
