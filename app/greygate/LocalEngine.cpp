// SPDX-License-Identifier: GPL-3.0-or-later
#include "LocalEngine.h"

#include "client/ProxyRegistry.h"
#include "config/DaemonOptions.h"
#include "control/ControlTokens.h"
#include "daemon/ExitCode.h"
#include "daemon/Greygated.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QMutex>
#include <QStandardPaths>
#include <functional>
#include <mutex>

namespace greygate {

namespace {

// Greygated tells why it could not start in its log (qCCritical): the console keeps the last
// such line of the engine's thread to show it to the admin instead of a bare exit code.
QMutex g_logMutex;
QString g_lastCritical;
QtMessageHandler g_previousHandler = nullptr;

void captureCritical(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (type == QtCriticalMsg) {
        QMutexLocker lock(&g_logMutex);
        g_lastCritical = message;
    }
    if (g_previousHandler)
        g_previousHandler(type, context, message);
}

QString takeLastCritical()
{
    QMutexLocker lock(&g_logMutex);
    return std::exchange(g_lastCritical, QString());
}

QString advice(int exitCode, const LocalEngine::Options &o)
{
    switch (exitCode) {
    case ExitListen:
        return LocalEngine::tr("Another greygated or postgrey may already listen on %1:%2: stop "
                               "it, or start the console with --engine-inet=HOST:PORT.")
            .arg(o.policyHost)
            .arg(o.policyPort);
    case ExitStore:
        return LocalEngine::tr("The database in %1 could not be opened: check its permissions "
                               "and free space, or start the console with --dbdir=DIR.")
            .arg(o.dbDir);
    case ExitUsage:
        return LocalEngine::tr("The engine's configuration was refused.");
    default:
        return LocalEngine::tr("The engine stopped with exit code %1.").arg(exitCode);
    }
}

} // namespace

LocalEngine::LocalEngine(ProxyRegistry &registry, Options options, QObject *parent)
    : EngineControl(parent)
    , m_registry(registry)
    , m_options(std::move(options))
{
    if (m_options.dbDir.isEmpty())
        m_options.dbDir = defaultDbDir();
    static std::once_flag installed;
    std::call_once(installed, [] { g_previousHandler = qInstallMessageHandler(captureCritical); });
    m_thread.setObjectName(QStringLiteral("greygate-engine"));
    m_anchor = new QObject;
    m_anchor->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_anchor, &QObject::deleteLater);
    m_thread.start();
}

LocalEngine::~LocalEngine()
{
    if (m_state == State::Running || m_state == State::Starting) {
        stop();
        waitSettled(15'000);
    }
    m_thread.quit();
    m_thread.wait(15'000);
    if (ProxyConnection *c = m_registry.connection(QString(kProxyId)))
        c->close();
}

QString LocalEngine::defaultDbDir()
{
    const QString env = qEnvironmentVariable("GREYGATE_DBDIR");
    if (!env.isEmpty())
        return env;
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           QStringLiteral("/greygate");
}

QString LocalEngine::policyAddress() const
{
    if (m_state != State::Running)
        return {};
    return m_options.policyHost + u':' + QString::number(m_policyPort);
}

void LocalEngine::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void LocalEngine::runOnEngineThread(std::function<void()> work)
{
    QMetaObject::invokeMethod(m_anchor, std::move(work), Qt::QueuedConnection);
}

void LocalEngine::start()
{
    if (m_state == State::Running || m_state == State::Starting || m_state == State::Stopping)
        return;
    m_error.clear();
    setState(State::Starting);

    DaemonOptions o;
    o.dbDir = m_options.dbDir;
    o.listenHost = m_options.policyHost;
    o.listenPort = m_options.policyPort;
    o.controlHost = QStringLiteral("127.0.0.1");
    o.controlPort = 0;
    const Options mine = m_options;
    runOnEngineThread([this, o, mine] {
        takeLastCritical();
        auto *daemon = new Greygated(o);
        const int rc = daemon->start();
        if (rc != ExitOk) {
            const QString logged = takeLastCritical();
            delete daemon;
            QMetaObject::invokeMethod(
                this, [this, rc, logged] { onFailed(rc, logged); }, Qt::QueuedConnection);
            return;
        }
        m_daemon = daemon;
        connect(daemon, &Greygated::stopped, m_anchor, [this, daemon] {
            daemon->deleteLater();
            if (m_daemon == daemon)
                m_daemon = nullptr;
            QMetaObject::invokeMethod(
                this, [this] { onStopped(); }, Qt::QueuedConnection);
        });
        const quint16 policy = daemon->policyPort();
        const quint16 control = daemon->controlPort();
        const QString tokenPath = daemon->adminTokenPath();
        QMetaObject::invokeMethod(
            this, [this, policy, control, tokenPath] { onStarted(policy, control, tokenPath); },
            Qt::QueuedConnection);
    });
}

void LocalEngine::stop()
{
    if (m_state != State::Running && m_state != State::Starting)
        return;
    setState(State::Stopping);
    if (ProxyConnection *c = m_registry.connection(QString(kProxyId)))
        c->close(); // before the server goes: no reconnect attempts into a stopping engine
    runOnEngineThread([this] {
        if (m_daemon)
            m_daemon->shutdown(); // -> stopped -> onStopped
        else
            QMetaObject::invokeMethod(
                this, [this] { onStopped(); }, Qt::QueuedConnection);
    });
}

void LocalEngine::onStarted(quint16 policyPort, quint16 controlPort, const QString &tokenPath)
{
    m_policyPort = policyPort;
    m_controlPort = controlPort;
    QString error;
    const std::optional<QByteArray> token = ControlTokens::readFile(tokenPath, &error);
    if (!token) {
        m_error = tr("The engine started but its token could not be read: %1").arg(error);
        stop();
        return;
    }
    ProxyEndpoint e;
    e.id = QString(kProxyId);
    e.name = tr("Bundled engine");
    e.url = QUrl(QStringLiteral("ws://127.0.0.1:%1").arg(controlPort));
    e.token = *token;
    e.local = true;
    if (m_registry.endpoint(e.id)) {
        m_registry.update(e);
        m_registry.connection(e.id)->open();
    } else {
        m_registry.add(e);
    }
    if (m_state == State::Stopping)
        return; // stop() came while it was starting: stopped() follows
    setState(State::Running);
}

void LocalEngine::onFailed(int exitCode, const QString &logged)
{
    m_error = logged.isEmpty() ? advice(exitCode, m_options)
                               : logged + u'\n' + advice(exitCode, m_options);
    setState(State::Failed);
}

void LocalEngine::onStopped()
{
    m_policyPort = 0;
    m_controlPort = 0;
    if (ProxyConnection *c = m_registry.connection(QString(kProxyId)))
        c->close();
    setState(m_error.isEmpty() ? State::Stopped : State::Failed);
}

bool LocalEngine::waitSettled(int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (m_state == State::Starting || m_state == State::Stopping) {
        if (deadline.hasExpired())
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        QThread::msleep(5);
    }
    return true;
}

} // namespace greygate
