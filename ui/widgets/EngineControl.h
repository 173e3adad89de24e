// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QObject>
#include <QString>

namespace greygate {

// What the console's pages may do with the bundled local engine, without depending on the
// engine (app/greygate/LocalEngine implements it; ui/ links no engine library).
class EngineControl : public QObject
{
    Q_OBJECT

public:
    enum class State
    {
        Stopped,
        Starting,
        Running,
        Stopping,
        Failed, // error() says why and what to do
    };
    Q_ENUM(State)

    using QObject::QObject;

    virtual void start() = 0;
    virtual void stop() = 0;
    virtual State state() const = 0;
    virtual QString error() const = 0;
    // Where it keeps its state, and what it listens on (for the Proxies page).
    virtual QString dbDir() const = 0;
    virtual QString policyAddress() const = 0; // "127.0.0.1:10023" while running
    static QString stateName(State state);

Q_SIGNALS:
    void stateChanged(greygate::EngineControl::State state);
};

} // namespace greygate
