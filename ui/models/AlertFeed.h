// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "client/ProxyConnection.h"

#include <QDateTime>
#include <QHash>
#include <QObject>
#include <QTimer>

namespace greygate {

class ProxyRegistry;

// The console's alerts (docs/console.md, "Alerts"): the proxies' own ("alert" events:
// deferral spike, failed-to-retry spike, store trouble) and what only the console can see:
// a proxy that was connected and is lost (after `lostGraceSeconds`, so a quick reconnect is
// not an alert), or connected but silent (no event for `silentMinutes` while it sends its
// events). Each becomes notify(); the main window shows it as a desktop notification or in
// its notification bar. Qt Core only.
class AlertFeed : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        int lostGraceSeconds = 30;
        int silentMinutes = 15;
        int checkIntervalMs = 5'000;
    };

    explicit AlertFeed(ProxyRegistry &registry, QObject *parent = nullptr);
    AlertFeed(ProxyRegistry &registry, Options options, QObject *parent = nullptr);

    // The check the timer runs, with the time to judge by (tests pass their own).
    void check(const QDateTime &now);

Q_SIGNALS:
    // title: "<proxy>: <what>", text: one line; cleared: the condition is over.
    void notify(const QString &title, const QString &text, bool cleared);

private:
    struct Proxy
    {
        ProxyConnection::State state = ProxyConnection::State::Disconnected;
        QDateTime lostSince;
        QDateTime lastEvent;
        bool wasConnected = false;
        bool lostAlerted = false;
        bool silentAlerted = false;
    };
    void onState(const QString &id, ProxyConnection::State state);
    void onEvents(const QString &id, const QJsonArray &events);
    QString nameOf(const QString &id) const;

    ProxyRegistry &m_registry;
    Options m_options;
    QHash<QString, Proxy> m_proxies;
    QTimer m_timer;
};

} // namespace greygate
