// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "widgets/EngineControl.h"

#include <QThread>
#include <functional>

namespace greygate {

class Greygated;
class ProxyRegistry;

// The console's bundled engine: greygated's own composition (engine/daemon/Greygated) run
// in-process on its own QThread, with its control API on 127.0.0.1 and an ephemeral port,
// reached through ProxyRegistry like any remote proxy (DESIGN.md §2: one code path). Loading
// a large store takes seconds, so start() returns at once and the engine comes up on its
// thread; the GUI hears of it through stateChanged(). Once running it registers itself in
// the registry as the local proxy (kProxyId) with the admin token the daemon created.
class LocalEngine : public EngineControl
{
    Q_OBJECT

public:
    struct Options
    {
        QString dbDir; // empty: defaultDbDir()
        // Postfix's check_policy_service address: postgrey's, so the console is a drop-in.
        QString policyHost = QStringLiteral("127.0.0.1");
        quint16 policyPort = 10023; // 0: an ephemeral port (tests)
    };

    static constexpr QLatin1String kProxyId{"local"};

    LocalEngine(ProxyRegistry &registry, Options options, QObject *parent = nullptr);
    ~LocalEngine() override; // stops the engine (bounded wait) and its thread

    // $GREYGATE_DBDIR (tests), else ~/.local/share/greygate.
    static QString defaultDbDir();

    void start() override;
    void stop() override;
    State state() const override { return m_state; }
    QString error() const override { return m_error; }
    QString dbDir() const override { return m_options.dbDir; }
    QString policyAddress() const override;
    quint16 controlPort() const { return m_controlPort; }
    quint16 policyPort() const { return m_policyPort; }

    // Waits (bounded) until state() is neither Starting nor Stopping; for shutdown and tests.
    bool waitSettled(int timeoutMs);

private:
    void setState(State state);
    void onStarted(quint16 policyPort, quint16 controlPort, const QString &tokenPath);
    void onFailed(int exitCode, const QString &logged);
    void onStopped();
    void runOnEngineThread(std::function<void()> work);

    ProxyRegistry &m_registry;
    Options m_options;
    QThread m_thread;
    QObject *m_anchor = nullptr;   // lives on m_thread: the context of work posted there
    Greygated *m_daemon = nullptr; // touched only on m_thread
    State m_state = State::Stopped;
    QString m_error;
    quint16 m_policyPort = 0;
    quint16 m_controlPort = 0;
};

} // namespace greygate
