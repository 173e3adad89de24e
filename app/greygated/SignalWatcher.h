// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QSocketNotifier>
#include <memory>

namespace greygate {

// Turns SIGTERM and SIGINT (shutdown) and SIGHUP (reload, as systemd's ExecReload sends it)
// into Qt signals on the event loop (the self-pipe trick): a signal handler may only
// write(2), so the shutdown and the reload run as ordinary code.
class SignalWatcher : public QObject
{
    Q_OBJECT

public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

    bool install(QString *error);

Q_SIGNALS:
    void terminationRequested(int signalNumber);
    void reloadRequested();

private:
    void readSignal();

    std::unique_ptr<QSocketNotifier> m_notifier;
};

} // namespace greygate
